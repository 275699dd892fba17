//! payments' settings: the `[payments]` section of the configuration (`PASAR_PAYMENTS__...`).

use platform::config::ModuleConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PaymentsConfig {
    pub simulator: SimulatorConfig,
    pub khqr: KhqrConfig,
    pub midtrans: MidtransConfig,
    pub xendit: XenditConfig,
    pub bank_transfer: BankTransferConfig,
    pub reminders: RemindersConfig,
}

/// The development gateway. Disable it in production: whoever can reach its approve page can
/// mark payments paid.
/// Off by default: its approve route is anonymous by design (anyone may mark a payment paid).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SimulatorConfig {
    pub enabled: bool,
    /// HMAC-SHA256 key of its webhooks; random per process when unset (set it when several
    /// processes or a load generator must sign simulator webhooks).
    pub webhook_secret: Option<String>,
}

/// KHQR (Bakong): the payee account the QR pays into, and the API that confirms payments.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct KhqrConfig {
    pub enabled: bool,
    /// Bakong account id, e.g. `pasar@aclb`.
    pub account_id: String,
    pub merchant_name: String,
    pub merchant_city: String,
    /// Bakong Open API base URL; unset, the built-in simulator answers (development).
    pub api_url: Option<String>,
    pub api_token: Option<String>,
}

impl Default for KhqrConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            account_id: "pasar@devb".into(),
            merchant_name: "Pasar".into(),
            merchant_city: "Phnom Penh".into(),
            api_url: None,
            api_token: None,
        }
    }
}

/// Midtrans Snap: enabled by setting the server key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MidtransConfig {
    pub server_key: Option<String>,
    pub snap_url: String,
    pub api_url: String,
}

impl Default for MidtransConfig {
    fn default() -> Self {
        Self {
            server_key: None,
            snap_url: "https://app.sandbox.midtrans.com".into(),
            api_url: "https://api.sandbox.midtrans.com".into(),
        }
    }
}

/// Xendit invoices: enabled by setting the secret key and the callback token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct XenditConfig {
    pub secret_key: Option<String>,
    pub callback_token: Option<String>,
    pub api_url: String,
}

impl Default for XenditConfig {
    fn default() -> Self {
        Self {
            secret_key: None,
            callback_token: None,
            api_url: "https://api.xendit.co".into(),
        }
    }
}

/// Bank transfers to the marketplace's account, confirmed by an admin from the statement.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BankTransferConfig {
    pub enabled: bool,
    pub bank_name: String,
    pub account_name: String,
    pub account_number: String,
}

/// When admins hear about payments and refunds waiting for an operator.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RemindersConfig {
    /// A payment or refund waiting this long is reminded of.
    pub after_minutes: i64,
    /// And again this often while it still waits.
    pub every_minutes: i64,
}

impl Default for RemindersConfig {
    fn default() -> Self {
        Self {
            after_minutes: 60,
            every_minutes: 24 * 60,
        }
    }
}

impl ModuleConfig for PaymentsConfig {
    const SECTION: &'static str = "payments";

    /// A laptop pays through the simulator.
    fn development() -> Self {
        let mut config = Self::default();
        config.simulator.enabled = true;
        config
    }
}
