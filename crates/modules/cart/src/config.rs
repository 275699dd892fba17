//! cart's settings: the `[cart]` section of the configuration (`PASAR_CART__...`).

use platform::config::ModuleConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CartConfig {
    /// Most units of one variant in a cart.
    pub max_quantity_per_line: i64,
    pub max_lines: usize,
    /// Carts untouched this long are deleted.
    pub ttl_days: i64,
}

impl Default for CartConfig {
    fn default() -> Self {
        Self {
            max_quantity_per_line: 99,
            max_lines: 100,
            ttl_days: 30,
        }
    }
}

impl ModuleConfig for CartConfig {
    const SECTION: &'static str = "cart";
}
