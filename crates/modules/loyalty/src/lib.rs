//! loyalty: a points ledger per customer (earned from paid orders at the tier's multiplier,
//! signup and achievements; spent as a discount at checkout; taken back on refunds; expiring
//! oldest first), five tiers on rolling 12-month purchase points, and achievements as data.

pub mod api;
pub mod config;
pub mod domain;
mod events;
mod http;
mod service;
mod store;

use std::sync::Arc;

use async_trait::async_trait;
use platform::bus::BoxError;
use platform::jobs::{JobHandler, JobRun, JobSpec};
use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};

pub use service::{Loyalty, LoyaltyError};

static MIGRATIONS: [Migration; 2] = [
    platform::migration!(1, "0001_loyalty.sql"),
    platform::migration!(2, "0002_counted.sql"),
];

pub fn module() -> Module {
    Module::new("loyalty", &MIGRATIONS, build)
        .configured::<config::LoyaltyConfig>()
        .publishes(loyalty_contract::events)
        .answers(kernel::call::codes::<loyalty_contract::LoyaltyCode>)
}

fn build(ctx: &Context) -> ModuleParts {
    let loyalty = Loyalty::new(ctx.clone());
    ModuleParts {
        routes: http::router(loyalty.clone()),
        subscriptions: events::subscriptions(loyalty.clone()),
        jobs: vec![JobSpec {
            name: "loyalty.nightly",
            schedule: Some("0 30 2 * * *".into()),
            max_attempts: 3,
            handler: Arc::new(Nightly(loyalty)),
        }],
        on_start: None,
    }
}

/// Nightly: expires points, reminds of points expiring soon, moves tiers whose purchase
/// points rolled out of the 12-month window.
struct Nightly(Arc<Loyalty>);

#[async_trait]
impl JobHandler for Nightly {
    async fn run(&self, _job: &JobRun) -> Result<(), BoxError> {
        let expired = self.0.expire_points().await?;
        let reminded = self.0.remind_expiring().await?;
        let moved = self.0.reevaluate_tiers().await?;
        tracing::info!(expired, reminded, moved, "loyalty nightly pass");
        Ok(())
    }
}
