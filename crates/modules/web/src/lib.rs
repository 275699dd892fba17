//! web: the portals, server-rendered by the binary. `/admin` runs the marketplace, `/merchant`
//! runs a shop and its counter, `/` is the customer's shop and wallet. Every page reads and
//! changes through the public API as the signed-in visitor (`backend.rs`), so the API's rules
//! authorize the portals exactly as they authorize apps. No Node build: templates, a vendored
//! htmx and two small scripts, all compiled into the binary.

mod admin;
mod assets;
mod auth;
mod backend;
pub mod config;
mod customer;
mod error;
mod headers;
mod i18n;
mod merchant;
mod render;
mod session;
mod table;

use std::sync::Arc;

use axum::middleware;
use axum::Router;
use platform::{Context, Module, ModuleParts};
use utoipa_axum::router::OpenApiRouter;

use crate::backend::Backend;
use crate::config::WebConfig;
use crate::render::Views;
use crate::session::Cookies;

/// What the pages need, shared by every handler. Cheap to clone.
#[derive(Clone)]
pub struct Web(Arc<Inner>);

pub struct Inner {
    pub ctx: Context,
    pub backend: Backend,
    pub views: Views,
    pub cookies: Cookies,
    pub refreshes: session::RefreshFlight,
}

impl std::ops::Deref for Web {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Web {
    /// `GET path` as the visitor: the body, or the API's refusal.
    pub async fn read(
        &self,
        visitor: &session::Visitor,
        path: impl AsRef<str>,
    ) -> Result<serde_json::Value, error::WebError> {
        self.backend
            .get(&visitor.caller(), path.as_ref())
            .await?
            .into_ok()
    }

    /// A change as the visitor: the body, or the API's refusal.
    pub async fn change(
        &self,
        visitor: &session::Visitor,
        method: axum::http::Method,
        path: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, error::WebError> {
        self.backend
            .send(&visitor.caller(), method, path, &body)
            .await?
            .into_ok()
    }
}

pub fn module() -> Module {
    Module::new("web", &[], build).configured::<WebConfig>()
}

pub use headers::CONTENT_SECURITY_POLICY;

fn build(ctx: &Context) -> ModuleParts {
    let config: WebConfig = ctx.config.section_or_default();
    let views = match Views::new() {
        Ok(views) => views,
        Err(err) => {
            // The templates are compiled in and unit tested: a failure here is a build defect.
            tracing::error!(error = %err, "portal templates do not compile; portals disabled");
            return ModuleParts::default();
        }
    };
    let secure = config.secure_cookies.unwrap_or_else(|| {
        ctx.config
            .http
            .public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://"))
    });
    let web = Web(Arc::new(Inner {
        backend: Backend::new(ctx.clone(), &config),
        views,
        cookies: Cookies {
            secure,
            session_days: config.session_days.max(1),
        },
        ctx: ctx.clone(),
        refreshes: session::RefreshFlight::default(),
    }));
    let pages = Router::new()
        .merge(auth::routes())
        .merge(customer::routes())
        .merge(merchant::routes())
        .merge(admin::routes())
        .layer(middleware::from_fn_with_state(web.clone(), session::visit))
        .with_state(web.clone());
    let pages = pages.layer(middleware::from_fn(headers::security));
    // Not rate limited here: each page's API calls count against the visitor's own limits.
    let router = OpenApiRouter::new()
        .merge(OpenApiRouter::from(pages))
        .merge(OpenApiRouter::from(assets::routes()));
    ModuleParts {
        routes: router,
        ..ModuleParts::default()
    }
}
