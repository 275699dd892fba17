//! chat: conversations between a customer and a merchant's staff over a WebSocket, persisted
//! before they are acknowledged, fanned out to every process that serves one of the two sides.

pub mod api;

use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};

static MIGRATIONS: [Migration; 0] = [];

pub fn module() -> Module {
    Module::new("chat", &MIGRATIONS, build).answers(kernel::call::codes::<chat_contract::ChatCode>)
}

fn build(_ctx: &Context) -> ModuleParts {
    ModuleParts::default()
}
