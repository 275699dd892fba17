//! Xendit invoices: a hosted payment page; callbacks carry the `x-callback-token` configured in
//! the Xendit dashboard.

use crate::config::XenditConfig;
use async_trait::async_trait;
use axum::http::HeaderMap;
use kernel::Currency;
use serde::Deserialize;

use super::*;

pub const TOKEN_HEADER: &str = "x-callback-token";

pub struct Xendit {
    secret_key: String,
    callback_token: String,
    api_url: String,
    client: reqwest::Client,
}

impl Xendit {
    pub fn new(secret_key: String, callback_token: String, config: &XenditConfig) -> Self {
        Self {
            secret_key,
            callback_token,
            api_url: config.api_url.trim_end_matches('/').to_owned(),
            client: http_client(),
        }
    }
}

/// An invoice callback (the fields Pasar reads).
#[derive(Debug, Deserialize)]
pub struct InvoiceCallback {
    pub id: String,
    pub external_id: String,
    pub status: String,
    #[serde(default)]
    pub paid_amount: Option<serde_json::Number>,
    #[serde(default)]
    pub amount: Option<serde_json::Number>,
    #[serde(default)]
    pub currency: Option<String>,
}

#[derive(Deserialize)]
struct InvoiceCreated {
    id: String,
    invoice_url: String,
}

#[derive(Deserialize)]
struct RefundCreated {
    status: String,
}

#[async_trait]
impl Provider for Xendit {
    fn name(&self) -> &'static str {
        "xendit"
    }

    async fn initiate(&self, intent: &PaymentIntent<'_>) -> Result<Initiated, ProviderError> {
        let body = serde_json::json!({
            "external_id": intent.payment_id.to_string(),
            "amount": minor_to_decimal(intent.amount, intent.currency.exponent()).parse::<f64>().unwrap_or_default(),
            "currency": intent.currency.code(),
            "description": format!("Order {}", intent.group_number),
        });
        let response = self
            .client
            .post(format!("{}/v2/invoices", self.api_url))
            .basic_auth(&self.secret_key, Some(""))
            .json(&body)
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(ProviderError::Upstream(format!(
                "Xendit answered {}",
                response.status()
            )));
        }
        let invoice: InvoiceCreated = response.json().await?;
        Ok(Initiated {
            provider_reference: invoice.id,
            instructions: redirect(invoice.invoice_url, intent),
        })
    }

    fn verify_webhook(&self, headers: &HeaderMap, body: &[u8]) -> Result<Report, ProviderError> {
        let token = headers
            .get(TOKEN_HEADER)
            .map(|v| v.as_bytes())
            .ok_or(ProviderError::InvalidSignature)?;
        if !same_secret(token, self.callback_token.as_bytes()) {
            return Err(ProviderError::InvalidSignature);
        }
        let callback: InvoiceCallback =
            serde_json::from_slice(body).map_err(|e| ProviderError::Malformed(e.to_string()))?;
        let reported = match callback.status.as_str() {
            "PAID" | "SETTLED" => Reported::Succeeded,
            "EXPIRED" | "FAILED" => Reported::Failed,
            _ => Reported::Pending,
        };
        let currency = callback.currency.as_deref().and_then(Currency::parse);
        let amount = callback
            .paid_amount
            .or(callback.amount)
            .zip(currency)
            .and_then(|(n, c)| decimal_to_minor(&n.to_string(), c.exponent()));
        let event_id = headers
            .get("webhook-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{}:{}", callback.id, callback.status));
        Ok(Report {
            event_id,
            payment: callback
                .external_id
                .parse()
                .map(PaymentRef::Id)
                .unwrap_or(PaymentRef::ProviderReference(callback.id.clone())),
            reported,
            amount,
            currency,
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
            .post(format!("{}/refunds", self.api_url))
            .basic_auth(&self.secret_key, Some(""))
            .json(&serde_json::json!({
                "invoice_id": payment.provider_reference,
                "reference_id": refund_id,
                "amount": minor_to_decimal(amount, payment.currency.exponent()).parse::<f64>().unwrap_or_default(),
                "reason": "REQUESTED_BY_CUSTOMER",
            }))
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(ProviderError::Upstream(format!(
                "refund answered {}",
                response.status()
            )));
        }
        let refund: RefundCreated = response.json().await?;
        match refund.status.as_str() {
            "SUCCEEDED" => Ok(RefundOutcome::Succeeded {
                reference: refund_id.to_owned(),
            }),
            other => Ok(RefundOutcome::Manual {
                note: format!("Xendit reports the refund {other}; confirm it in the dashboard"),
            }),
        }
    }
}
