//! The integration tests of orders, in one binary: each module is one story or concern.

mod orders;
mod shipping;
