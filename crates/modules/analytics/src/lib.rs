//! analytics: merchant dashboards (sales, products, vouchers, payouts) and the admin summary,
//! kept as rollups of other modules' events, never scans of their tables at read time.

pub mod api;

use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};

static MIGRATIONS: [Migration; 0] = [];

pub fn module() -> Module {
    Module::new("analytics", &MIGRATIONS, build)
        .answers(kernel::call::codes::<analytics_contract::AnalyticsCode>)
}

fn build(_ctx: &Context) -> ModuleParts {
    ModuleParts::default()
}
