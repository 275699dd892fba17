//! analytics's contract (DTOs, events, error codes) lives in `analytics-contract`.

pub use analytics_contract::*;
