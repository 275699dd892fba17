//! The integration tests of inventory, in one binary: each module is one story or concern.

mod common;
mod reservations;
mod stock;
