//! payments' states and kinds, as its API and events carry them.

use kernel::text_enum;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One entry of a payment's append-only log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TxKind {
    Initiated,
    Pending,
    Succeeded,
    Failed,
    /// The provider reported money that does not match the payment: held for review.
    Flagged,
    RefundRequested,
    Refunded,
    RefundFailed,
}

text_enum!(TxKind {
    Initiated => "INITIATED",
    Pending => "PENDING",
    Succeeded => "SUCCEEDED",
    Failed => "FAILED",
    Flagged => "FLAGGED",
    RefundRequested => "REFUND_REQUESTED",
    Refunded => "REFUNDED",
    RefundFailed => "REFUND_FAILED",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    Initiated,
    Pending,
    Succeeded,
    Failed,
    /// Money arrived that does not match: an operator decides (refund it).
    NeedsReview,
    PartiallyRefunded,
    Refunded,
}
