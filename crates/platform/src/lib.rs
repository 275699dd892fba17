//! Runtime services of Pasar: configuration, database, migrations, events, jobs, keys, caches,
//! rate limits, the HTTP edge stack and telemetry. No module lives here.

pub mod app;
pub mod asyncapi;
pub mod bus;
pub mod cache;
pub mod config;
pub mod db;
pub mod http;
pub mod idempotency;
pub mod jobs;
pub mod keyring;
pub mod migrate;
pub mod module;
pub mod openapi;
pub mod ratelimit;
pub mod secrets;
pub mod services;
pub mod telemetry;
pub mod trace;

pub use config::Config;
pub use db::{Db, Dialect, Tx};
pub use module::{Context, Module, ModuleParts};
