//! payments' public face: payments, their transaction log and instructions, refunds, and the
//! events payments publish.

mod errors;
pub use errors::PaymentsCode;

mod manual;
mod refund_request;
mod states;
pub use manual::*;
pub use refund_request::{RefundReason, RequestedRefund};
pub use states::*;

use kernel::{Currency, DomainEvent, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreatePayment {
    pub order_group_id: Uuid,
    /// A configured method: `simulator`, `khqr`, `aba_payway`, `wing`, `pipay`,
    /// `bank_transfer`, `midtrans` or `xendit`.
    pub method: String,
}

/// How the customer pays: open `redirectUrl`, or scan the QR.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Instructions {
    /// `redirect`, `qr` or `bank_transfer`.
    pub kind: String,
    pub redirect_url: Option<String>,
    /// The KHQR payload (EMVCo) to render or hand to a banking app.
    pub qr_payload: Option<String>,
    /// The QR as an SVG image.
    pub qr_svg: Option<String>,
    /// Where to send a bank transfer (`bank_transfer`).
    #[serde(default)]
    pub bank_transfer: Option<BankTransferDetails>,
    pub amount: i64,
    pub currency: Currency,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    pub seq: i64,
    pub kind: TxKind,
    pub amount: i64,
    pub currency: Currency,
    pub reference: Option<String>,
    pub detail: Option<serde_json::Value>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub id: Uuid,
    pub order_group_id: Uuid,
    pub customer_id: Uuid,
    pub method: String,
    pub amount: i64,
    pub currency: Currency,
    /// Derived from the transaction log.
    pub status: PaymentStatus,
    pub captured: i64,
    pub refunded: i64,
    /// Refunds asked for and not yet settled.
    pub refund_pending: i64,
    pub provider_reference: String,
    pub created_at: Timestamp,
    pub transactions: Vec<Transaction>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefundRequest {
    /// Minor units; defaults to everything still refundable.
    #[serde(default)]
    pub amount: Option<i64>,
    pub reason: String,
    /// The order of the payment the refund is for (recorded on that order).
    #[serde(default)]
    pub order_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundAccepted {
    pub refund_id: String,
    pub amount: i64,
    pub currency: Currency,
    /// Refunds go through the provider asynchronously; the payment shows `REFUNDED` entries.
    pub status: String,
}

/// An operator paid a refund back outside the provider (KHQR has no refund API).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManualRefund {
    /// The transfer's reference at the bank.
    pub reference: String,
}

/// What a webhook did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookAck {
    /// `applied`, `ignored` (nothing new), `duplicate` (seen before), `unknown_payment`, `flagged`.
    pub outcome: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayableOrder {
    pub order_id: Uuid,
    pub amount: i64,
    /// The part of `amount` paid for vouchers. It goes back only when vouchers voids them
    /// (and asks for it), never with a refund of the order's goods. Absent on payments made
    /// before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher_amount: Option<i64>,
}

// ---- events ----

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentSucceeded {
    pub payment_id: Uuid,
    pub order_group_id: Uuid,
    pub customer_id: Uuid,
    pub method: String,
    pub amount: i64,
    pub currency: Currency,
    pub orders: Vec<PayableOrder>,
}

impl DomainEvent for PaymentSucceeded {
    const TYPE: &'static str = "payment.succeeded";
    fn aggregate_id(&self) -> String {
        self.payment_id.to_string()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentFailed {
    pub payment_id: Uuid,
    pub order_group_id: Uuid,
    pub customer_id: Uuid,
    pub method: String,
}

impl DomainEvent for PaymentFailed {
    const TYPE: &'static str = "payment.failed";
    fn aggregate_id(&self) -> String {
        self.payment_id.to_string()
    }
}

/// Money arrived that does not match the payment: an operator must look.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentFlagged {
    pub payment_id: Uuid,
    pub order_group_id: Uuid,
    pub expected_amount: i64,
    pub expected_currency: Currency,
    pub reported_amount: Option<i64>,
    pub reported_currency: Option<Currency>,
}

impl DomainEvent for PaymentFlagged {
    const TYPE: &'static str = "payment.flagged";
    fn aggregate_id(&self) -> String {
        self.payment_id.to_string()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRefunded {
    pub payment_id: Uuid,
    pub order_group_id: Uuid,
    /// Who paid and gets the money back (absent on events published before it was carried).
    #[serde(default)]
    pub customer_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
    pub refund_id: String,
    pub amount: i64,
    pub currency: Currency,
    pub reason: String,
}

impl DomainEvent for PaymentRefunded {
    const TYPE: &'static str = "payment.refunded";
    fn aggregate_id(&self) -> String {
        self.payment_id.to_string()
    }
}

/// Every event payments publishes, for the event catalogue.
pub fn events() -> Vec<kernel::EventSpec> {
    vec![
        kernel::EventSpec::of::<PaymentSucceeded>(),
        kernel::EventSpec::of::<PaymentFailed>(),
        kernel::EventSpec::of::<PaymentFlagged>(),
        kernel::EventSpec::of::<PaymentRefunded>(),
        kernel::EventSpec::of::<PaymentsAwaiting>(),
    ]
}
