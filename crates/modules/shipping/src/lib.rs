//! shipping.

use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};

static MIGRATIONS: [Migration; 1] = [platform::migration!(1, "0001_shipping.sql")];

pub fn module() -> Module {
    Module::new("shipping", &MIGRATIONS, build)
        .publishes(shipping_contract::events)
        .answers(kernel::call::codes::<shipping_contract::ShippingCode>)
}

fn build(_ctx: &Context) -> ModuleParts {
    ModuleParts::default()
}
