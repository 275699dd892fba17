//! cart: guest carts (by token) and customer carts, merged on sign-in; lines priced from the
//! catalog; summary by merchant; validation before checkout; expiry after inactivity.

pub mod api;
pub mod config;
pub mod domain;
mod events;
mod http;
mod service;
mod shipping;
mod store;

use std::sync::Arc;

use async_trait::async_trait;
use platform::bus::BoxError;
use platform::jobs::{JobHandler, JobRun, JobSpec};
use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};

pub use service::{Cart, CartError};

static MIGRATIONS: [Migration; 2] = [
    platform::migration!(1, "0001_cart.sql"),
    platform::migration!(2, "0002_coupons.sql"),
];

pub fn module() -> Module {
    Module::new("cart", &MIGRATIONS, build)
        .configured::<config::CartConfig>()
        .answers(kernel::call::codes::<cart_contract::CartCode>)
}

fn build(ctx: &Context) -> ModuleParts {
    let cart = Cart::new(ctx.clone());
    ModuleParts {
        routes: http::router(cart.clone()),
        subscriptions: events::subscriptions(cart.clone()),
        jobs: vec![JobSpec {
            name: "cart.expire_stale",
            schedule: Some("0 15 * * * *".into()),
            max_attempts: 3,
            handler: Arc::new(ExpireStale(cart)),
        }],
        on_start: None,
    }
}

/// Hourly: deletes carts untouched for `cart.ttl_days`.
struct ExpireStale(Arc<Cart>);

#[async_trait]
impl JobHandler for ExpireStale {
    async fn run(&self, _job: &JobRun) -> Result<(), BoxError> {
        let deleted = self.0.expire_stale().await?;
        if deleted > 0 {
            tracing::info!(deleted, "stale carts deleted");
        }
        Ok(())
    }
}
