//! catalog's contract (DTOs, events, typed client, error codes) lives in `catalog-contract`.

pub use catalog_contract::*;
