//! reviews' settings: the `[reviews]` section of the configuration (`PASAR_REVIEWS__...`).

use platform::config::ModuleConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ReviewsConfig {
    /// Authors may edit a review this many hours after writing it (0: never).
    pub edit_window_hours: i64,
    /// Words (or phrases of words) that hold a review for moderation, matched as whole words,
    /// case-insensitively, in its title and text.
    pub banned_words: Vec<String>,
    /// Open reports at which an approved review is held for moderation again.
    pub report_threshold: i64,
}

impl Default for ReviewsConfig {
    fn default() -> Self {
        Self {
            edit_window_hours: 720,
            banned_words: Vec::new(),
            report_threshold: 3,
        }
    }
}

impl ModuleConfig for ReviewsConfig {
    const SECTION: &'static str = "reviews";
}
