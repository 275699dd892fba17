//! payments' use cases: create a payment of an order group through a provider, apply verified
//! provider reports (webhooks and polls) forward only, refunds (requested by orders or by an
//! admin, executed by a job through the provider), and the simulator's gateway actions.

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use kernel::{
    Actor, ActorKind, ApiError, Currency, Cursor, DomainEvent, FieldError, Page, PageQuery,
    Permission, Timestamp,
};
use orders_contract::{OrdersClient, OrdersCode, PayableOrder};
use platform::bus;
use platform::db::{is_unique_violation, Tx};
use platform::http::text;
use platform::idempotency::{self, Attempt};
use platform::jobs;
use platform::services::CallError;
use platform::Context;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::*;
use crate::domain::{self, Entry, RefundScope, Reported, State, TxKind};
use crate::providers::khqr::{BakongResponse, BakongTransaction};
use crate::providers::simulator::{self, SimulatorEvent};
use crate::providers::{
    PaymentIntent, PaymentRecord, PaymentRef, ProviderError, Providers, RefundOutcome, Report,
};
use crate::store::{self, PaymentRow, TxRow};

mod create;
mod manual;
mod refunds;
mod reports;
mod simulation;

use manual::Audit;
pub use manual::REMIND_JOB;
use refunds::recorded_scope;

pub const SOURCE: &str = "payments";
pub const REFUND_JOB: &str = "payments.execute_refund";
pub const REFUND_ATTEMPTS: i32 = 8;
/// Concurrent appends to one payment's log retry this often before giving up.
const APPEND_ATTEMPTS: usize = 5;
/// Open KHQR payments are polled this long after creation.
const POLL_WINDOW_SECS: i64 = 2 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("payment not found")]
    NotFound,
    #[error("order group not found")]
    GroupNotFound,
    #[error("unknown provider")]
    UnknownProvider,
    #[error("method {0} is not available; use one of {1:?}")]
    MethodUnavailable(String, Vec<&'static str>),
    #[error("already paid")]
    AlreadyPaid,
    #[error("nothing to pay")]
    NothingToPay,
    #[error("payment window closed")]
    WindowClosed,
    #[error("not captured")]
    NotCaptured,
    #[error("refund exceeds what is refundable: {0}")]
    RefundTooLarge(i64),
    #[error("no such refund")]
    RefundNotFound,
    #[error("the refund is not pending")]
    RefundNotPending,
    #[error("invalid signature")]
    InvalidSignature,
    #[error("the payment is not verified by hand")]
    NotVerifiable,
    #[error("the payment already has an outcome")]
    AlreadySettled,
    #[error("the bank reference confirmed another payment")]
    BankReferenceInUse,
    #[error(transparent)]
    Provider(ProviderError),
    #[error("the payment changed concurrently")]
    Contended,
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("events: {0}")]
    Bus(#[from] platform::bus::BusError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<PaymentsError> for ApiError {
    fn from(err: PaymentsError) -> Self {
        match err {
            PaymentsError::Invalid(errors) => ApiError::validation(errors),
            PaymentsError::NotFound => ApiError::not_found("payment_not_found", "No such payment"),
            PaymentsError::GroupNotFound => {
                ApiError::not_found("order_group_not_found", "No such order group")
            }
            PaymentsError::UnknownProvider => {
                ApiError::not_found("provider_not_found", "No such payment provider here")
            }
            PaymentsError::MethodUnavailable(method, available) => ApiError::validation_one(
                "method",
                &format!(
                    "{method} is not available; use one of: {}",
                    available.join(", ")
                ),
            )
            .with_code("payment_method_unavailable"),
            PaymentsError::AlreadyPaid => {
                ApiError::conflict("already_paid", "This order group is already paid")
            }
            PaymentsError::NothingToPay => ApiError::conflict(
                "nothing_to_pay",
                "No order of this group is awaiting payment (expired or cancelled)",
            ),
            PaymentsError::WindowClosed => ApiError::conflict(
                "payment_window_closed",
                "The time to pay this order group has passed",
            ),
            PaymentsError::NotCaptured => {
                ApiError::conflict("not_captured", "Nothing was captured to refund")
            }
            PaymentsError::RefundTooLarge(refundable) => ApiError::conflict(
                "refund_exceeds_captured",
                format!("At most {refundable} can still be refunded"),
            )
            .with_extension("refundable", serde_json::json!(refundable)),
            PaymentsError::RefundNotFound => {
                ApiError::not_found("refund_not_found", "No such refund of this payment")
            }
            PaymentsError::RefundNotPending => ApiError::conflict(
                "refund_not_pending",
                "This refund is already settled or failed",
            ),
            PaymentsError::InvalidSignature => {
                ApiError::unauthorized("invalid_signature", "The webhook signature does not verify")
            }
            PaymentsError::NotVerifiable => ApiError::conflict(
                "payment_not_verifiable",
                "Its provider confirms this payment; only bank transfers are verified by hand",
            ),
            PaymentsError::AlreadySettled => ApiError::conflict(
                "payment_already_settled",
                "The payment already has an outcome; a second transfer is a refund matter",
            ),
            PaymentsError::BankReferenceInUse => ApiError::conflict(
                "bank_reference_in_use",
                "This bank transfer already confirmed another payment",
            ),
            PaymentsError::Provider(ProviderError::Unsupported(detail)) => {
                ApiError::validation_one("method", &detail).with_code("payment_method_unsupported")
            }
            PaymentsError::Provider(ProviderError::Malformed(detail)) => {
                ApiError::bad_request("malformed_webhook", detail)
            }
            PaymentsError::Provider(err) => {
                tracing::warn!(error = %err, "payment provider failed");
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "provider_failed",
                    "The payment provider failed; try again",
                )
            }
            PaymentsError::Contended => ApiError::conflict(
                "concurrent_change",
                "The payment changed concurrently; retry",
            ),
            PaymentsError::Forbidden(detail) => ApiError::forbidden(detail),
            PaymentsError::Call(err) => err.into(),
            PaymentsError::Database(_) | PaymentsError::Bus(_) | PaymentsError::Corrupt(_) => {
                tracing::error!(error = %err, "payments failure");
                ApiError::internal()
            }
        }
    }
}

impl From<ProviderError> for PaymentsError {
    fn from(err: ProviderError) -> Self {
        match err {
            ProviderError::InvalidSignature => PaymentsError::InvalidSignature,
            other => PaymentsError::Provider(other),
        }
    }
}

pub type Result<T> = std::result::Result<T, PaymentsError>;

/// The job that carries a refund to the provider.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundJob {
    pub payment_id: Uuid,
    pub refund_id: String,
    pub amount: i64,
    pub order_id: Option<Uuid>,
    pub reason: String,
}

pub struct Payments {
    pub ctx: Context,
    pub config: crate::config::PaymentsConfig,
    orders: OrdersClient,
    pub providers: Providers,
    simulator_secret: String,
}

impl Payments {
    pub fn new(ctx: Context) -> Arc<Self> {
        let config: crate::config::PaymentsConfig = ctx.config.section_or_default();
        let simulator_secret = config
            .simulator
            .webhook_secret
            .clone()
            .or_else(|| platform::secrets::random_token().ok())
            .unwrap_or_else(|| kernel::new_id().to_string());
        Arc::new(Self {
            orders: OrdersClient::new(ctx.services.clone(), SOURCE),
            providers: Providers::from_config(&ctx, &config, &simulator_secret),
            simulator_secret,
            config,
            ctx,
        })
    }
}

async fn publish<E: DomainEvent>(tx: &mut Tx, event: &E) -> Result<()> {
    bus::publish(tx, SOURCE, event).await?;
    Ok(())
}

fn invalid(field: &str, message: &str) -> PaymentsError {
    PaymentsError::Invalid(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

fn to_json(value: &impl Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| PaymentsError::Corrupt(e.to_string()))
}

fn parse_currency(text: &str) -> Result<Currency> {
    Currency::parse(text).ok_or_else(|| PaymentsError::Corrupt(format!("currency {text}")))
}

fn entries(rows: &[TxRow]) -> Result<Vec<Entry>> {
    rows.iter()
        .map(|r| {
            let kind = TxKind::parse(&r.kind)
                .ok_or_else(|| PaymentsError::Corrupt(format!("kind {}", r.kind)))?;
            Ok(Entry {
                kind,
                amount: r.amount,
                reference: r.reference.clone(),
                scope: (kind == TxKind::RefundRequested).then(|| recorded_scope(r)),
            })
        })
        .collect()
}

fn paid_orders(payment: &PaymentRow) -> Result<Vec<PayableOrder>> {
    serde_json::from_str(&payment.orders).map_err(|e| PaymentsError::Corrupt(e.to_string()))
}

fn record_of(row: &PaymentRow) -> Result<PaymentRecord> {
    Ok(PaymentRecord {
        id: row.id,
        provider_reference: row.provider_reference.clone(),
        amount: row.amount,
        currency: parse_currency(&row.currency)?,
        created_at: Timestamp::from_millis(row.created_at),
    })
}

fn view(row: &PaymentRow, txs: &[TxRow]) -> Result<Payment> {
    let state = State::fold(&entries(txs)?);
    let currency = parse_currency(&row.currency)?;
    Ok(Payment {
        id: row.id,
        order_group_id: row.order_group_id,
        customer_id: row.customer_id,
        method: row.provider.clone(),
        amount: row.amount,
        currency,
        status: state.status(),
        captured: state.captured,
        refunded: state.refunded,
        refund_pending: state.refund_requested - state.refunded,
        provider_reference: row.provider_reference.clone(),
        created_at: Timestamp::from_millis(row.created_at),
        transactions: txs
            .iter()
            .map(|t| {
                Ok(Transaction {
                    seq: t.seq,
                    kind: TxKind::parse(&t.kind)
                        .ok_or_else(|| PaymentsError::Corrupt(t.kind.clone()))?,
                    amount: t.amount,
                    currency: parse_currency(&t.currency)?,
                    reference: t.reference.clone(),
                    detail: t
                        .detail
                        .as_deref()
                        .and_then(|d| serde_json::from_str(d).ok()),
                    created_at: Timestamp::from_millis(t.created_at),
                })
            })
            .collect::<Result<Vec<_>>>()?,
    })
}
