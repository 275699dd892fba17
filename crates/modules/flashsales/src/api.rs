//! flash sales' contract (DTOs, typed client, error codes) lives in `flashsales-contract`.

pub use flashsales_contract::*;
