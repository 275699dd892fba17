//! shipping's contract (DTOs, events, error codes, typed client) lives in `shipping-contract`.

pub use shipping_contract::*;
