//! inventory's contract (DTOs, events, typed client, error codes) lives in `inventory-contract`.

pub use inventory_contract::*;
