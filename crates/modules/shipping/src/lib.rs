//! shipping: couriers as data (JNE, J&T, SiCepat, AnterAja, GoSend in Indonesia; J&T
//! Cambodia, Vireak Buntham, Grab Express in Cambodia; a simulator for development) with
//! table-driven rates by zone and weight, quotes for merchants' parcels, shipments created
//! when orders are shipped, signed courier webhooks moving them forward only, tracking
//! timelines, and A6 PDF labels with Code 128 and QR codes of the tracking number.

pub mod api;
pub mod config;
pub mod domain;
mod events;
mod http;
mod label;
mod service;
mod store;

use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};

pub use service::{Shipping, ShippingError};

static MIGRATIONS: [Migration; 1] = [platform::migration!(1, "0001_shipping.sql")];

pub fn module() -> Module {
    Module::new("shipping", &MIGRATIONS, build)
        .configured::<config::ShippingConfig>()
        .publishes(shipping_contract::events)
        .answers(kernel::call::codes::<shipping_contract::ShippingCode>)
}

fn build(ctx: &Context) -> ModuleParts {
    let shipping = Shipping::new(ctx.clone());
    let simulator_on = shipping.config.simulator.enabled;
    ModuleParts {
        routes: http::router(shipping.clone()),
        subscriptions: events::subscriptions(shipping),
        jobs: Vec::new(),
        on_start: simulator_on.then(|| -> platform::module::StartHook {
            Box::pin(async {
                tracing::warn!(
                    "the shipping simulator is on: anyone can advance SIMULATOR shipments \
                     through its route; turn it off in production \
                     (shipping.simulator.enabled = false)"
                );
                Ok(())
            })
        }),
    }
}
