//! cart's contract (DTOs, events, typed client, error codes) lives in `cart-contract`.

pub use cart_contract::*;
