//! The integration tests of shipping, in one binary: each module is one story or concern.

mod rates;
mod shipments;
