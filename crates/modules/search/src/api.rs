//! search's contract (DTOs, error codes) lives in `search-contract`.

pub use search_contract::*;
