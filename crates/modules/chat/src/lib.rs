//! chat: conversations between a customer and a merchant's staff, over a WebSocket (and
//! HTTP), persisted before they are acknowledged, fanned out to every process serving one of
//! the two sides.

pub mod api;
pub mod config;
pub mod domain;
mod http;
mod hub;
mod service;
mod socket;
mod store;

use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};

pub use service::{Chat, ChatError};

static MIGRATIONS: [Migration; 1] = [platform::migration!(1, "0001_chat.sql")];

pub fn module() -> Module {
    Module::new("chat", &MIGRATIONS, build)
        .configured::<config::ChatConfig>()
        .publishes(chat_contract::events)
        .answers(kernel::call::codes::<chat_contract::ChatCode>)
}

fn build(ctx: &Context) -> ModuleParts {
    ModuleParts {
        routes: http::router(Chat::new(ctx.clone())),
        ..ModuleParts::default()
    }
}
