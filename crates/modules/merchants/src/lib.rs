//! merchants: applications and their review, staff and roles, outlets, bank account and
//! commission rates.

pub mod api;
pub mod config;
pub mod domain;
mod http;
mod service;
mod store;

use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};

pub use service::{MerchantError, Merchants};

static MIGRATIONS: [Migration; 1] = [platform::migration!(1, "0001_merchants.sql")];

pub fn module() -> Module {
    Module::new("merchants", &MIGRATIONS, build)
        .configured::<config::MerchantsConfig>()
        .answers(kernel::call::codes::<merchants_contract::MerchantsCode>)
        .publishes(merchants_contract::events)
        .when_remote(|ctx| {
            let ttl = std::time::Duration::from_secs(
                ctx.config
                    .section_or_default::<crate::config::MerchantsConfig>()
                    .membership_cache_secs,
            );
            ctx.authenticator
                .set_membership_source(api::RemoteMemberships::new(
                    ctx.services.clone(),
                    ttl,
                    &ctx.invalidations,
                ));
        })
}

fn build(ctx: &Context) -> ModuleParts {
    let merchants = Merchants::new(ctx.clone());
    ctx.authenticator
        .set_membership_source(merchants.memberships.clone());
    ModuleParts {
        routes: http::router(merchants),
        ..ModuleParts::default()
    }
}
