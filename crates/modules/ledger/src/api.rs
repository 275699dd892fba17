//! ledger's contract (DTOs, events, typed client, error codes) lives in `ledger-contract`.

pub use ledger_contract::*;
