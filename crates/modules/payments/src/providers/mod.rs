//! Payment providers behind one trait. `simulator` (development), `khqr` (Bakong, confirmed by
//! polling), `midtrans` and `xendit` (hosted payment pages, confirmed by webhooks), and the
//! Cambodian gateways `aba_payway`, `wing` and `pipay`, whose callbacks are confirmed with the
//! provider's own status API before they count (see [`Provider::confirm`]).

pub mod aba_payway;
pub mod bank_transfer;
pub mod khqr;
pub mod midtrans;
pub mod pipay;
pub mod simulator;
pub mod wing;
pub mod xendit;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::http::HeaderMap;
use kernel::{Currency, Timestamp};
use platform::Context;
use uuid::Uuid;

use crate::api::Instructions;
use crate::domain::Reported;

/// What a provider is asked to collect.
#[derive(Debug, Clone)]
pub struct PaymentIntent<'a> {
    pub payment_id: Uuid,
    pub group_number: &'a str,
    pub amount: i64,
    pub currency: Currency,
    pub expires_at: Timestamp,
}

/// A payment as providers see it after creation.
#[derive(Debug, Clone)]
pub struct PaymentRecord {
    pub id: Uuid,
    pub provider_reference: String,
    pub amount: i64,
    pub currency: Currency,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct Initiated {
    pub provider_reference: String,
    pub instructions: Instructions,
}

/// How a provider's report names the payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentRef {
    Id(Uuid),
    ProviderReference(String),
}

/// A verified report from a provider (webhook or poll).
#[derive(Debug, Clone)]
pub struct Report {
    /// Unique per provider: a report is applied once.
    pub event_id: String,
    pub payment: PaymentRef,
    pub reported: Reported,
    pub amount: Option<i64>,
    pub currency: Option<Currency>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundOutcome {
    Succeeded {
        reference: String,
    },
    /// The provider has no refund API (KHQR) or has not settled it yet: an operator completes it.
    Manual {
        note: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("invalid signature")]
    InvalidSignature,
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("provider failed: {0}")]
    Upstream(String),
}

impl From<reqwest::Error> for ProviderError {
    fn from(err: reqwest::Error) -> Self {
        ProviderError::Upstream(err.to_string())
    }
}

#[async_trait]
pub trait Provider: Send + Sync {
    fn name(&self) -> &'static str;

    /// Sets the payment up at the provider and says how the customer pays.
    async fn initiate(&self, intent: &PaymentIntent<'_>) -> Result<Initiated, ProviderError>;

    /// Verifies a webhook on its raw body and reads it.
    fn verify_webhook(&self, headers: &HeaderMap, body: &[u8]) -> Result<Report, ProviderError>;

    /// What a verified webhook really reports. Some callbacks only say "look again" (ABA
    /// PayWay's pushback, Wing's, Pi Pay's unsigned return): those providers ask their own API
    /// here, outside any transaction. Others' webhooks stand as they are.
    async fn confirm(&self, report: Report) -> Result<Report, ProviderError> {
        Ok(report)
    }

    /// Returns `amount` of the payment to the customer; `refund_id` makes retries safe.
    async fn refund(
        &self,
        payment: &PaymentRecord,
        refund_id: &str,
        amount: i64,
    ) -> Result<RefundOutcome, ProviderError>;

    /// Asks the provider about an open payment (providers without webhooks).
    async fn poll(&self, _payment: &PaymentRecord) -> Result<Option<Report>, ProviderError> {
        Ok(None)
    }

    fn polls(&self) -> bool {
        false
    }

    /// Whether verified callbacks are confirmed with the provider (`confirm` calls out): such
    /// a callback is only worth a call for a payment here that is still open.
    fn confirms_callbacks(&self) -> bool {
        false
    }

    /// Whether an admin confirms this provider's payments from the bank statement
    /// (`POST /api/v1/payments/{id}/verify`); such payments wait in the operators' list.
    fn verified_by_hand(&self) -> bool {
        false
    }
}

/// The providers configured in this process, by method name.
#[derive(Clone, Default)]
pub struct Providers {
    by_name: BTreeMap<&'static str, Arc<dyn Provider>>,
}

impl Providers {
    pub fn from_config(
        ctx: &Context,
        config: &crate::config::PaymentsConfig,
        simulator_secret: &str,
    ) -> Self {
        let mut providers = Self::default();
        if config.simulator.enabled {
            providers.add(Arc::new(simulator::Simulator::new(
                ctx.clone(),
                simulator_secret,
            )));
        }
        // KHQR payments are confirmed by asking Bakong; with no Bakong API configured only the
        // simulator's stand-in would answer, so without either KHQR stays off.
        if config.khqr.enabled && (config.khqr.api_url.is_some() || config.simulator.enabled) {
            providers.add(Arc::new(khqr::Khqr::new(ctx.clone(), config.khqr.clone())));
        }
        if config.bank_transfer.enabled {
            providers.add(Arc::new(bank_transfer::BankTransfer::new(
                config.bank_transfer.clone(),
            )));
        }
        if let Some(key) = &config.midtrans.server_key {
            providers.add(Arc::new(midtrans::Midtrans::new(
                key.clone(),
                &config.midtrans,
            )));
        }
        // The Cambodian gateways are on once their credentials are set.
        if let Some(provider) = aba_payway::AbaPayway::from_config(ctx, &config.aba_payway) {
            providers.add(Arc::new(provider));
        }
        if let Some(provider) = wing::Wing::from_config(ctx, &config.wing) {
            providers.add(Arc::new(provider));
        }
        if let Some(provider) = pipay::PiPay::from_config(ctx, &config.pipay) {
            providers.add(Arc::new(provider));
        }
        if let (Some(key), Some(token)) = (&config.xendit.secret_key, &config.xendit.callback_token)
        {
            providers.add(Arc::new(xendit::Xendit::new(
                key.clone(),
                token.clone(),
                &config.xendit,
            )));
        }
        providers
    }

    fn add(&mut self, provider: Arc<dyn Provider>) {
        self.by_name.insert(provider.name(), provider);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Provider>> {
        self.by_name.get(name)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.by_name.keys().copied().collect()
    }
}

/// Instructions to pay on a hosted page.
pub fn redirect(url: String, intent: &PaymentIntent<'_>) -> Instructions {
    Instructions {
        kind: "redirect".into(),
        redirect_url: Some(url),
        qr_payload: None,
        qr_svg: None,
        bank_transfer: None,
        amount: intent.amount,
        currency: intent.currency,
        expires_at: intent.expires_at,
    }
}

/// The HTTP client of provider APIs: bounded time, so a slow provider cannot hold a request.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap_or_default()
}

/// A client whose timeout the provider's configuration sets (slow sandboxes; fast tests).
pub fn http_client_with_timeout(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .build()
        .unwrap_or_default()
}

/// Where a provider sends this deployment its notifications.
pub fn webhook_url(ctx: &Context, provider: &str) -> String {
    format!("{}/api/v1/payments/webhook/{provider}", ctx.public_url())
}

/// A payment's reference at a provider that caps it at 20 characters (ABA PayWay's `tran_id`):
/// the random tail of the payment id, so that payments of one millisecond differ.
pub fn short_reference(id: Uuid) -> String {
    let simple = id.simple().to_string();
    simple[simple.len() - 20..].to_owned()
}

/// Cambodian gateways charge US dollars or riel.
pub fn usd_or_khr(provider: &str, currency: Currency) -> Result<(), ProviderError> {
    match currency {
        Currency::Usd | Currency::Khr => Ok(()),
        other => Err(ProviderError::Unsupported(format!(
            "{provider} charges in USD or KHR, not {}",
            other.code()
        ))),
    }
}

/// A JSON string or number as text: providers send codes and amounts either way.
pub fn json_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// The pairs of an `application/x-www-form-urlencoded` body or query string.
pub fn form_pairs(text: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(text);
    match reqwest::Url::parse(&format!("http://form.invalid/?{text}")) {
        Ok(url) => url
            .query_pairs()
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// `"10000.00"` in a currency with `exponent` decimals → minor units; None if finer or invalid.
pub fn decimal_to_minor(text: &str, exponent: u32) -> Option<i64> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > exponent as usize {
        return None;
    }
    let scale = 10i64.checked_pow(exponent)?;
    let fraction_value: i64 = if fraction.is_empty() {
        0
    } else {
        fraction.parse::<i64>().ok()? * 10i64.pow(exponent - fraction.len() as u32)
    };
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(scale)?
        .checked_add(fraction_value)
}

/// Minor units → the provider's decimal number.
pub fn minor_to_decimal(amount: i64, exponent: u32) -> String {
    if exponent == 0 {
        return amount.to_string();
    }
    let scale = 10i64.pow(exponent);
    format!(
        "{}.{:0width$}",
        amount / scale,
        amount % scale,
        width = exponent as usize
    )
}

/// Hex of bytes (signatures in provider formats).
pub use kernel::hex;

/// Compares secrets in constant time.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_convert_exactly() {
        assert_eq!(decimal_to_minor("10000.00", 0), Some(10_000));
        assert_eq!(decimal_to_minor("10.5", 2), Some(1_050));
        assert_eq!(decimal_to_minor("10.05", 2), Some(1_005));
        assert_eq!(decimal_to_minor("10.055", 2), None);
        assert_eq!(decimal_to_minor("-1", 2), None);
        assert_eq!(decimal_to_minor("abc", 0), None);
        assert_eq!(minor_to_decimal(1_005, 2), "10.05");
        assert_eq!(minor_to_decimal(40_000, 0), "40000");
    }

    #[test]
    fn cambodian_helpers() {
        let id: Uuid = "0190f3b2-7c1e-7a2b-9c3d-4e5f60718293".parse().unwrap();
        assert_eq!(short_reference(id), "7a2b9c3d4e5f60718293");
        assert_eq!(
            form_pairs(b"status=0000&orderID=a%2Bb&digest=x+y"),
            [
                ("status".to_owned(), "0000".to_owned()),
                ("orderID".to_owned(), "a+b".to_owned()),
                ("digest".to_owned(), "x y".to_owned()),
            ]
        );
        assert!(usd_or_khr("X", Currency::Khr).is_ok());
        assert!(matches!(
            usd_or_khr("X", Currency::Idr),
            Err(ProviderError::Unsupported(_))
        ));
    }
}
