//! promotions: campaigns (platform or merchant, with budgets), promotions with rules as data
//! (conditions, effects, stacking, cost bearer), coupon codes, the one discount calculation
//! cart and checkout price with, checkout's reservations of limits and budgets, and figures
//! per promotion from orders' events.

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

pub use service::{Promotions, PromotionsError};

static MIGRATIONS: [Migration; 1] = [platform::migration!(1, "0001_promotions.sql")];

pub fn module() -> Module {
    Module::new("promotions", &MIGRATIONS, build)
        .configured::<config::PromotionsConfig>()
        .publishes(promotions_contract::events)
        .answers(kernel::call::codes::<promotions_contract::PromotionsCode>)
}

fn build(ctx: &Context) -> ModuleParts {
    let promotions = Promotions::new(ctx.clone());
    ModuleParts {
        routes: http::router(promotions.clone()),
        subscriptions: events::subscriptions(promotions.clone()),
        jobs: vec![JobSpec {
            name: "promotions.campaign_clock",
            schedule: Some("0 * * * * *".into()),
            max_attempts: 3,
            handler: Arc::new(CampaignClock(promotions)),
        }],
        on_start: None,
    }
}

/// Every minute: starts scheduled campaigns whose start came, ends those whose end passed.
struct CampaignClock(Arc<Promotions>);

#[async_trait]
impl JobHandler for CampaignClock {
    async fn run(&self, _job: &JobRun) -> Result<(), BoxError> {
        let moved = self.0.campaign_clock().await?;
        if moved > 0 {
            tracing::info!(moved, "campaigns started or ended");
        }
        Ok(())
    }
}
