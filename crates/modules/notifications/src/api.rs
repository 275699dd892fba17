//! notifications' contract (DTOs, events, typed client, error codes) lives in `notifications-contract`.

pub use notifications_contract::*;
