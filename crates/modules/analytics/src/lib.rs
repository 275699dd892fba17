//! analytics: merchant dashboards (sales, products, vouchers, payouts) and the admin summary,
//! kept as rollups of other modules' events, never scans of their tables at read time.

pub mod api;
pub mod domain;
mod events;
mod http;
mod service;
mod store;

use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};

pub use service::{Analytics, AnalyticsError};

static MIGRATIONS: [Migration; 3] = [
    platform::migration!(1, "0001_analytics.sql"),
    platform::migration!(2, "0002_versions.sql"),
    platform::migration!(3, "0003_fraud_cases.sql"),
];

pub fn module() -> Module {
    Module::new("analytics", &MIGRATIONS, build)
        .answers(kernel::call::codes::<analytics_contract::AnalyticsCode>)
}

fn build(ctx: &Context) -> ModuleParts {
    let analytics = Analytics::new(ctx.clone());
    ModuleParts {
        routes: http::router(analytics.clone()),
        subscriptions: events::subscriptions(analytics),
        ..ModuleParts::default()
    }
}
