//! Midtrans Snap: a hosted payment page; notifications signed with
//! SHA-512(order_id + status_code + gross_amount + server key). Midtrans charges in IDR.

use crate::config::MidtransConfig;
use async_trait::async_trait;
use axum::http::HeaderMap;
use kernel::Currency;
use ring::digest;
use serde::Deserialize;

use super::*;

pub struct Midtrans {
    server_key: String,
    snap_url: String,
    api_url: String,
    client: reqwest::Client,
}

impl Midtrans {
    pub fn new(server_key: String, config: &MidtransConfig) -> Self {
        Self {
            server_key,
            snap_url: config.snap_url.trim_end_matches('/').to_owned(),
            api_url: config.api_url.trim_end_matches('/').to_owned(),
            client: http_client(),
        }
    }
}

/// A Midtrans HTTP notification (the fields Pasar reads).
#[derive(Debug, Deserialize)]
pub struct Notification {
    pub order_id: String,
    pub status_code: String,
    pub gross_amount: String,
    pub signature_key: String,
    pub transaction_status: String,
    pub transaction_id: String,
    #[serde(default)]
    pub fraud_status: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
}

/// The signature Midtrans puts in `signature_key`.
pub fn signature(
    order_id: &str,
    status_code: &str,
    gross_amount: &str,
    server_key: &str,
) -> String {
    let text = format!("{order_id}{status_code}{gross_amount}{server_key}");
    hex(digest::digest(&digest::SHA512, text.as_bytes()).as_ref())
}

#[derive(Deserialize)]
struct SnapResponse {
    token: String,
    redirect_url: String,
}

#[derive(Deserialize)]
struct RefundResponse {
    status_code: String,
    #[serde(default)]
    status_message: Option<String>,
}

#[async_trait]
impl Provider for Midtrans {
    fn name(&self) -> &'static str {
        "midtrans"
    }

    async fn initiate(&self, intent: &PaymentIntent<'_>) -> Result<Initiated, ProviderError> {
        if intent.currency != Currency::Idr {
            return Err(ProviderError::Unsupported(
                "Midtrans charges in IDR only".into(),
            ));
        }
        let body = serde_json::json!({
            "transaction_details": { "order_id": intent.payment_id.to_string(), "gross_amount": intent.amount },
        });
        let response = self
            .client
            .post(format!("{}/snap/v1/transactions", self.snap_url))
            .basic_auth(&self.server_key, Some(""))
            .json(&body)
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(ProviderError::Upstream(format!(
                "Snap answered {}",
                response.status()
            )));
        }
        let snap: SnapResponse = response.json().await?;
        tracing::debug!(token = %snap.token, "midtrans snap token");
        Ok(Initiated {
            provider_reference: intent.payment_id.to_string(),
            instructions: redirect(snap.redirect_url, intent),
        })
    }

    fn verify_webhook(&self, _headers: &HeaderMap, body: &[u8]) -> Result<Report, ProviderError> {
        let note: Notification =
            serde_json::from_slice(body).map_err(|e| ProviderError::Malformed(e.to_string()))?;
        let expected = signature(
            &note.order_id,
            &note.status_code,
            &note.gross_amount,
            &self.server_key,
        );
        if !same_secret(
            expected.as_bytes(),
            note.signature_key.to_ascii_lowercase().as_bytes(),
        ) {
            return Err(ProviderError::InvalidSignature);
        }
        let reported = match (
            note.transaction_status.as_str(),
            note.fraud_status.as_deref(),
        ) {
            ("capture", Some("challenge")) | ("pending", _) => Reported::Pending,
            ("capture" | "settlement", _) => Reported::Succeeded,
            ("deny" | "cancel" | "expire" | "failure", _) => Reported::Failed,
            // Refund notifications confirm refunds Pasar asked for; they change no payment state.
            _ => Reported::Pending,
        };
        let currency = note
            .currency
            .as_deref()
            .and_then(Currency::parse)
            .unwrap_or(Currency::Idr);
        Ok(Report {
            event_id: format!(
                "{}:{}:{}",
                note.transaction_id, note.transaction_status, note.status_code
            ),
            payment: note
                .order_id
                .parse()
                .map(PaymentRef::Id)
                .unwrap_or(PaymentRef::ProviderReference(note.order_id.clone())),
            reported,
            amount: decimal_to_minor(&note.gross_amount, currency.exponent()),
            currency: Some(currency),
        })
    }

    async fn refund(
        &self,
        payment: &PaymentRecord,
        refund_id: &str,
        amount: i64,
    ) -> Result<RefundOutcome, ProviderError> {
        let response = self
            .client
            .post(format!("{}/v2/{}/refund", self.api_url, payment.provider_reference))
            .basic_auth(&self.server_key, Some(""))
            .json(&serde_json::json!({ "refund_key": refund_id, "amount": amount, "reason": "refund" }))
            .send()
            .await?;
        let answer: RefundResponse = response.json().await?;
        if answer.status_code == "200" {
            Ok(RefundOutcome::Succeeded {
                reference: refund_id.to_owned(),
            })
        } else {
            Err(ProviderError::Upstream(format!(
                "refund answered {}: {}",
                answer.status_code,
                answer.status_message.unwrap_or_default()
            )))
        }
    }
}
