//! chat's settings: the `[chat]` section of the configuration (`PASAR_CHAT__...`).

use platform::config::ModuleConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatConfig {
    /// Longest text of a message, in characters.
    pub max_text_chars: usize,
    /// Largest WebSocket frame a client may send, in bytes.
    pub max_frame_bytes: usize,
    /// Frames a connection may send per second on average, and at once.
    pub frames_per_second: u32,
    pub frame_burst: u32,
    /// Refused frames in a row after which the connection is closed.
    pub max_refusals: u32,
    /// The server pings this often; a connection silent for three periods is closed.
    pub heartbeat_secs: u64,
    /// Messages per `history` frame and per page of `GET .../messages`.
    pub page_size: u32,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            max_text_chars: 4_000,
            max_frame_bytes: 16 * 1024,
            frames_per_second: 10,
            frame_burst: 30,
            max_refusals: 20,
            heartbeat_secs: 20,
            page_size: 50,
        }
    }
}

impl ModuleConfig for ChatConfig {
    const SECTION: &'static str = "chat";
}
