//! The documents a set of modules makes: the OpenAPI documents (public and internal) and the
//! event catalogue, built while their routes are assembled, and offline for the CLI.

use super::*;

fn base_document() -> utoipa::openapi::OpenApi {
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Pasar API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Multi-merchant commerce and digital-voucher marketplace. Errors are RFC 9457 \
                     problem+json with a stable `code`.",
                ))
                .build(),
        )
        .components(Some(
            ComponentsBuilder::new()
                .security_scheme(
                    "bearer",
                    SecurityScheme::Http(
                        HttpBuilder::new()
                            .scheme(HttpAuthScheme::Bearer)
                            .bearer_format("JWT")
                            .build(),
                    ),
                )
                .build(),
        ))
        .build()
}

pub(super) struct Assembled {
    pub(super) router: Router,
    pub(super) documents: Documents,
    pub(super) parts: Vec<(&'static str, ModuleParts)>,
    pub(super) ops: Arc<ops::OpsState>,
}

/// The OpenAPI documents of a set of modules, finished (see [`crate::openapi`]).
pub struct Documents {
    pub public: serde_json::Value,
    pub internal: serde_json::Value,
    /// Operation ids used twice, schema names defined differently by two modules.
    pub problems: Vec<String>,
    /// The event catalogue (AsyncAPI 3) and what is wrong in it.
    pub events: serde_json::Value,
    pub event_problems: Vec<String>,
}

/// Builds each module with the context `ctx_of` gives it (its own database, when it has one).
/// `elsewhere`: the modules of other processes, whose events the catalogue shows too.
pub(super) fn assemble_routes(
    ctx: &Context,
    modules: &[Module],
    elsewhere: &[Module],
    ctx_of: impl Fn(&Module) -> Context,
) -> Assembled {
    let ops_state = Arc::new(ops::OpsState {
        db: ctx.db.clone(),
        openapi: OnceLock::new(),
        internal_openapi: OnceLock::new(),
        asyncapi: OnceLock::new(),
        dependencies: OnceLock::new(),
    });
    let mut api = OpenApiRouter::with_openapi(base_document()).merge(ops::routes(
        ops_state.clone(),
        ctx.limiter.clone(),
        ctx.config.http.metrics_addr.is_none(),
    ));
    // Each source's schemas, to find names two modules define differently (merging keeps one).
    let schemas_of = |router: &OpenApiRouter| {
        router
            .get_openapi()
            .components
            .as_ref()
            .map(|c| serde_json::to_value(&c.schemas).unwrap_or_default())
            .unwrap_or_default()
    };
    let mut sources = vec![("platform", schemas_of(&api))];
    let mut parts = Vec::new();
    for module in modules {
        let mut built = (module.build)(&ctx_of(module));
        sources.push((module.name, schemas_of(&built.routes)));
        api = api.merge(std::mem::take(&mut built.routes));
        parts.push((module.name, built));
    }
    let (router, openapi) = api.split_for_parts();
    let mut document = serde_json::to_value(&openapi).unwrap_or_default();
    crate::openapi::finish(&mut document);
    let problems = crate::openapi::problems(
        &document,
        sources.iter().map(|(name, schemas)| (*name, schemas)),
    );
    for problem in &problems {
        tracing::error!(problem = %problem, "the OpenAPI document is wrong");
    }
    let (events, event_problems) = crate::asyncapi::document(
        &crate::asyncapi::Catalogue {
            modules: modules.iter().chain(elsewhere).collect(),
            consumers: parts
                .iter()
                .map(|(name, built)| {
                    let types = built.subscriptions.iter();
                    (*name, types.flat_map(|s| s.event_types.clone()).collect())
                })
                .collect(),
        },
        env!("CARGO_PKG_VERSION"),
    );
    for problem in &event_problems {
        tracing::error!(problem = %problem, "the event catalogue is wrong");
    }
    let _ = ops_state.asyncapi.set(pretty(&events));
    let (public, internal) = crate::openapi::split(document);
    let _ = ops_state.openapi.set(pretty(&public));
    let _ = ops_state.internal_openapi.set(pretty(&internal));
    Assembled {
        router,
        documents: Documents {
            public,
            internal,
            problems,
            events,
            event_problems,
        },
        parts,
        ops: ops_state,
    }
}

fn pretty(document: &serde_json::Value) -> String {
    serde_json::to_string_pretty(document).unwrap_or_else(|_| "{}".to_owned())
}

/// The finished public OpenAPI document of the given modules, produced without touching any
/// database.
pub fn openapi_document(config: Config, modules: &[Module]) -> String {
    pretty(&openapi_documents(config, modules).public)
}

/// The finished documents of the given modules: public, internal, and what is wrong in them.
pub fn openapi_documents(config: Config, modules: &[Module]) -> Documents {
    let ctx = offline_context(config);
    assemble_routes(&ctx, modules, &[], |_| ctx.clone()).documents
}

/// The OpenAPI document of the given modules as their handlers declare it (unfinished; the
/// gateway reads each module's routes from it).
pub fn openapi(config: Config, modules: &[Module]) -> utoipa::openapi::OpenApi {
    let ctx = offline_context(config);
    let mut api = OpenApiRouter::new();
    for module in modules {
        api = api.merge((module.build)(&ctx).routes);
    }
    api.into_openapi()
}

fn offline_context(config: Config) -> Context {
    let db = Db::offline();
    let keyring = Arc::new(Keyring::empty(db.clone()));
    let code_keyring = Arc::new(Keyring::empty(db.clone()));
    assemble(
        config,
        db,
        keyring,
        code_keyring,
        Arc::new(MemoryCache::default()),
        None,
    )
}
