//! payments' settings: the `[payments]` section of the configuration (`PASAR_PAYMENTS__...`).

use kernel::Currency;
use platform::config::ModuleConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PaymentsConfig {
    pub simulator: SimulatorConfig,
    pub khqr: KhqrConfig,
    pub midtrans: MidtransConfig,
    pub xendit: XenditConfig,
    pub aba_payway: AbaPaywayConfig,
    pub wing: WingConfig,
    pub pipay: PiPayConfig,
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

/// ABA PayWay (Cambodia): enabled by setting the merchant id and the API key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AbaPaywayConfig {
    pub merchant_id: Option<String>,
    /// The API key ("public key") that signs requests and pushbacks (HMAC-SHA512).
    pub api_key: Option<String>,
    /// PEM of the RSA key ABA issues for the refund API; unset, refunds are manual.
    pub rsa_public_key: Option<String>,
    /// PayWay's base URL (production: `https://checkout.payway.com.kh`).
    pub api_url: String,
    /// Also ask Check Transaction about open payments (every 5 s), in case a pushback is lost.
    pub poll: bool,
    /// Seconds a call to PayWay may take.
    pub timeout_secs: u64,
}

impl Default for AbaPaywayConfig {
    fn default() -> Self {
        Self {
            merchant_id: None,
            api_key: None,
            rsa_public_key: None,
            api_url: "https://checkout-sandbox.payway.com.kh".into(),
            poll: true,
            timeout_secs: 15,
        }
    }
}

/// Wing online payment (Cambodia): enabled by setting the username, the REST API key, the
/// encryption password and the biller code or till number.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WingConfig {
    pub username: Option<String>,
    pub rest_api_key: Option<String>,
    /// The Web SDK's encryption password (AES-256 key of payloads and hashes).
    pub password: Option<String>,
    /// The biller code or till number payments go to.
    pub bill_till_number: Option<String>,
    /// The currency of that biller account (Wing's requests name none): USD or KHR.
    pub currency: Currency,
    /// Wing's base URL (production: the one Wing gives).
    pub api_url: String,
    /// The domain registered with Wing, sent as `Referer`; unset: the public URL.
    pub referer: Option<String>,
    /// Where Wing sends the payer after paying, and after cancelling; unset: the public URL.
    pub return_url: Option<String>,
    pub cancel_url: Option<String>,
    /// The `sandbox` flag of Wing's requests (true for UAT).
    pub sandbox: bool,
    /// Also ask Wing's inquiry about open payments (every 5 s).
    pub poll: bool,
    /// Seconds a call to Wing may take.
    pub timeout_secs: u64,
}

impl Default for WingConfig {
    fn default() -> Self {
        Self {
            username: None,
            rest_api_key: None,
            password: None,
            bill_till_number: None,
            currency: Currency::Usd,
            api_url: "https://sdk-uat.wingmoney.com/wingonlinesdkv2".into(),
            referer: None,
            return_url: None,
            cancel_url: None,
            sandbox: true,
            poll: true,
            timeout_secs: 15,
        }
    }
}

/// Pi Pay (Cambodia): enabled by setting the merchant, store and device ids.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PiPayConfig {
    pub mid: Option<String>,
    pub sid: Option<String>,
    pub did: Option<String>,
    /// Pi Pay's base URL (production: `https://onlinepayment.pipay.com`).
    pub api_url: String,
    /// Where Pi Pay sends the payer back with the outcome; unset: Pasar's
    /// `/api/v1/payments/webhook/pipay`, which applies it.
    pub confirm_url: Option<String>,
    /// Where Pi Pay sends a payer who cancels; unset: the public URL.
    pub cancel_url: Option<String>,
    /// Also ask verifyTransaction about open payments (every 5 s).
    pub poll: bool,
    /// Seconds a call to Pi Pay may take.
    pub timeout_secs: u64,
}

impl Default for PiPayConfig {
    fn default() -> Self {
        Self {
            mid: None,
            sid: None,
            did: None,
            api_url: "https://onlinepayment-uat.pipay.com".into(),
            confirm_url: None,
            cancel_url: None,
            poll: true,
            timeout_secs: 15,
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
