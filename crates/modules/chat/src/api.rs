//! chat's contract (DTOs, events, error codes) lives in `chat-contract`.

pub use chat_contract::*;
