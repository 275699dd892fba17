//! catalog: categories, brands, attributes, merchant-owned products with variants, moderation,
//! and the public reads (the hottest path of the platform, served from a read cache).

pub mod api;
mod cache;
pub mod config;
pub mod domain;
mod events;
mod http;
mod service;
mod store;

use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};

pub use service::{Catalog, CatalogError};

static MIGRATIONS: [Migration; 2] = [
    platform::migration!(1, "0001_catalog.sql"),
    platform::migration!(2, "0002_rating_version.sql"),
];

pub fn module() -> Module {
    Module::new("catalog", &MIGRATIONS, build)
        .configured::<config::CatalogConfig>()
        .answers(kernel::call::codes::<catalog_contract::CatalogCode>)
        .publishes(catalog_contract::events)
}

fn build(ctx: &Context) -> ModuleParts {
    let catalog = Catalog::new(ctx.clone());
    ModuleParts {
        routes: http::router(catalog.clone()),
        subscriptions: events::subscriptions(catalog),
        ..ModuleParts::default()
    }
}
