//! promotions' settings: the `[promotions]` section of the configuration
//! (`PASAR_PROMOTIONS__...`).

use platform::config::ModuleConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PromotionsConfig {
    /// The marketplace's offset from UTC in minutes, for promotions' days and hours
    /// (Phnom Penh and Jakarta: 420).
    pub utc_offset_minutes: i32,
}

impl Default for PromotionsConfig {
    fn default() -> Self {
        Self {
            utc_offset_minutes: 420,
        }
    }
}

impl ModuleConfig for PromotionsConfig {
    const SECTION: &'static str = "promotions";
}
