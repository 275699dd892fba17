//! The integration tests of notifications, in one binary: each module is one story or concern.

mod commerce;
mod merchant_messages;
mod messages;
mod scheduled;
