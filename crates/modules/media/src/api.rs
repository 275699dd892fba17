//! media's contract (DTOs, events, error codes) lives in `media-contract`.

pub use media_contract::*;
