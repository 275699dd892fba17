//! vouchers' contract (DTOs, events, typed client, error codes) lives in `vouchers-contract`.

pub use vouchers_contract::*;
