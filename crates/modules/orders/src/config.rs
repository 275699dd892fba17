//! orders' settings: the `[orders]` section of the configuration (`PASAR_ORDERS__...`).

use platform::config::ModuleConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct OrdersConfig {
    /// An order not paid within this time expires and its stock is released.
    pub payment_window_secs: i64,
    /// A checkout saga untouched this long is presumed abandoned (its process died) and is
    /// compensated by the recovery job.
    pub saga_timeout_secs: i64,
    /// Testing only: abort the process at this checkout step (`after_start`,
    /// `after_reserve`, `after_create`) to prove crash recovery.
    pub fail_point: Option<String>,
}

impl Default for OrdersConfig {
    fn default() -> Self {
        Self {
            payment_window_secs: 900,
            saga_timeout_secs: 60,
            fail_point: None,
        }
    }
}

impl ModuleConfig for OrdersConfig {
    const SECTION: &'static str = "orders";
}
