//! loyalty's contract (DTOs, events, typed client, error codes) lives in `loyalty-contract`.

pub use loyalty_contract::*;
