//! Routes the platform itself serves: health, metrics, the OpenAPI document and its docs page,
//! and the admin view of the event bus's dead letters.

use std::sync::{Arc, OnceLock};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kernel::{Actor, ApiError, Page, PageQuery, Permission};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::bus::{self, DeadLetter};
use crate::db::Db;
use crate::http::limit::{rate_limited, ClassPolicy};
use crate::ratelimit::RateLimiter;
use crate::telemetry;

pub struct OpsState {
    pub db: Db,
    /// Filled once every module's routes are merged: the public document and the internal one.
    pub openapi: OnceLock<String>,
    pub internal_openapi: OnceLock<String>,
    /// The event catalogue of the modules of this process (AsyncAPI 3).
    pub asyncapi: OnceLock<String>,
    /// The shared services this process depends on beyond its database, set at start.
    pub dependencies: OnceLock<Dependencies>,
}

/// NATS and Redis, when configured: readiness reports them.
#[derive(Clone, Default)]
pub struct Dependencies {
    pub bus: Option<crate::bus::NatsBus>,
    pub cache: Option<redis::aio::ConnectionManager>,
}

type Ops = State<Arc<OpsState>>;

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthStatus {
    /// `up`; `degraded` when a dependency whose outage the design tolerates is down (the bus:
    /// events wait in the outbox); `down` when this process cannot serve.
    #[schema(value_type = String, example = "up")]
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
    /// NATS JetStream, when the bus runs on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bus: Option<&'static str>,
    /// Redis, when caches and rate limits are shared through it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<&'static str>,
}

/// `metrics`: whether `/metrics` is served here (not when it has a listener of its own).
pub fn routes(
    state: Arc<OpsState>,
    limiter: Option<Arc<dyn RateLimiter>>,
    metrics: bool,
) -> OpenApiRouter {
    let admin = rate_limited(
        OpenApiRouter::new()
            .routes(routes!(list_dead_letters))
            .routes(routes!(replay_dead_letter)),
        limiter,
        ClassPolicy::ByMethod,
    );
    let internal = OpenApiRouter::new()
        .routes(routes!(internal_openapi_json))
        .layer(axum::middleware::from_fn(super::internal_only));
    let mut router = OpenApiRouter::new()
        .routes(routes!(live))
        .routes(routes!(ready));
    if metrics {
        router = router.routes(routes!(self::metrics));
    }
    router
        .routes(routes!(openapi_json))
        .routes(routes!(asyncapi_json))
        .routes(routes!(docs_page))
        .routes(routes!(docs_asset))
        .merge(admin)
        .merge(internal)
        .with_state(state)
}

/// Liveness: the process is up and serving.
#[utoipa::path(get, path = "/health/live", tag = "operations",
    responses((status = 200, body = HealthStatus)))]
async fn live() -> Json<HealthStatus> {
    Json(HealthStatus {
        status: "up",
        database: None,
        bus: None,
        cache: None,
    })
}

/// Readiness: the database answers, and Redis when this process shares limits and the token
/// denylist through it. A process that is not ready is taken out of rotation by the gateway (or
/// a load balancer). NATS being down only degrades it: events wait in the outbox and go out
/// when NATS is back, so taking every instance out of service would turn a tolerated outage
/// into a total one.
#[utoipa::path(get, path = "/health/ready", tag = "operations",
    responses((status = 200, description = "Ready (`up`, or `degraded` while NATS is down)", body = HealthStatus),
        (status = 503, description = "Not ready", body = HealthStatus)))]
async fn ready(State(state): Ops) -> Response {
    let timeout = std::time::Duration::from_secs(2);
    let label = |up: bool| if up { "up" } else { "down" };
    let database = matches!(
        tokio::time::timeout(timeout, state.db.ping()).await,
        Ok(Ok(()))
    );
    let dependencies = state.dependencies.get().cloned().unwrap_or_default();
    let bus = dependencies.bus.as_ref().map(|bus| bus.connected());
    let cache = match dependencies.cache {
        Some(mut connection) => {
            let command = redis::cmd("PING");
            let ping = command.query_async::<String>(&mut connection);
            Some(matches!(
                tokio::time::timeout(timeout, ping).await,
                Ok(Ok(_))
            ))
        }
        None => None,
    };
    let up = database && cache != Some(false);
    let status = match (up, bus) {
        (false, _) => "down",
        (true, Some(false)) => "degraded",
        (true, _) => "up",
    };
    let body = Json(HealthStatus {
        status,
        database: Some(label(database)),
        bus: bus.map(label),
        cache: cache.map(label),
    });
    if up {
        body.into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        telemetry::render_metrics(),
    )
        .into_response()
}

/// This document: OpenAPI 3.1 for every route.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json(State(state): Ops) -> Response {
    document_response(&state.openapi)
}

/// The event catalogue: every event type, the module that publishes it, its consumers among
/// the modules of this process, and its payload schema (AsyncAPI 3).
#[utoipa::path(get, path = "/asyncapi.json", tag = "operations",
    responses((status = 200, description = "AsyncAPI 3.0 document", content_type = "application/json")))]
async fn asyncapi_json(State(state): Ops) -> Response {
    document_response(&state.asyncapi)
}

/// The internal routes modules call on each other (service tokens with the `internal` scope).
#[utoipa::path(get, path = "/internal/openapi.json", tag = "internal",
    security(("bearer" = [])),
    responses((status = 200, description = "OpenAPI 3.1 document of the internal routes", content_type = "application/json")))]
async fn internal_openapi_json(State(state): Ops) -> Response {
    document_response(&state.internal_openapi)
}

/// A document set at start-up; `{}` only if a request races the start.
fn document_response(document: &OnceLock<String>) -> Response {
    let body = document.get().cloned().unwrap_or_else(|| "{}".to_owned());
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

const DOCS_HTML: &str = include_str!("../../assets/docs.html");
const SWAGGER_JS: &[u8] = include_bytes!("../../assets/swagger-ui-bundle.js");
const SWAGGER_CSS: &[u8] = include_bytes!("../../assets/swagger-ui.css");
/// The docs page runs the bundled Swagger UI from this origin only: no CDN, works offline.
const DOCS_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'";

/// Human-readable API documentation (Swagger UI served from this binary).
#[utoipa::path(get, path = "/docs", tag = "operations",
    responses((status = 200, description = "HTML page", content_type = "text/html")))]
async fn docs_page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, DOCS_CSP),
        ],
        DOCS_HTML,
    )
        .into_response()
}

/// Static assets of the docs page.
#[utoipa::path(get, path = "/docs/assets/{file}", tag = "operations",
    params(("file" = String, Path, description = "Asset file name")),
    responses((status = 200, description = "Asset"), (status = 404, body = kernel::error::Problem)))]
async fn docs_asset(Path(file): Path<String>) -> Response {
    let (content_type, body): (&str, &'static [u8]) = match file.as_str() {
        "swagger-ui-bundle.js" => ("text/javascript", SWAGGER_JS),
        "swagger-ui.css" => ("text/css", SWAGGER_CSS),
        "init.js" => ("text/javascript", include_bytes!("../../assets/init.js")),
        _ => return ApiError::not_found("asset_not_found", "No such asset").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}

/// Events that kept failing for a consumer and were parked, newest first (admin).
#[utoipa::path(get, path = "/api/v1/admin/events/dead-letters", tag = "admin",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Page<DeadLetter>),
        (status = 401, body = kernel::error::Problem),
        (status = 403, body = kernel::error::Problem)))]
async fn list_dead_letters(
    State(state): Ops,
    actor: Actor,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<DeadLetter>>, ApiError> {
    actor.require(Permission::AdminEvents)?;
    let before = page.id_cursor()?;
    let limit = page.limit();
    let rows = bus::dispatcher::list_dead_letters(&state.db, limit + 1, before)
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "listing dead letters failed");
            ApiError::internal()
        })?;
    Ok(Json(Page::from_overfetch(rows, limit, |d| {
        d.id.to_string()
    })))
}

/// Puts a dead letter back on the retry queue, due now (admin).
#[utoipa::path(post, path = "/api/v1/admin/events/dead-letters/{id}/retry", tag = "admin",
    params(("id" = Uuid, Path, description = "Dead letter id")),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued for retry"),
        (status = 404, body = kernel::error::Problem)))]
async fn replay_dead_letter(
    State(state): Ops,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    actor.require(Permission::AdminEvents)?;
    let replayed = bus::dispatcher::replay_dead_letter(&state.db, id)
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "replaying dead letter failed");
            ApiError::internal()
        })?;
    if replayed {
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(ApiError::not_found(
            "dead_letter_not_found",
            "No such dead letter",
        ))
    }
}
