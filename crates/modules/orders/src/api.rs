//! orders' contract (DTOs, events, typed client, error codes) lives in `orders-contract`.

pub use orders_contract::*;
