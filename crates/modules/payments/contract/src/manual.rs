//! Payments confirmed by hand: an admin matches a bank transfer to its payment, lists what
//! waits for an operator, and reads who did what to a payment.

use kernel::{Currency, DomainEvent, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Payment;

/// Where the customer sends a bank transfer, and what they must quote with it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BankTransferDetails {
    pub bank_name: String,
    pub account_name: String,
    pub account_number: String,
    /// The reference the customer writes on the transfer, so an operator can match it.
    pub reference: String,
}

/// A transfer an admin found on the bank statement.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyPayment {
    /// The bank's reference of the transfer; one transfer confirms one payment.
    pub bank_reference: String,
    /// What arrived, in minor units. A different amount or currency flags the payment for review.
    pub amount: i64,
    pub currency: Currency,
    #[serde(default)]
    pub note: Option<String>,
}

/// No transfer arrived for a payment verified by hand: it fails, and leaves the operators'
/// list. A transfer found later can still be verified (a success after a failure counts).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RejectPayment {
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// `applied`, `flagged` (the money does not match), `duplicate` (this transfer was already
    /// recorded for this payment) or `ignored` (the payment was settled meanwhile).
    pub outcome: String,
    pub payment: Payment,
}

/// What an operator is waiting on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AwaitingKind {
    /// A payment whose money is confirmed by hand (bank transfer).
    Verification,
    /// A refund the provider cannot pay back: an operator transfers it and settles it.
    Refund,
}

impl AwaitingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AwaitingKind::Verification => "verification",
            AwaitingKind::Refund => "refund",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "verification" => Some(AwaitingKind::Verification),
            "refund" => Some(AwaitingKind::Refund),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwaitingPayment {
    pub kind: AwaitingKind,
    pub payment_id: Uuid,
    pub order_group_id: Uuid,
    pub customer_id: Uuid,
    pub method: String,
    /// The payment's amount, or the refund's.
    pub amount: i64,
    pub currency: Currency,
    /// The reference the customer quoted (verification) or the refund id (refund).
    pub reference: String,
    pub waiting_since: Timestamp,
    /// When admins were last reminded of it.
    pub reminded_at: Option<Timestamp>,
}

/// One admin action on a payment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentAudit {
    pub id: Uuid,
    pub payment_id: Uuid,
    pub actor_id: Uuid,
    /// `verified`, `rejected` or `refund_settled`.
    pub action: String,
    pub detail: serde_json::Value,
    pub created_at: Timestamp,
}

/// Payments or refunds have waited for an operator too long: admins are reminded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentsAwaiting {
    pub verifications: i64,
    pub refunds: i64,
    pub oldest_since: Timestamp,
}

impl DomainEvent for PaymentsAwaiting {
    const TYPE: &'static str = "payment.awaiting_operator";
    fn aggregate_id(&self) -> String {
        "payments".into()
    }
}
