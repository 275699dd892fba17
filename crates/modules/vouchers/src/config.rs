//! vouchers' settings: the `[vouchers]` section of the configuration (`PASAR_VOUCHERS__...`).

use platform::config::ModuleConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct VouchersConfig {
    /// Seconds one on-screen QR code stays valid (it embeds the time step).
    pub qr_step_secs: i64,
    /// Retired QR signing keys keep verifying this long: printed codes live as long as their
    /// voucher, so keep it above the longest validity (730 days).
    pub code_key_retention_days: i64,
    /// Wrong PINs in a row after which a voucher is locked for counter redemption.
    pub pin_attempts: i32,
    /// An unused bought voucher can be refunded this long after purchase.
    pub refund_window_days: i64,
    /// `voucher.expiring` is published this long before a voucher expires.
    pub reminder_days: i64,
}

impl Default for VouchersConfig {
    fn default() -> Self {
        Self {
            qr_step_secs: 30,
            code_key_retention_days: 760,
            pin_attempts: 5,
            refund_window_days: 14,
            reminder_days: 7,
        }
    }
}

impl ModuleConfig for VouchersConfig {
    const SECTION: &'static str = "vouchers";
}
