//! The integration tests of identity, in one binary: each module is one story or concern.

mod account;
mod addresses;
mod api_keys;
mod auth;
mod deletion;
mod oauth;
mod social;
mod tokens;
mod users;
mod verification;
