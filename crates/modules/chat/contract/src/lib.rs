//! The public face of chat: conversations between a customer and a merchant, their messages,
//! and the frames of the WebSocket.

mod errors;
pub use errors::ChatCode;
