//! Wing (Wing Bank, Cambodia) online payment, Web SDK v2: Pasar authorizes a payment, the payer
//! pays on Wing's page, Wing calls back, and Wing's inquiry says whether the order is paid. Wing
//! encrypts rather than signs: the authorization's `payload` is AES-256-CBC under the merchant's
//! password, its `hash` the uppercase hex SHA-256 of an AES-256-CBC encryption of
//! `username#rest_api_key#bill_till_number#amount#order_reference_no#rand_str#timestamp`, and
//! callbacks arrive AES-256-CBC encrypted under SHA-256 of the REST API key.
//!
//! From public material (Wing publishes no open documentation; its Web SDK spec 2.0.3 is
//! reproduced by public SDKs and merchant integrations):
//! - `POST {api}/v1/online/payment/authorization`, JSON `username rest_api_key payload hash
//!   sandbox` with `Referer: base64(registered domain)`. `payload` = base64(AES-256-CBC(JSON
//!   `amount bill_till_number order_reference_no return_url cancel_url rand_str timestamp
//!   merchant_name integration_type`)), key = the password NUL-padded or cut to 32 bytes, IV =
//!   its first 16 bytes, PKCS#7 padding (PHP's `openssl_encrypt`). `hash` = uppercase
//!   HEX(SHA-256(base64(AES-256-CBC(base64(`username#rest_api_key#bill_till_number#amount#
//!   order_reference_no#rand_str#timestamp`), key = password, IV = rand_str)))); amounts always
//!   carry two decimals (`15.00`, in USD as in KHR). Answers `errorCode` (`200`), `errorText`,
//!   `token`; the payer opens `{api}/v1/online/payment/confirm?token=base64(token)`.
//! - Callbacks, as Wing's earlier SDK sends them and public integrations read them: `contents` =
//!   base64(AES-256-CBC(JSON, key = SHA-256(REST API key), IV = 16 zero bytes)). A callback is
//!   no proof: confirm with the inquiry before delivering.
//! - Wing's error codes, among them `E0204` (not enough balance), `00067` (account blocked),
//!   `00210` (too many attempts), `006035` (transaction not found).
//!
//! Assumed (not found in public material):
//! - Web SDK v2 callbacks are encrypted like the earlier SDK's, carry `contents` in a JSON or a
//!   form body, and name the order in `order_reference_no` (or `remark`).
//! - The inquiry is `POST {api}/v1/online/payment/inquiry`, JSON `username rest_api_key
//!   order_reference_no sandbox`, answering like the earlier SDK's `inquiry`: `errorCode` `200`
//!   with `transaction_id`, `amount` and `currency` once paid. The refusal codes above are
//!   declines; any other code means nothing is paid yet.
//! - A biller account (`bill_till_number`) takes one currency, configured here: Wing's payload
//!   names none.
//! - Wing has no public refund API: refunds are manual.

use std::time::Duration;

use aes::Aes256;
use async_trait::async_trait;
use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use kernel::{Currency, Timestamp};
use platform::Context;
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Map, Value};

use super::*;
use crate::config::WingConfig;
use crate::domain::Reported;

pub const NAME: &str = "wing";
pub const AUTHORIZATION_PATH: &str = "/v1/online/payment/authorization";
pub const CONFIRM_PATH: &str = "/v1/online/payment/confirm";
pub const INQUIRY_PATH: &str = "/v1/online/payment/inquiry";
/// Inquiry codes that say the payment was refused, not merely absent.
pub const DECLINES: [&str; 3] = ["E0204", "00067", "00210"];

type Encryptor = cbc::Encryptor<Aes256>;
type Decryptor = cbc::Decryptor<Aes256>;

pub struct Wing {
    ctx: Context,
    username: String,
    rest_api_key: String,
    password: String,
    bill_till_number: String,
    currency: Currency,
    api_url: String,
    referer: Option<String>,
    return_url: Option<String>,
    cancel_url: Option<String>,
    sandbox: bool,
    polls: bool,
    client: reqwest::Client,
}

impl Wing {
    /// The provider when its four credentials are configured.
    pub fn from_config(ctx: &Context, config: &WingConfig) -> Option<Self> {
        let set = |value: &Option<String>| value.clone().filter(|v| !v.is_empty());
        Some(Self {
            ctx: ctx.clone(),
            username: set(&config.username)?,
            rest_api_key: set(&config.rest_api_key)?,
            password: set(&config.password)?,
            bill_till_number: set(&config.bill_till_number)?,
            currency: config.currency,
            api_url: config.api_url.trim_end_matches('/').to_owned(),
            referer: set(&config.referer),
            return_url: set(&config.return_url),
            cancel_url: set(&config.cancel_url),
            sandbox: config.sandbox,
            polls: config.poll,
            client: http_client_with_timeout(Duration::from_secs(config.timeout_secs.max(1))),
        })
    }

    fn sandbox_flag(&self) -> &'static str {
        if self.sandbox {
            "1"
        } else {
            "0"
        }
    }

    /// `Referer`: the registered domain, base64.
    fn referer(&self) -> String {
        let domain = self
            .referer
            .clone()
            .unwrap_or_else(|| self.ctx.public_url());
        STANDARD.encode(domain)
    }

    /// The inquiry: Wing's word on an order. Pending when nothing is paid yet.
    async fn inquire(&self, order: &str) -> Result<Report, ProviderError> {
        let response = self
            .client
            .post(format!("{}{INQUIRY_PATH}", self.api_url))
            .header(reqwest::header::REFERER, self.referer())
            .json(&serde_json::json!({
                "username": self.username,
                "rest_api_key": self.rest_api_key,
                "order_reference_no": order,
                "sandbox": self.sandbox_flag(),
            }))
            .send()
            .await?;
        let http = response.status();
        if !http.is_success() {
            return Err(ProviderError::Upstream(format!(
                "Wing's inquiry answered {http}"
            )));
        }
        let answer: Map<String, Value> = response.json().await?;
        let code = answer
            .get("errorCode")
            .and_then(json_text)
            .unwrap_or_default();
        if code != "200" {
            return Ok(Report {
                event_id: format!("{order}:{code}"),
                payment: PaymentRef::ProviderReference(order.to_owned()),
                reported: if DECLINES.contains(&code.as_str()) {
                    Reported::Failed
                } else {
                    Reported::Pending
                },
                amount: None,
                currency: None,
            });
        }
        let transaction = answer
            .get("transaction_id")
            .and_then(json_text)
            .unwrap_or_default();
        let (amount, currency) = paid_amount(
            answer.get("amount").and_then(json_text).as_deref(),
            answer.get("currency").and_then(json_text).as_deref(),
            self.currency,
        );
        Ok(Report {
            event_id: format!("{order}:paid:{transaction}"),
            payment: PaymentRef::ProviderReference(order.to_owned()),
            reported: Reported::Succeeded,
            amount,
            currency: Some(currency),
        })
    }
}

/// AES-256-CBC with PKCS#7 padding as PHP's `openssl_encrypt(.., 'AES-256-CBC', key,
/// OPENSSL_RAW_DATA, iv)`: the key NUL-padded or cut to 32 bytes, the IV to 16.
pub fn encrypt(key: &[u8], iv: &[u8], plain: &[u8]) -> Result<Vec<u8>, ProviderError> {
    let cipher = Encryptor::new_from_slices(&fit::<32>(key), &fit::<16>(iv))
        .map_err(|_| ProviderError::Upstream("AES key or IV of the wrong length".into()))?;
    Ok(cipher.encrypt_padded_vec_mut::<Pkcs7>(plain))
}

/// The inverse of [`encrypt`]; None when the padding does not check (a wrong key).
pub fn decrypt(key: &[u8], iv: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    Decryptor::new_from_slices(&fit::<32>(key), &fit::<16>(iv))
        .ok()?
        .decrypt_padded_vec_mut::<Pkcs7>(sealed)
        .ok()
}

fn fit<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let n = bytes.len().min(N);
    out[..n].copy_from_slice(&bytes[..n]);
    out
}

/// The authorization's `payload`: the payment's JSON sealed with the password (its first 16
/// bytes as the IV), base64.
pub fn seal_payload(password: &str, json: &str) -> Result<String, ProviderError> {
    Ok(STANDARD.encode(encrypt(
        password.as_bytes(),
        password.as_bytes(),
        json.as_bytes(),
    )?))
}

/// The authorization's `hash`: uppercase HEX(SHA-256(base64(AES-256-CBC(base64(fields joined
/// by `#`), password, rand_str)))).
pub fn request_hash(
    password: &str,
    rand_str: &str,
    fields: &[&str],
) -> Result<String, ProviderError> {
    let inner = STANDARD.encode(fields.join("#"));
    let sealed = encrypt(password.as_bytes(), rand_str.as_bytes(), inner.as_bytes())?;
    let digest = digest::digest(&digest::SHA256, STANDARD.encode(sealed).as_bytes());
    Ok(hex(digest.as_ref()).to_ascii_uppercase())
}

/// A callback's `contents` opened with SHA-256 of the REST API key (zero IV); None when it does
/// not open, i.e. was not sealed with that key.
pub fn open_callback(rest_api_key: &str, contents: &str) -> Option<Vec<u8>> {
    // Form bodies may turn base64's `+` into spaces, and some encoders wrap lines.
    let cleaned: String = contents
        .trim()
        .chars()
        .filter(|c| *c != '\n' && *c != '\r')
        .map(|c| if c == ' ' { '+' } else { c })
        .collect();
    let sealed = STANDARD.decode(cleaned.as_bytes()).ok()?;
    let key = digest::digest(&digest::SHA256, rest_api_key.as_bytes());
    decrypt(key.as_ref(), &[0u8; 16], &sealed)
}

/// Wing's amount: always two decimals, in USD as in KHR.
pub fn amount_text(amount: i64, currency: Currency) -> String {
    match currency.exponent() {
        0 => format!("{amount}.00"),
        exponent => minor_to_decimal(amount, exponent),
    }
}

/// An inquiry's amount in minor units, and its currency: `12.50` with a currency field, or
/// `USD 12.50` as Wing also writes it; the biller's currency when none is named.
pub fn paid_amount(
    amount: Option<&str>,
    currency: Option<&str>,
    biller: Currency,
) -> (Option<i64>, Currency) {
    let text = amount.unwrap_or_default().trim();
    let (named, number) = match text.rsplit_once(' ') {
        Some((prefix, number)) => (Currency::parse(prefix.trim()), number),
        None => (None, text),
    };
    let currency = currency
        .and_then(|c| Currency::parse(c.trim()))
        .or(named)
        .unwrap_or(biller);
    let minor = decimal_to_minor(&number.replace(',', ""), currency.exponent());
    (minor, currency)
}

/// Sixteen hex characters from the system's random source: `rand_str`, also the hash's IV.
fn rand_str() -> Result<String, ProviderError> {
    let mut bytes = [0u8; 8];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ProviderError::Upstream("no randomness for Wing's rand_str".into()))?;
    Ok(hex(&bytes))
}

#[async_trait]
impl Provider for Wing {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn initiate(&self, intent: &PaymentIntent<'_>) -> Result<Initiated, ProviderError> {
        usd_or_khr("Wing", intent.currency)?;
        if intent.currency != self.currency {
            return Err(ProviderError::Unsupported(format!(
                "this Wing biller account takes {}, not {}",
                self.currency.code(),
                intent.currency.code()
            )));
        }
        let order = short_reference(intent.payment_id);
        let amount = amount_text(intent.amount, intent.currency);
        let rand_str = rand_str()?;
        let timestamp = Timestamp::now().seconds().to_string();
        let public_url = self.ctx.public_url();
        let payload = serde_json::json!({
            "amount": amount,
            "bill_till_number": self.bill_till_number,
            "order_reference_no": order,
            "return_url": self.return_url.clone().unwrap_or_else(|| public_url.clone()),
            "cancel_url": self.cancel_url.clone().unwrap_or_else(|| public_url.clone()),
            "rand_str": rand_str,
            "timestamp": timestamp,
            "merchant_name": "",
            "integration_type": "WEBAPP",
        })
        .to_string();
        let hash = request_hash(
            &self.password,
            &rand_str,
            &[
                self.username.as_str(),
                self.rest_api_key.as_str(),
                self.bill_till_number.as_str(),
                amount.as_str(),
                order.as_str(),
                rand_str.as_str(),
                timestamp.as_str(),
            ],
        )?;
        let response = self
            .client
            .post(format!("{}{AUTHORIZATION_PATH}", self.api_url))
            .header(reqwest::header::REFERER, self.referer())
            .json(&serde_json::json!({
                "username": self.username,
                "rest_api_key": self.rest_api_key,
                "payload": seal_payload(&self.password, &payload)?,
                "hash": hash,
                "sandbox": self.sandbox_flag(),
            }))
            .send()
            .await?;
        let http = response.status();
        let body = response.bytes().await?;
        let answer: Map<String, Value> = serde_json::from_slice(&body).map_err(|_| {
            ProviderError::Upstream(format!("Wing's authorization answered {http}, not JSON"))
        })?;
        let code = answer
            .get("errorCode")
            .and_then(json_text)
            .unwrap_or_default();
        let token = answer
            .get("token")
            .and_then(json_text)
            .filter(|token| code == "200" && !token.is_empty())
            .ok_or_else(|| {
                let text = answer
                    .get("errorText")
                    .and_then(json_text)
                    .unwrap_or_default();
                ProviderError::Upstream(format!("Wing refused the authorization: {code} {text}"))
            })?;
        let page = reqwest::Url::parse_with_params(
            &format!("{}{CONFIRM_PATH}", self.api_url),
            [("token", STANDARD.encode(token))],
        )
        .map_err(|e| ProviderError::Upstream(format!("Wing's payment page: {e}")))?;
        Ok(Initiated {
            provider_reference: order,
            instructions: redirect(page.to_string(), intent),
        })
    }

    /// A callback opens with the REST API key's hash or is refused; what it says is a hint the
    /// inquiry then confirms.
    fn verify_webhook(&self, _headers: &HeaderMap, body: &[u8]) -> Result<Report, ProviderError> {
        let contents = match serde_json::from_slice::<Map<String, Value>>(body) {
            Ok(fields) => fields.get("contents").and_then(json_text),
            Err(_) => form_pairs(body)
                .into_iter()
                .find(|(name, _)| name == "contents")
                .map(|(_, value)| value),
        }
        .ok_or(ProviderError::InvalidSignature)?;
        let opened =
            open_callback(&self.rest_api_key, &contents).ok_or(ProviderError::InvalidSignature)?;
        let fields: Map<String, Value> =
            serde_json::from_slice(&opened).map_err(|_| ProviderError::InvalidSignature)?;
        let order = fields
            .get("order_reference_no")
            .or_else(|| fields.get("remark"))
            .and_then(json_text)
            .filter(|order| !order.is_empty())
            .ok_or_else(|| ProviderError::Malformed("a callback naming no order".into()))?;
        let transaction = fields
            .get("transaction_id")
            .and_then(json_text)
            .unwrap_or_default();
        Ok(Report {
            event_id: format!("callback:{order}:{transaction}"),
            payment: PaymentRef::ProviderReference(order),
            // Wing calls back after a payment.
            reported: Reported::Succeeded,
            amount: None,
            currency: None,
        })
    }

    fn confirms_callbacks(&self) -> bool {
        true
    }

    async fn confirm(&self, report: Report) -> Result<Report, ProviderError> {
        let PaymentRef::ProviderReference(order) = report.payment.clone() else {
            return Ok(report);
        };
        self.inquire(&order).await
    }

    async fn refund(
        &self,
        _payment: &PaymentRecord,
        _refund_id: &str,
        _amount: i64,
    ) -> Result<RefundOutcome, ProviderError> {
        Ok(RefundOutcome::Manual {
            note: "Wing has no public refund API: send the money back from the Wing merchant \
                   account, then record it"
                .into(),
        })
    }

    fn polls(&self) -> bool {
        self.polls
    }

    async fn poll(&self, payment: &PaymentRecord) -> Result<Option<Report>, ProviderError> {
        let report = self.inquire(&payment.provider_reference).await?;
        Ok((report.reported != Reported::Pending).then_some(report))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors computed with Python's `cryptography` (and the payload also with `openssl enc`).
    const PASSWORD: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn payload_is_aes_256_cbc_under_the_password() {
        let json = r#"{"amount":"12.50","order_reference_no":"0a1b2c3d4e5f60718293"}"#;
        let sealed = seal_payload(PASSWORD, json).unwrap();
        assert_eq!(
            sealed,
            "VQBVG69MrfXBN5lijXkMa+220FLI+RNloRuF0UJl/3LNOsojBizJW2DnWWl7KkU4HOOhbYz51Rke2VMNMf4+lQ=="
        );
        let opened = decrypt(
            PASSWORD.as_bytes(),
            PASSWORD.as_bytes(),
            &STANDARD.decode(sealed).unwrap(),
        );
        assert_eq!(opened.as_deref(), Some(json.as_bytes()));
    }

    #[test]
    fn hash_seals_the_joined_fields_with_rand_str() {
        let hash = request_hash(
            PASSWORD,
            "1a2b3c4d5e6f7081",
            &[
                "online.pasar",
                "rest-key-1",
                "5140",
                "12.50",
                "0a1b2c3d4e5f60718293",
                "1a2b3c4d5e6f7081",
                "1767323045",
            ],
        )
        .unwrap();
        assert_eq!(
            hash,
            "E77C425A47BA9D9F102C00B3EFCD256B98B879D7729C4402F794337B73055ABB"
        );
    }

    #[test]
    fn callbacks_open_with_the_rest_api_key_only() {
        let contents = "YoQ69O+wZqMVhLKKKSYU/3PvECtuGG/GFfeIWMSGnLkcMaVhOebZsywRcrNuaIOIgtDEbJAlpDs2cG+bYPtlBlraIoAYeA338umcOrrgmaFLKWWTZt7Bjska8zhZ59Hmm2fu3Q+OR4YP1LvZx0c87Q==";
        let opened = open_callback("rest-key-1", contents).expect("opens");
        assert_eq!(
            String::from_utf8(opened).unwrap(),
            r#"{"order_reference_no":"0a1b2c3d4e5f60718293","transaction_id":"ONL031157","amount":"12.50","currency":"USD"}"#
        );
        // A form body that turned `+` into spaces still opens.
        assert!(open_callback("rest-key-1", &contents.replace('+', " ")).is_some());
        assert!(open_callback("another-key", contents)
            .is_none_or(|o| serde_json::from_slice::<Value>(&o).is_err()));
        assert!(open_callback("rest-key-1", "not base64!").is_none());
    }

    #[test]
    fn amounts_always_have_two_decimals() {
        assert_eq!(amount_text(1_250, Currency::Usd), "12.50");
        assert_eq!(amount_text(40_000, Currency::Khr), "40000.00");
        assert_eq!(
            paid_amount(Some("12.50"), Some("USD"), Currency::Khr),
            (Some(1_250), Currency::Usd)
        );
        assert_eq!(
            paid_amount(Some(" USD 30.00"), None, Currency::Khr),
            (Some(3_000), Currency::Usd)
        );
        assert_eq!(
            paid_amount(Some("40,000.00"), None, Currency::Khr),
            (Some(40_000), Currency::Khr)
        );
    }
}
