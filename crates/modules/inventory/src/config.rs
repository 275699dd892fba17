//! inventory's settings: the `[inventory]` section of the configuration (`PASAR_INVENTORY__...`).

use platform::config::ModuleConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct InventoryConfig {
    /// Reservations not confirmed within this time are released by a job.
    pub reservation_ttl_secs: i64,
}

impl Default for InventoryConfig {
    fn default() -> Self {
        Self {
            reservation_ttl_secs: 900,
        }
    }
}

impl ModuleConfig for InventoryConfig {
    const SECTION: &'static str = "inventory";
}
