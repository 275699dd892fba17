//! ledger's settings: the `[ledger]` section of the configuration (`PASAR_LEDGER__...`).

use platform::config::ModuleConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LedgerConfig {
    /// When the payout run starts: a cron expression with seconds (default Mondays 02:00 UTC).
    pub payout_schedule: String,
    /// Balances below this (minor units, per currency) wait for the next run.
    pub payout_minimum: i64,
    /// Physical goods are credited to the merchant this long after delivery (returns window).
    pub delivery_hold_days: i64,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        Self {
            payout_schedule: "0 0 2 * * Mon".into(),
            payout_minimum: 1,
            delivery_hold_days: 0,
        }
    }
}

impl ModuleConfig for LedgerConfig {
    const SECTION: &'static str = "ledger";
}
