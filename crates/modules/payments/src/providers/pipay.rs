//! Pi Pay (Cambodia): the payer's browser takes a form to Pi Pay's `starttransaction` page, Pi
//! Pay sends the browser back to `confirmURL` with the outcome, and Pi Pay's
//! `verifyTransaction` API confirms it. Pi Pay's digests are plain MD5, with no secret:
//! `MD5(mid + orderid + orderAmount)` on the form and `MD5(transID + orderID + processorID)` on
//! the return. They catch mangled requests, not forged ones, so a return counts only once
//! `verifyTransaction` agrees.
//!
//! From public merchant integrations (OpenCart, Yii, Laravel, Java, Node and NestJS clients;
//! Pi Pay publishes no open documentation):
//! - `{api}/starttransaction`, form fields `mid sid did lang orderid orderDesc orderAmount
//!   currency payerEmail orderDate payMethod (wallet) trType confirmURL cancelURL cancelTimer
//!   digest`; sandbox `https://onlinepayment-uat.pipay.com`, production
//!   `https://onlinepayment.pipay.com`.
//! - The return to `confirmURL` carries `status` (`0000` paid; `0001`, `0003` to `0007`
//!   failures; `0200` cancelled by the payer; `0201` invalid wallet), `orderID`, `transID`,
//!   `processorID` and `digest`.
//! - `POST {api}/rest-api/verifyTransaction`, JSON `{"data": {"orderID", "processorID"}}`, or
//!   by order alone `{"data": {"orderID", "mid", "sid"}}`; answers `resultCode` (`0000`) and
//!   `data.processorResponseCode` (`OK`), `amount`, `currency`, `processorID`.
//!
//! Assumed (not found in public material):
//! - `starttransaction` takes its fields as a query string too: the payer is redirected with
//!   them (a client that must POST can build the form from the redirect's query).
//! - Verification by order alone answers for any order, so returns and polls both use it:
//!   Pasar does not keep `processorID`.
//! - `cancelTimer` is in seconds; `trType` `2` is a purchase (`1` and `2` both appear in public
//!   code).
//! - Pi Pay has no public refund API: refunds are manual.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use axum::http::HeaderMap;
use kernel::Timestamp;
use platform::Context;
use serde_json::{Map, Value};

use super::*;
use crate::config::PiPayConfig;
use crate::domain::khqr::md5_hex;
use crate::domain::Reported;

pub const NAME: &str = "pipay";
pub const START_PATH: &str = "/starttransaction";
pub const VERIFY_PATH: &str = "/rest-api/verifyTransaction";
/// A purchase (see the module's assumptions).
const TRANSACTION_TYPE: &str = "2";

pub struct PiPay {
    ctx: Context,
    mid: String,
    sid: String,
    did: String,
    api_url: String,
    confirm_url: Option<String>,
    cancel_url: Option<String>,
    polls: bool,
    client: reqwest::Client,
}

impl PiPay {
    /// The provider when its merchant, store and device ids are configured.
    pub fn from_config(ctx: &Context, config: &PiPayConfig) -> Option<Self> {
        let set = |value: &Option<String>| value.clone().filter(|v| !v.is_empty());
        Some(Self {
            ctx: ctx.clone(),
            mid: set(&config.mid)?,
            sid: set(&config.sid)?,
            did: set(&config.did)?,
            api_url: config.api_url.trim_end_matches('/').to_owned(),
            confirm_url: set(&config.confirm_url),
            cancel_url: set(&config.cancel_url),
            polls: config.poll,
            client: http_client_with_timeout(Duration::from_secs(config.timeout_secs.max(1))),
        })
    }

    /// `verifyTransaction` by order: the paid report when Pi Pay says the order is paid.
    async fn verify(&self, order: &str) -> Result<Option<Report>, ProviderError> {
        let response = self
            .client
            .post(format!("{}{VERIFY_PATH}", self.api_url))
            .json(&serde_json::json!({
                "data": { "orderID": order, "mid": self.mid, "sid": self.sid },
            }))
            .send()
            .await?;
        let http = response.status();
        if !http.is_success() {
            return Err(ProviderError::Upstream(format!(
                "Pi Pay's verifyTransaction answered {http}"
            )));
        }
        let answer: Map<String, Value> = response.json().await?;
        let result = answer
            .get("resultCode")
            .and_then(json_text)
            .unwrap_or_default();
        let data = answer
            .get("data")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let processor = data
            .get("processorResponseCode")
            .and_then(json_text)
            .unwrap_or_default();
        if result != "0000" || processor != "OK" {
            return Ok(None);
        }
        let currency = data
            .get("currency")
            .and_then(json_text)
            .and_then(|c| kernel::Currency::parse(c.trim()));
        let amount = currency.and_then(|c| {
            data.get("amount")
                .and_then(json_text)
                .and_then(|a| decimal_to_minor(&a, c.exponent()))
        });
        let processor_id = data
            .get("processorID")
            .and_then(json_text)
            .unwrap_or_default();
        Ok(Some(Report {
            event_id: format!("{order}:paid:{processor_id}"),
            payment: PaymentRef::ProviderReference(order.to_owned()),
            reported: Reported::Succeeded,
            amount,
            currency,
        }))
    }
}

/// The form's `digest`: MD5 of `mid + orderid + orderAmount`, lowercase hex.
pub fn start_digest(mid: &str, order: &str, amount: &str) -> String {
    md5_hex(&format!("{mid}{order}{amount}"))
}

/// The return's `digest`: MD5 of `transID + orderID + processorID`, lowercase hex.
pub fn return_digest(trans_id: &str, order: &str, processor_id: &str) -> String {
    md5_hex(&format!("{trans_id}{order}{processor_id}"))
}

#[async_trait]
impl Provider for PiPay {
    fn name(&self) -> &'static str {
        NAME
    }

    /// Nothing to ask Pi Pay yet: the payer's browser starts the transaction.
    async fn initiate(&self, intent: &PaymentIntent<'_>) -> Result<Initiated, ProviderError> {
        usd_or_khr("Pi Pay", intent.currency)?;
        let order = short_reference(intent.payment_id);
        let amount = minor_to_decimal(intent.amount, intent.currency.exponent());
        let now = Timestamp::now();
        // The page gives up when the order group stops waiting for the money.
        let cancel_timer = ((intent.expires_at.millis() - now.millis()) / 1000).max(60);
        let fields = [
            ("mid", self.mid.clone()),
            ("sid", self.sid.clone()),
            ("did", self.did.clone()),
            ("lang", "en".to_owned()),
            ("orderid", order.clone()),
            ("orderDesc", format!("Order {}", intent.group_number)),
            ("orderAmount", amount.clone()),
            ("currency", intent.currency.code().to_owned()),
            ("orderDate", now.to_rfc3339()),
            ("payMethod", "wallet".to_owned()),
            ("trType", TRANSACTION_TYPE.to_owned()),
            (
                "confirmURL",
                self.confirm_url
                    .clone()
                    .unwrap_or_else(|| webhook_url(&self.ctx, NAME)),
            ),
            (
                "cancelURL",
                self.cancel_url
                    .clone()
                    .unwrap_or_else(|| self.ctx.public_url()),
            ),
            ("cancelTimer", cancel_timer.to_string()),
            ("digest", start_digest(&self.mid, &order, &amount)),
        ];
        let page =
            reqwest::Url::parse_with_params(&format!("{}{START_PATH}", self.api_url), fields)
                .map_err(|e| ProviderError::Upstream(format!("Pi Pay's payment page: {e}")))?;
        Ok(Initiated {
            provider_reference: order,
            instructions: redirect(page.to_string(), intent),
        })
    }

    /// The return (`confirmURL`, as a query string or a form body): its digest must match.
    fn verify_webhook(&self, _headers: &HeaderMap, body: &[u8]) -> Result<Report, ProviderError> {
        let fields: BTreeMap<String, String> = form_pairs(body).into_iter().collect();
        let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or_default();
        let digest = fields
            .get("digest")
            .filter(|d| !d.is_empty())
            .ok_or(ProviderError::InvalidSignature)?;
        let (order, trans_id, processor_id) =
            (field("orderID"), field("transID"), field("processorID"));
        let expected = return_digest(trans_id, order, processor_id);
        if !same_secret(expected.as_bytes(), digest.to_ascii_lowercase().as_bytes()) {
            return Err(ProviderError::InvalidSignature);
        }
        if order.is_empty() {
            return Err(ProviderError::Malformed("a return naming no order".into()));
        }
        let status = field("status");
        Ok(Report {
            event_id: format!("return:{order}:{trans_id}:{status}"),
            payment: PaymentRef::ProviderReference(order.to_owned()),
            reported: if status == "0000" {
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

    /// Anyone can compute a return's digest: a paid order is what `verifyTransaction` says.
    /// Any other return, success or failure, is only pending: a forged failure must not fail a
    /// payment the payer may still complete. One such record per order, so forged returns
    /// add nothing.
    async fn confirm(&self, report: Report) -> Result<Report, ProviderError> {
        let PaymentRef::ProviderReference(order) = report.payment.clone() else {
            return Ok(report);
        };
        Ok(match self.verify(&order).await? {
            Some(paid) => paid,
            None => Report {
                event_id: format!("{order}:unconfirmed"),
                reported: Reported::Pending,
                ..report
            },
        })
    }

    async fn refund(
        &self,
        _payment: &PaymentRecord,
        _refund_id: &str,
        _amount: i64,
    ) -> Result<RefundOutcome, ProviderError> {
        Ok(RefundOutcome::Manual {
            note: "Pi Pay has no public refund API: refund from the Pi Pay merchant portal, then \
                   record it"
                .into(),
        })
    }

    fn polls(&self) -> bool {
        self.polls
    }

    async fn poll(&self, payment: &PaymentRecord) -> Result<Option<Report>, ProviderError> {
        self.verify(&payment.provider_reference).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors computed with Python's hashlib from the documented concatenations.

    #[test]
    fn digests_are_md5_of_the_documented_concatenations() {
        assert_eq!(
            start_digest("110247", "0a1b2c3d4e5f60718293", "12.50"),
            "bf09b42b2954054e3b66e50ebaaa90e9"
        );
        assert_eq!(
            return_digest("T1", "0a1b2c3d4e5f60718293", "P1"),
            "aea438f936fdd73c1b13ad526b18ca69"
        );
    }
}
