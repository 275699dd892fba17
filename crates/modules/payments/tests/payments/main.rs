//! The integration tests of payments, in one binary: each module is one story or concern.

mod cambodia;
mod gateways;
mod manual;
mod payments;
