//! The integration tests of catalog, in one binary: each module is one story or concern.

mod listing;
mod products;
