//! The refund request several modules send to payments (orders for cancelled, returned or
//! late-paid orders; vouchers for unused vouchers): one payload, one meaning, whatever the
//! event type that carries it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::money::Currency;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundRequest {
    /// Unique per request: payments refunds once per id.
    pub request_id: Uuid,
    pub payment_id: Uuid,
    pub group_id: Uuid,
    /// None when the whole payment goes back (a duplicate payment).
    pub order_id: Option<Uuid>,
    pub amount: i64,
    pub currency: Currency,
    /// `order_cancelled`, `order_returned`, `paid_after_expiry`, `duplicate_payment`,
    /// `voucher_refunded`.
    pub reason: String,
}
