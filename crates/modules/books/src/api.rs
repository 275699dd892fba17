//! books' contract (DTOs, events, error codes) lives in `books-contract`.

pub use books_contract::*;
