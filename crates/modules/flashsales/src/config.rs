//! flash sales' settings: the `[flashsales]` section of the configuration
//! (`PASAR_FLASHSALES__...`).

use platform::config::ModuleConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct FlashSalesConfig {
    /// How long a process prices from its index of sales before reading it again (sales
    /// changed by another process show within this).
    pub index_ttl_ms: u64,
    /// How long a failed take's "units left" answers later buyers from memory (units given
    /// back by another process show within this).
    pub sold_out_hint_ms: u64,
    /// Takes at the database at once, per process.
    pub take_concurrency: usize,
    /// Buyers waiting for a take, per process; beyond it they get 429 with Retry-After.
    pub take_queue: usize,
    /// A checkout's hold not confirmed by its order after this long is looked up in orders
    /// and given back if the order does not exist. Keep it above `orders.saga_timeout_secs`.
    pub stale_hold_secs: i64,
}

impl Default for FlashSalesConfig {
    fn default() -> Self {
        Self {
            index_ttl_ms: 500,
            sold_out_hint_ms: 1_000,
            take_concurrency: 8,
            take_queue: 20_000,
            stale_hold_secs: 600,
        }
    }
}

impl ModuleConfig for FlashSalesConfig {
    const SECTION: &'static str = "flashsales";
}
