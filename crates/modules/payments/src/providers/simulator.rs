//! The development gateway: a page to approve or decline, and signed webhooks it sends to
//! `/api/v1/payments/webhook/simulator` over HTTP like a real gateway. It also stands in for
//! Bakong's API (KHQR payments approved on its page are reported paid when polled).

use async_trait::async_trait;
use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use kernel::Currency;
use platform::Context;
use ring::hmac;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::*;

pub const SIGNATURE_HEADER: &str = "x-simulator-signature";

/// The body of a simulator webhook.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimulatorEvent {
    pub event_id: String,
    pub payment_id: Uuid,
    /// `PENDING`, `SUCCEEDED` or `FAILED`.
    pub status: String,
    pub amount: i64,
    pub currency: Currency,
}

pub struct Simulator {
    ctx: Context,
    key: hmac::Key,
}

impl Simulator {
    pub fn new(ctx: Context, secret: &str) -> Self {
        Self {
            ctx,
            key: hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()),
        }
    }
}

/// `sha256=<base64 HMAC-SHA256 of the body>`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    format!(
        "sha256={}",
        STANDARD.encode(hmac::sign(&key, body).as_ref())
    )
}

#[async_trait]
impl Provider for Simulator {
    fn name(&self) -> &'static str {
        "simulator"
    }

    async fn initiate(&self, intent: &PaymentIntent<'_>) -> Result<Initiated, ProviderError> {
        Ok(Initiated {
            provider_reference: intent.payment_id.to_string(),
            instructions: redirect(
                format!(
                    "{}/api/v1/payments/simulator/{}",
                    self.ctx.public_url(),
                    intent.payment_id
                ),
                intent,
            ),
        })
    }

    fn verify_webhook(&self, headers: &HeaderMap, body: &[u8]) -> Result<Report, ProviderError> {
        let signature = headers
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("sha256="))
            .and_then(|v| STANDARD.decode(v).ok())
            .ok_or(ProviderError::InvalidSignature)?;
        hmac::verify(&self.key, body, &signature).map_err(|_| ProviderError::InvalidSignature)?;
        let event: SimulatorEvent =
            serde_json::from_slice(body).map_err(|e| ProviderError::Malformed(e.to_string()))?;
        let reported = match event.status.as_str() {
            "PENDING" => Reported::Pending,
            "SUCCEEDED" => Reported::Succeeded,
            "FAILED" => Reported::Failed,
            other => return Err(ProviderError::Malformed(format!("status {other}"))),
        };
        Ok(Report {
            event_id: event.event_id,
            payment: PaymentRef::Id(event.payment_id),
            reported,
            amount: Some(event.amount),
            currency: Some(event.currency),
        })
    }

    async fn refund(
        &self,
        _payment: &PaymentRecord,
        refund_id: &str,
        _amount: i64,
    ) -> Result<RefundOutcome, ProviderError> {
        Ok(RefundOutcome::Succeeded {
            reference: format!("simref_{refund_id}"),
        })
    }
}

/// Sends a signed webhook to this deployment's webhook endpoint, as a gateway would.
pub async fn send_webhook(
    public_url: &str,
    secret: &str,
    event: &SimulatorEvent,
) -> Result<(), ProviderError> {
    let body = serde_json::to_vec(event).map_err(|e| ProviderError::Malformed(e.to_string()))?;
    let response = http_client()
        .post(format!("{public_url}/api/v1/payments/webhook/simulator"))
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, sign(secret, &body))
        .body(body)
        .send()
        .await?;
    if !response.status().is_success() {
        return Err(ProviderError::Upstream(format!(
            "webhook answered {}",
            response.status()
        )));
    }
    Ok(())
}

/// A simulated Bakong transaction hash.
pub fn bakong_hash(md5: &str) -> String {
    format!("sim{}", &md5[..md5.len().min(16)])
}
