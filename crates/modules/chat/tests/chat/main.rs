//! The integration tests of chat, in one binary: HTTP conversations, the WebSocket, and two
//! instances serving the two sides.

mod client;
mod conversations;
mod instances;
mod socket;
