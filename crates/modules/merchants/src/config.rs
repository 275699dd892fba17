//! merchants' settings: the `[merchants]` section of the configuration (`PASAR_MERCHANTS__...`).

use platform::config::ModuleConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MerchantsConfig {
    /// Platform commission in basis points for merchants without their own rate (1000 = 10%).
    pub default_commission_bps: u32,
    pub invitation_ttl_hours: i64,
    /// How long a user's merchant memberships are cached per process; removals made in this
    /// process take effect at once, elsewhere within this bound.
    pub membership_cache_secs: u64,
}

impl Default for MerchantsConfig {
    fn default() -> Self {
        Self {
            default_commission_bps: 1000,
            invitation_ttl_hours: 72,
            membership_cache_secs: 30,
        }
    }
}

impl ModuleConfig for MerchantsConfig {
    const SECTION: &'static str = "merchants";
}
