//! web's settings: the `[web]` section of the configuration (`PASAR_WEB__...`).

use platform::config::ModuleConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WebConfig {
    /// Where the pages call the public API. Unset, they call the modules of this process
    /// directly (every module in one process); in split layouts, the gateway's URL.
    pub api_url: Option<String>,
    /// How long a browser stays signed in without using the site (the refresh token's own
    /// lifetime still ends the session first).
    pub session_days: i64,
    /// Session cookies carry `Secure`: unset, they do when `http.public_url` is https.
    pub secure_cookies: Option<bool>,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            api_url: None,
            session_days: 14,
            secure_cookies: None,
        }
    }
}

impl ModuleConfig for WebConfig {
    const SECTION: &'static str = "web";
}
