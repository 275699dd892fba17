//! ABA PayWay (ABA Bank, Cambodia), e-commerce checkout: the Purchase API answers a KHQR string
//! and a hosted checkout page, PayWay pushes the outcome back, and its Check Transaction API says
//! what really happened. Every request carries `hash` = base64(HMAC-SHA512(the field values
//! concatenated in a documented order, API key)); pushbacks carry the same HMAC over their
//! values sorted by key, in `X-PayWay-HMAC-SHA512`.
//!
//! From PayWay's public API documentation (developer.payway.com.kh, also mirrored in public
//! integrations):
//! - `POST {api}/api/payment-gateway/v1/payments/purchase`, multipart/form-data. `hash` covers
//!   `req_time merchant_id tran_id amount items shipping firstname lastname email phone type
//!   payment_option return_url cancel_url continue_success_url return_deeplink currency
//!   custom_fields return_params payout lifetime additional_params google_pay_token
//!   skip_success_page`, unsent fields counting as empty. `req_time` is UTC `YYYYMMDDHHmmss`,
//!   `tran_id` at most 20 characters, `return_url` (where pushbacks go) base64, `lifetime` in
//!   minutes (3 to 43200), KHR amounts without decimals. With `payment_option =
//!   abapay_khqr_deeplink` the answer is JSON: `status.code` (`00`), `qr_string`,
//!   `abapay_deeplink`, `checkout_qr_url`.
//! - Pushback: PayWay POSTs JSON (`tran_id`, `apv`, `status`, `return_params`, more by method)
//!   to `return_url`, signed in `X-PayWay-HMAC-SHA512`: base64 HMAC-SHA512 of the values sorted
//!   by key and concatenated, nested values JSON-encoded (PHP's `ksort` and `json_encode`).
//!   PayWay recommends checking the transaction before trusting one.
//! - `POST {api}/api/payment-gateway/v1/payments/check-transaction-2`, JSON `req_time
//!   merchant_id tran_id hash`, `hash` over `req_time merchant_id tran_id`. Answers
//!   `status.code` (`00`; `6` when the transaction is unknown) and `data.payment_status`
//!   (APPROVED, PRE-AUTH, PENDING, DECLINED, REFUNDED, CANCELLED), `total_amount`,
//!   `payment_currency`, `apv`.
//! - `POST {api}/api/merchant-portal/merchant-access/online-transaction/refund`, JSON
//!   `request_time merchant_id merchant_auth hash`: `merchant_auth` is the JSON `{"mc_id",
//!   "tran_id", "refund_amount"}` RSA-encrypted (PKCS#1 v1.5, in chunks) with the refund key ABA
//!   issues on request, base64; `hash` covers `request_time merchant_id merchant_auth`. Answers
//!   `status.code` `00` and `transaction_status`. Partial refunds may repeat.
//!
//! Assumed (not in the documentation found):
//! - The pushback's HMAC key is the API key (the sample calls it the "secret key").
//! - Pushback values are stringified as PHP does: integers as digits, floats in their shortest
//!   form, `true` as `1`, `false` and `null` as nothing; nested objects are encoded in key order.
//! - A refund PayWay did not answer may have happened: it is left to an operator, not retried.

use std::fmt::Write as _;
use std::time::Duration;

use async_trait::async_trait;
use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use kernel::{Currency, Timestamp};
use platform::Context;
use ring::hmac;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Encrypt, RsaPublicKey};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::*;
use crate::config::AbaPaywayConfig;
use crate::domain::Reported;

pub const NAME: &str = "aba_payway";
pub const SIGNATURE_HEADER: &str = "x-payway-hmac-sha512";
pub const PURCHASE_PATH: &str = "/api/payment-gateway/v1/payments/purchase";
pub const CHECK_PATH: &str = "/api/payment-gateway/v1/payments/check-transaction-2";
pub const REFUND_PATH: &str = "/api/merchant-portal/merchant-access/online-transaction/refund";
/// The payment option whose answer is JSON (a KHQR, a deep link, a hosted page); the others
/// answer an HTML form meant for a browser.
pub const PAYMENT_OPTION: &str = "abapay_khqr_deeplink";

pub struct AbaPayway {
    ctx: Context,
    merchant_id: String,
    key: hmac::Key,
    refund_key: Option<RsaPublicKey>,
    api_url: String,
    polls: bool,
    client: reqwest::Client,
}

impl AbaPayway {
    /// The provider when its merchant id and API key are configured.
    pub fn from_config(ctx: &Context, config: &AbaPaywayConfig) -> Option<Self> {
        let merchant_id = config.merchant_id.clone().filter(|m| !m.is_empty())?;
        let api_key = config.api_key.as_deref().filter(|k| !k.is_empty())?;
        let refund_key = config
            .rsa_public_key
            .as_deref()
            .filter(|pem| !pem.trim().is_empty())
            .and_then(|pem| match refund_key(pem) {
                Ok(key) => Some(key),
                Err(err) => {
                    tracing::error!(error = %err, "payments.aba_payway.rsa_public_key is not an RSA public key: PayWay refunds stay manual");
                    None
                }
            });
        Some(Self {
            ctx: ctx.clone(),
            merchant_id,
            key: hmac::Key::new(hmac::HMAC_SHA512, api_key.as_bytes()),
            refund_key,
            api_url: config.api_url.trim_end_matches('/').to_owned(),
            polls: config.poll,
            client: http_client_with_timeout(Duration::from_secs(config.timeout_secs.max(1))),
        })
    }

    fn hash(&self, text: &str) -> String {
        STANDARD.encode(hmac::sign(&self.key, text.as_bytes()).as_ref())
    }

    /// Check Transaction: PayWay's word on a transaction; None when PayWay does not know it.
    async fn check(&self, tran_id: &str) -> Result<Option<Report>, ProviderError> {
        let req_time = req_time(Timestamp::now());
        let hash = self.hash(&format!("{req_time}{}{tran_id}", self.merchant_id));
        let response = self
            .client
            .post(format!("{}{CHECK_PATH}", self.api_url))
            .json(&serde_json::json!({
                "req_time": req_time,
                "merchant_id": self.merchant_id,
                "tran_id": tran_id,
                "hash": hash,
            }))
            .send()
            .await?;
        let http = response.status();
        if !http.is_success() {
            return Err(ProviderError::Upstream(format!(
                "PayWay's Check Transaction answered {http}"
            )));
        }
        let answer: CheckAnswer = response.json().await?;
        let (code, message) = status_of(&answer.status);
        match code.as_str() {
            "00" => {}
            "6" => return Ok(None),
            _ => {
                return Err(ProviderError::Upstream(format!(
                    "PayWay's Check Transaction refused: {code} {message}"
                )))
            }
        }
        let data = answer.data.unwrap_or_default();
        let payment_status = data
            .get("payment_status")
            .and_then(json_text)
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reported = match payment_status.as_str() {
            // A refunded transaction was paid first: the refund is Pasar's own record.
            "APPROVED" | "REFUNDED" => Reported::Succeeded,
            "DECLINED" | "CANCELLED" => Reported::Failed,
            // PENDING, and PRE-AUTH (funds held, not taken).
            _ => Reported::Pending,
        };
        let currency = data
            .get("payment_currency")
            .and_then(json_text)
            .and_then(|c| Currency::parse(c.trim()));
        let amount = currency.and_then(|c| {
            data.get("total_amount")
                .or_else(|| data.get("payment_amount"))
                .and_then(json_text)
                .and_then(|a| decimal_to_minor(&a, c.exponent()))
        });
        Ok(Some(Report {
            event_id: format!("{tran_id}:{payment_status}"),
            payment: PaymentRef::ProviderReference(tran_id.to_owned()),
            reported,
            amount,
            currency,
        }))
    }
}

/// `YYYYMMDDHHmmss` in UTC: PayWay's `req_time` and `request_time`.
pub fn req_time(at: Timestamp) -> String {
    at.to_rfc3339()
        .chars()
        .take(19)
        .filter(char::is_ascii_digit)
        .collect()
}

/// base64(HMAC-SHA512(text, API key)): the `hash` of every PayWay request and pushback.
pub fn sign(api_key: &str, text: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA512, api_key.as_bytes());
    STANDARD.encode(hmac::sign(&key, text.as_bytes()).as_ref())
}

/// The fields of a Purchase request, each hashed in this order (unsent ones as empty text).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purchase {
    pub req_time: String,
    pub merchant_id: String,
    pub tran_id: String,
    pub amount: String,
    pub items: String,
    pub shipping: String,
    pub firstname: String,
    pub lastname: String,
    pub email: String,
    pub phone: String,
    pub kind: String,
    pub payment_option: String,
    pub return_url: String,
    pub cancel_url: String,
    pub continue_success_url: String,
    pub return_deeplink: String,
    pub currency: String,
    pub custom_fields: String,
    pub return_params: String,
    pub payout: String,
    pub lifetime: String,
    pub additional_params: String,
    pub google_pay_token: String,
    pub skip_success_page: String,
}

impl Purchase {
    /// (form field, value) in PayWay's hash order.
    pub fn fields(&self) -> [(&'static str, &str); 24] {
        [
            ("req_time", self.req_time.as_str()),
            ("merchant_id", self.merchant_id.as_str()),
            ("tran_id", self.tran_id.as_str()),
            ("amount", self.amount.as_str()),
            ("items", self.items.as_str()),
            ("shipping", self.shipping.as_str()),
            ("firstname", self.firstname.as_str()),
            ("lastname", self.lastname.as_str()),
            ("email", self.email.as_str()),
            ("phone", self.phone.as_str()),
            ("type", self.kind.as_str()),
            ("payment_option", self.payment_option.as_str()),
            ("return_url", self.return_url.as_str()),
            ("cancel_url", self.cancel_url.as_str()),
            ("continue_success_url", self.continue_success_url.as_str()),
            ("return_deeplink", self.return_deeplink.as_str()),
            ("currency", self.currency.as_str()),
            ("custom_fields", self.custom_fields.as_str()),
            ("return_params", self.return_params.as_str()),
            ("payout", self.payout.as_str()),
            ("lifetime", self.lifetime.as_str()),
            ("additional_params", self.additional_params.as_str()),
            ("google_pay_token", self.google_pay_token.as_str()),
            ("skip_success_page", self.skip_success_page.as_str()),
        ]
    }

    /// The text `hash` covers: every value in order, concatenated.
    pub fn hash_input(&self) -> String {
        self.fields().iter().map(|(_, value)| *value).collect()
    }
}

/// The payment's lifetime at PayWay in minutes: until the order group stops waiting, within
/// PayWay's bounds.
pub fn lifetime_minutes(now: Timestamp, expires_at: Timestamp) -> i64 {
    ((expires_at.millis() - now.millis()) / 60_000).clamp(3, 43_200)
}

/// The text a pushback's signature covers: the values sorted by key and concatenated, as
/// PayWay's PHP sample builds it (`ksort`, nested values through `json_encode`).
pub fn pushback_text(fields: &Map<String, Value>) -> String {
    let mut entries: Vec<(&String, &Value)> = fields.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
        .into_iter()
        .map(|(_, value)| php_string(value))
        .collect()
}

/// A decoded JSON value as PHP's string conversion writes it.
fn php_string(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        // PHP prints a float like 10.0 as "10": Rust's shortest form does the same.
        Value::Number(n) => n.as_f64().map(|f| f.to_string()).unwrap_or_default(),
        Value::Bool(true) => "1".into(),
        Value::Bool(false) | Value::Null => String::new(),
        Value::Array(_) | Value::Object(_) => php_json(value),
    }
}

/// `json_encode` with PHP's default flags: `/` and non-ASCII escaped, an empty object as `[]`
/// (PHP decodes it to an empty array).
fn php_json(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(text) => php_json_string(text),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(php_json).collect::<Vec<_>>().join(",")
        ),
        Value::Object(map) if map.is_empty() => "[]".into(),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}:{}", php_json_string(k), php_json(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

fn php_json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
    out
}

/// A multipart/form-data body of text fields (the Purchase API takes no files).
pub fn multipart(boundary: &str, fields: &[(&str, &str)]) -> Vec<u8> {
    let mut body = String::new();
    for (name, value) in fields {
        let _ = write!(
            body,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        );
    }
    let _ = write!(body, "--{boundary}--\r\n");
    body.into_bytes()
}

/// The refund key from its PEM: SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`) or PKCS#1 (`BEGIN
/// RSA PUBLIC KEY`); `\n` escapes are accepted, as environment variables carry them.
pub fn refund_key(pem: &str) -> Result<RsaPublicKey, String> {
    let pem = pem.replace("\\n", "\n");
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = STANDARD
        .decode(body.as_bytes())
        .map_err(|e| e.to_string())?;
    RsaPublicKey::from_public_key_der(&der)
        .or_else(|_| RsaPublicKey::from_pkcs1_der(&der))
        .map_err(|e| e.to_string())
}

/// `merchant_auth`: `plain` RSA-encrypted (PKCS#1 v1.5) in chunks of the key's size less the
/// padding's 11 bytes, the ciphertexts concatenated, base64.
pub fn merchant_auth(key: &RsaPublicKey, plain: &[u8]) -> Result<String, ProviderError> {
    let chunk = key.size().saturating_sub(11).max(1);
    let mut rng = rsa::rand_core::OsRng;
    let mut sealed = Vec::new();
    for part in plain.chunks(chunk) {
        let block = key
            .encrypt(&mut rng, Pkcs1v15Encrypt, part)
            .map_err(|e| ProviderError::Upstream(format!("RSA encryption failed: {e}")))?;
        sealed.extend_from_slice(&block);
    }
    Ok(STANDARD.encode(sealed))
}

/// `status` of a PayWay answer: `{code, message}`, or a bare code in older answers.
fn status_of(status: &Value) -> (String, String) {
    match status {
        Value::Object(fields) => (
            fields.get("code").and_then(json_text).unwrap_or_default(),
            fields
                .get("message")
                .and_then(json_text)
                .unwrap_or_default(),
        ),
        other => (json_text(other).unwrap_or_default(), String::new()),
    }
}

#[derive(Deserialize)]
struct PurchaseAnswer {
    #[serde(default)]
    status: Value,
    #[serde(default)]
    qr_string: Option<String>,
    #[serde(default)]
    checkout_qr_url: Option<String>,
}

#[derive(Deserialize)]
struct CheckAnswer {
    #[serde(default)]
    status: Value,
    #[serde(default)]
    data: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
struct RefundAnswer {
    #[serde(default)]
    status: Value,
}

#[async_trait]
impl Provider for AbaPayway {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn initiate(&self, intent: &PaymentIntent<'_>) -> Result<Initiated, ProviderError> {
        usd_or_khr("ABA PayWay", intent.currency)?;
        let now = Timestamp::now();
        let tran_id = short_reference(intent.payment_id);
        let purchase = Purchase {
            req_time: req_time(now),
            merchant_id: self.merchant_id.clone(),
            tran_id: tran_id.clone(),
            amount: minor_to_decimal(intent.amount, intent.currency.exponent()),
            payment_option: PAYMENT_OPTION.into(),
            return_url: STANDARD.encode(webhook_url(&self.ctx, NAME)),
            currency: intent.currency.code().into(),
            lifetime: lifetime_minutes(now, intent.expires_at).to_string(),
            ..Purchase::default()
        };
        let hash = self.hash(&purchase.hash_input());
        let mut fields: Vec<(&str, &str)> = purchase
            .fields()
            .into_iter()
            .filter(|(_, value)| !value.is_empty())
            .collect();
        fields.push(("hash", hash.as_str()));
        let boundary = format!("pasar{}", intent.payment_id.simple());
        let response = self
            .client
            .post(format!("{}{PURCHASE_PATH}", self.api_url))
            .header(
                reqwest::header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(multipart(&boundary, &fields))
            .send()
            .await?;
        // PayWay answers refusals (a wrong hash: 403) with the same JSON as successes.
        let http = response.status();
        let body = response.bytes().await?;
        let answer: PurchaseAnswer = serde_json::from_slice(&body).map_err(|_| {
            ProviderError::Upstream(format!("PayWay's Purchase answered {http}, not JSON"))
        })?;
        let (code, message) = status_of(&answer.status);
        if code != "00" {
            return Err(ProviderError::Upstream(format!(
                "PayWay refused the purchase: {code} {message}"
            )));
        }
        let checkout = answer
            .checkout_qr_url
            .filter(|url| !url.is_empty())
            .ok_or_else(|| ProviderError::Upstream("PayWay answered no checkout page".into()))?;
        let mut instructions = redirect(checkout, intent);
        if let Some(qr) = answer.qr_string.filter(|qr| !qr.is_empty()) {
            instructions.qr_svg = khqr::svg_of(&qr);
            instructions.qr_payload = Some(qr);
        }
        Ok(Initiated {
            provider_reference: tran_id,
            instructions,
        })
    }

    fn verify_webhook(&self, headers: &HeaderMap, body: &[u8]) -> Result<Report, ProviderError> {
        let signature = headers
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or(ProviderError::InvalidSignature)?;
        let fields: Map<String, Value> =
            serde_json::from_slice(body).map_err(|e| ProviderError::Malformed(e.to_string()))?;
        let expected = self.hash(&pushback_text(&fields));
        if !same_secret(expected.as_bytes(), signature.as_bytes()) {
            return Err(ProviderError::InvalidSignature);
        }
        let tran_id = fields
            .get("tran_id")
            .and_then(json_text)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ProviderError::Malformed("a pushback without tran_id".into()))?;
        let status = fields.get("status").and_then(json_text).unwrap_or_default();
        let apv = fields.get("apv").and_then(json_text).unwrap_or_default();
        Ok(Report {
            event_id: format!("pushback:{tran_id}:{status}:{apv}"),
            payment: PaymentRef::ProviderReference(tran_id),
            reported: if status == "0" {
                Reported::Succeeded
            } else {
                Reported::Failed
            },
            amount: None,
            currency: None,
        })
    }

    fn confirms_callbacks(&self) -> bool {
        true
    }

    /// A pushback only names the transaction: Check Transaction says what it became.
    async fn confirm(&self, report: Report) -> Result<Report, ProviderError> {
        let PaymentRef::ProviderReference(tran_id) = report.payment.clone() else {
            return Ok(report);
        };
        self.check(&tran_id).await?.ok_or_else(|| {
            ProviderError::Upstream(format!("PayWay does not know transaction {tran_id}"))
        })
    }

    async fn refund(
        &self,
        payment: &PaymentRecord,
        refund_id: &str,
        amount: i64,
    ) -> Result<RefundOutcome, ProviderError> {
        let Some(key) = &self.refund_key else {
            return Ok(RefundOutcome::Manual {
                note: "PayWay refunds need the RSA key ABA issues on request \
                       (payments.aba_payway.rsa_public_key): refund in the PayWay portal, then \
                       record it"
                    .into(),
            });
        };
        // Field order as in PayWay's sample.
        let plain = format!(
            "{{\"mc_id\":{},\"tran_id\":{},\"refund_amount\":{}}}",
            Value::from(self.merchant_id.as_str()),
            Value::from(payment.provider_reference.as_str()),
            Value::from(minor_to_decimal(amount, payment.currency.exponent())),
        );
        let merchant_auth = merchant_auth(key, plain.as_bytes())?;
        let request_time = req_time(Timestamp::now());
        let hash = self.hash(&format!(
            "{request_time}{}{merchant_auth}",
            self.merchant_id
        ));
        let sent = self
            .client
            .post(format!("{}{REFUND_PATH}", self.api_url))
            .json(&serde_json::json!({
                "request_time": request_time,
                "merchant_id": self.merchant_id,
                "merchant_auth": merchant_auth,
                "hash": hash,
            }))
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            // Never reached PayWay: trying again is safe.
            Err(err) if err.is_connect() => return Err(err.into()),
            // PayWay may have refunded without answering, and has no refund id to make a retry
            // safe: an operator checks the portal.
            Err(err) => return Ok(unanswered_refund(refund_id, &err)),
        };
        let http = response.status();
        let answer: RefundAnswer = match response.json().await {
            Ok(answer) => answer,
            // Whatever answered (PayWay, or a proxy after PayWay acted), the refund may have
            // been paid: a retry could pay it twice, so an operator checks the portal.
            Err(err) => return Ok(unanswered_refund(refund_id, &err)),
        };
        let (code, message) = status_of(&answer.status);
        if code == "00" {
            Ok(RefundOutcome::Succeeded {
                reference: format!("payway:{}:{refund_id}", payment.provider_reference),
            })
        } else {
            Err(ProviderError::Upstream(format!(
                "PayWay refused the refund ({http}): {code} {message}"
            )))
        }
    }

    fn polls(&self) -> bool {
        self.polls
    }

    /// Open payments are checked too, in case a pushback is lost; only news is reported.
    async fn poll(&self, payment: &PaymentRecord) -> Result<Option<Report>, ProviderError> {
        Ok(self
            .check(&payment.provider_reference)
            .await?
            .filter(|report| report.reported != Reported::Pending))
    }
}

fn unanswered_refund(refund_id: &str, err: &reqwest::Error) -> RefundOutcome {
    RefundOutcome::Manual {
        note: format!(
            "PayWay did not answer refund {refund_id} ({err}): see whether the PayWay portal shows \
             it before recording it"
        ),
    }
}

#[cfg(test)]
mod tests;
