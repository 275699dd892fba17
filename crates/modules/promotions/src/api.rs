//! promotions' contract (DTOs, events, typed client, error codes) lives in `promotions-contract`.

pub use promotions_contract::*;
