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

/// The gateway, routing the routes of `table` to the instances in `remote.<module>`.
pub fn module(table: RouteTable) -> Module {
    let table = Arc::new(table);
    Module::new("gateway", &[], move |ctx: &Context| build(ctx, &table))
}

fn build(ctx: &Context, table: &RouteTable) -> ModuleParts {
    let router = proxy::router(ctx, table);
    ModuleParts {
        // A ceiling per client on everything; the modules behind apply their per-class limits,
        // shared through Redis.
        routes: ctx.rate_limited(router, ClassPolicy::Fixed(RouteClass::Edge)),
        ..ModuleParts::default()
    }
}
