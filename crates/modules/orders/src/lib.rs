//! orders: checkout as a persisted saga (re-pricing, stock reservation, commission per line),
//! order groups split per merchant, the order status machine, timeline and invoices.

pub mod api;
pub mod config;
pub mod domain;
mod events;
mod http;
mod invoice;
mod service;
mod store;

use std::sync::Arc;

use async_trait::async_trait;
use platform::bus::BoxError;
use platform::jobs::{JobHandler, JobRun, JobSpec};
use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};

pub use service::{Orders, OrdersError};

static MIGRATIONS: [Migration; 3] = [
    platform::migration!(1, "0001_orders.sql"),
    platform::migration!(2, "0002_discounts.sql"),
    platform::migration!(3, "0003_shipping.sql"),
];

pub fn module() -> Module {
    Module::new("orders", &MIGRATIONS, build)
        .configured::<config::OrdersConfig>()
        .answers(kernel::call::codes::<orders_contract::OrdersCode>)
        .publishes(orders_contract::events)
}

fn build(ctx: &Context) -> ModuleParts {
    let orders = Orders::new(ctx.clone());
    ModuleParts {
        routes: http::router(orders.clone()),
        subscriptions: events::subscriptions(orders.clone()),
        jobs: vec![
            JobSpec {
                name: "orders.expire_unpaid",
                schedule: Some("*/5 * * * * *".into()),
                max_attempts: 3,
                handler: Arc::new(ExpireUnpaid(orders.clone())),
            },
            JobSpec {
                name: "orders.recover_checkouts",
                schedule: Some("*/10 * * * * *".into()),
                max_attempts: 3,
                handler: Arc::new(RecoverCheckouts(orders)),
            },
        ],
        on_start: None,
    }
}

/// Every 5 s: unpaid orders past their payment window expire (their stock is released).
struct ExpireUnpaid(Arc<Orders>);

#[async_trait]
impl JobHandler for ExpireUnpaid {
    async fn run(&self, _job: &JobRun) -> Result<(), BoxError> {
        let expired = self.0.expire_due().await?;
        if expired > 0 {
            tracing::info!(expired, "unpaid orders expired");
        }
        Ok(())
    }
}

/// Every 10 s: checkouts whose process died are compensated.
struct RecoverCheckouts(Arc<Orders>);

#[async_trait]
impl JobHandler for RecoverCheckouts {
    async fn run(&self, _job: &JobRun) -> Result<(), BoxError> {
        let recovered = self.0.recover_checkouts().await?;
        if recovered > 0 {
            tracing::warn!(recovered, "abandoned checkouts compensated");
        }
        Ok(())
    }
}
