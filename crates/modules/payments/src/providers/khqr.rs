//! KHQR through Bakong: the customer scans an EMVCo QR in any Cambodian banking app; Bakong's
//! Open API (`check_transaction_by_md5`) says when it is paid. Without `payments.khqr.api_url`
//! the simulator's stand-in answers (development and tests). Bakong has no refund API: refunds
//! are transfers an operator makes.

use async_trait::async_trait;
use axum::http::HeaderMap;
use kernel::Currency;
use platform::Context;

use crate::config::KhqrConfig;
use qrcode::render::svg;
use qrcode::QrCode;
use serde::{Deserialize, Serialize};

use super::*;
use crate::api::Instructions;
use crate::domain::khqr::{self, KhqrError, KhqrRequest};

pub struct Khqr {
    ctx: Context,
    config: KhqrConfig,
    client: reqwest::Client,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckByMd5 {
    pub md5: String,
}

/// Bakong's answer: `responseCode` 0 with `data` when found, 1 when not (yet).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BakongResponse {
    pub response_code: i32,
    pub response_message: String,
    pub data: Option<BakongTransaction>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BakongTransaction {
    pub hash: String,
    pub amount: f64,
    pub currency: String,
    pub created_date_ms: i64,
}

impl Khqr {
    pub fn new(ctx: Context, config: KhqrConfig) -> Self {
        Self {
            ctx,
            config,
            client: http_client(),
        }
    }

    fn api_url(&self) -> String {
        match &self.config.api_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("{}/api/v1/payments/simulator/bakong", self.ctx.public_url()),
        }
    }
}

/// The QR as an SVG image.
pub fn svg_of(payload: &str) -> Option<String> {
    let code = QrCode::new(payload.as_bytes()).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(240, 240)
            .build(),
    )
}

#[async_trait]
impl Provider for Khqr {
    fn name(&self) -> &'static str {
        "khqr"
    }

    async fn initiate(&self, intent: &PaymentIntent<'_>) -> Result<Initiated, ProviderError> {
        let config = &self.config;
        let payload = khqr::payload(&KhqrRequest {
            account_id: &config.account_id,
            merchant_name: &config.merchant_name,
            merchant_city: &config.merchant_city,
            amount_minor: intent.amount,
            currency: intent.currency,
            bill_number: intent.group_number,
            created_at: kernel::Timestamp::now(),
            expires_at: intent.expires_at,
        })
        .map_err(|err| match err {
            KhqrError::UnsupportedCurrency(c) => {
                ProviderError::Unsupported(format!("KHQR pays in KHR or USD, not {}", c.code()))
            }
            KhqrError::InvalidAmount => ProviderError::Unsupported("a zero amount".into()),
        })?;
        Ok(Initiated {
            provider_reference: khqr::md5_hex(&payload),
            instructions: Instructions {
                kind: "qr".into(),
                redirect_url: None,
                qr_svg: svg_of(&payload),
                qr_payload: Some(payload),
                bank_transfer: None,
                amount: intent.amount,
                currency: intent.currency,
                expires_at: intent.expires_at,
            },
        })
    }

    fn verify_webhook(&self, _headers: &HeaderMap, _body: &[u8]) -> Result<Report, ProviderError> {
        Err(ProviderError::Unsupported(
            "KHQR payments are confirmed by polling Bakong, not by webhooks".into(),
        ))
    }

    async fn refund(
        &self,
        _payment: &PaymentRecord,
        _refund_id: &str,
        _amount: i64,
    ) -> Result<RefundOutcome, ProviderError> {
        Ok(RefundOutcome::Manual {
            note: "Bakong has no refund API: transfer the amount back and record it".into(),
        })
    }

    fn polls(&self) -> bool {
        true
    }

    async fn poll(&self, payment: &PaymentRecord) -> Result<Option<Report>, ProviderError> {
        let mut request = self
            .client
            .post(format!("{}/v1/check_transaction_by_md5", self.api_url()))
            .json(&CheckByMd5 {
                md5: payment.provider_reference.clone(),
            });
        if let Some(token) = &self.config.api_token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        if !response.status().is_success() {
            return Err(ProviderError::Upstream(format!(
                "Bakong answered {}",
                response.status()
            )));
        }
        let answer: BakongResponse = response.json().await?;
        let Some(found) = answer.data.filter(|_| answer.response_code == 0) else {
            return Ok(None);
        };
        let currency = Currency::parse(&found.currency);
        let amount = currency.and_then(|c| {
            decimal_to_minor(
                &format!("{:.*}", c.exponent() as usize, found.amount),
                c.exponent(),
            )
        });
        Ok(Some(Report {
            event_id: format!("bakong:{}", found.hash),
            payment: PaymentRef::ProviderReference(payment.provider_reference.clone()),
            reported: Reported::Succeeded,
            amount,
            currency,
        }))
    }
}
