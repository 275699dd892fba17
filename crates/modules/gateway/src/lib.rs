//! gateway: the edge in front of split processes. Routes each public route to the process that
//! owns its module, round robin across that module's instances, skipping the ones that fail
//! their health checks, behind the same edge stack as every process (request id, token
//! verification, rate limits). Also writes the same layout as an nginx configuration.

pub mod nginx;
mod proxy;
pub mod routes;

use std::sync::Arc;

use platform::http::ClassPolicy;
use platform::ratelimit::RouteClass;
use platform::{Context, Module, ModuleParts};

pub use routes::{Route, RouteTable};

/// The gateway, routing the routes of `table` to the instances in `remote.<module>`, and
/// serving `document` (the modules' public routes) as its `/openapi.json`.
pub fn module(table: RouteTable, document: utoipa::openapi::OpenApi) -> Module {
    let table = Arc::new(table);
    Module::new("gateway", &[], move |ctx: &Context| {
        build(ctx, &table, document.clone())
    })
}

fn build(ctx: &Context, table: &RouteTable, document: utoipa::openapi::OpenApi) -> ModuleParts {
    let router = proxy::router(ctx, table, document);
    ModuleParts {
        // A ceiling per client on everything; the modules behind apply their per-class limits,
        // shared through Redis.
        routes: ctx.rate_limited(router, ClassPolicy::Fixed(RouteClass::Edge)),
        ..ModuleParts::default()
    }
}
