//! payments' contract (DTOs, events, typed client, error codes) lives in `payments-contract`.

pub use payments_contract::*;
