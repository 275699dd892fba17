//! reviews' contract (DTOs, events, error codes) lives in `reviews-contract`.

pub use reviews_contract::*;
