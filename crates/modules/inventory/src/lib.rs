//! inventory: stock per SKU per location, the movement ledger, low-stock alerts, and
//! all-or-nothing reservations that never oversell.

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

pub use service::{Inventory, InventoryError};

static MIGRATIONS: [Migration; 1] = [platform::migration!(1, "0001_inventory.sql")];

pub fn module() -> Module {
    Module::new("inventory", &MIGRATIONS, build)
        .configured::<config::InventoryConfig>()
        .answers(kernel::call::codes::<inventory_contract::InventoryCode>)
        .publishes(inventory_contract::events)
}

fn build(ctx: &Context) -> ModuleParts {
    let inventory = Inventory::new(ctx.clone());
    ModuleParts {
        routes: http::router(inventory.clone()),
        subscriptions: events::subscriptions(inventory.clone()),
        jobs: vec![JobSpec {
            name: "inventory.expire_reservations",
            schedule: Some("*/5 * * * * *".into()),
            max_attempts: 3,
            handler: Arc::new(ExpireReservations(inventory)),
        }],
        on_start: None,
    }
}

/// Every 5 s: releases reservations whose time ran out.
struct ExpireReservations(Arc<Inventory>);

#[async_trait]
impl JobHandler for ExpireReservations {
    async fn run(&self, _job: &JobRun) -> Result<(), BoxError> {
        let released = self.0.expire_due().await?;
        if released > 0 {
            tracing::info!(released, "expired reservations released");
        }
        Ok(())
    }
}
