//! flashsales: time-boxed sales of a few units at a price, set up by merchants or admins,
//! and the gate checkout takes sale units through first, so that 10,000 buyers of 100 units
//! get 100 orders and 9,900 quick answers.

pub mod api;
pub mod config;
pub mod domain;
mod events;
mod gate;
mod http;
mod service;
mod store;

use std::sync::Arc;

use async_trait::async_trait;
use platform::bus::BoxError;
use platform::jobs::{JobHandler, JobRun, JobSpec};
use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};

pub use service::{FlashSales, FlashSalesError};

static MIGRATIONS: [Migration; 1] = [platform::migration!(1, "0001_flashsales.sql")];

pub fn module() -> Module {
    Module::new("flashsales", &MIGRATIONS, build)
        .configured::<config::FlashSalesConfig>()
        .publishes(flashsales_contract::events)
        .answers(kernel::call::codes::<flashsales_contract::FlashSalesCode>)
}

fn build(ctx: &Context) -> ModuleParts {
    let sales = FlashSales::new(ctx.clone());
    ModuleParts {
        routes: http::router(sales.clone()),
        subscriptions: events::subscriptions(sales.clone()),
        jobs: vec![JobSpec {
            name: "flashsales.stale_holds",
            schedule: Some("30 * * * * *".into()),
            max_attempts: 3,
            handler: Arc::new(StaleHolds(sales)),
        }],
        on_start: None,
    }
}

/// Every minute: gives back the units of checkouts that died before their order existed.
struct StaleHolds(Arc<FlashSales>);

#[async_trait]
impl JobHandler for StaleHolds {
    async fn run(&self, _job: &JobRun) -> Result<(), BoxError> {
        let released = self.0.sweep_stale_holds().await?;
        if released > 0 {
            tracing::info!(released, "flash-sale holds of dead checkouts given back");
        }
        Ok(())
    }
}
