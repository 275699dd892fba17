//! reviews: reviews of products and voucher offers by verified buyers (one per delivered
//! order or redeemed voucher), ratings 1-5, moderation (banned words, reports, admins),
//! helpful votes, merchant responses, and rating aggregates per product, offer and merchant
//! published for catalog and vouchers.

pub mod api;
pub mod config;
pub mod domain;
mod events;
mod http;
mod service;
mod store;

use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};

pub use service::{Reviews, ReviewsError};

static MIGRATIONS: [Migration; 1] = [platform::migration!(1, "0001_reviews.sql")];

pub fn module() -> Module {
    Module::new("reviews", &MIGRATIONS, build)
        .configured::<config::ReviewsConfig>()
        .publishes(reviews_contract::events)
        .answers(kernel::call::codes::<reviews_contract::ReviewsCode>)
}

fn build(ctx: &Context) -> ModuleParts {
    let reviews = Reviews::new(ctx.clone());
    ModuleParts {
        routes: http::router(reviews.clone()),
        subscriptions: events::subscriptions(reviews),
        ..ModuleParts::default()
    }
}
