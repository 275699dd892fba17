//! media.

use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};

static MIGRATIONS: [Migration; 1] = [platform::migration!(1, "0001_media.sql")];

pub fn module() -> Module {
    Module::new("media", &MIGRATIONS, build)
        .publishes(media_contract::events)
        .answers(kernel::call::codes::<media_contract::MediaCode>)
}

fn build(_ctx: &Context) -> ModuleParts {
    ModuleParts::default()
}
