//! The refund several modules ask of payments (orders for cancelled, returned or
//! late-paid orders; vouchers for unused vouchers): one payload, one meaning, whatever the
//! event type that carries it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use kernel::Currency;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestedRefund {
    /// Unique per request: payments refunds once per id.
    pub request_id: Uuid,
    pub payment_id: Uuid,
    pub group_id: Uuid,
    /// None when the whole payment goes back (a duplicate payment).
    pub order_id: Option<Uuid>,
    pub amount: i64,
    pub currency: Currency,
    pub reason: RefundReason,
}

/// Why money goes back. It also says which part of a payment the refund may draw on: an
/// order's goods, its vouchers (only ever after vouchers voided them), or all of an order or
/// payment that was never fulfilled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundReason {
    /// A paid order was cancelled: its goods.
    OrderCancelled,
    /// A delivered order came back: its goods.
    OrderReturned,
    /// Payment arrived after the order expired: all of the order.
    PaidAfterExpiry,
    /// Payment arrived after the order was cancelled: all of the order.
    OrderNotPayable,
    /// A second payment of an order group: all of it.
    DuplicatePayment,
    /// Vouchers were voided unused (by their buyer, or with their order): their unused value.
    VoucherRefunded,
}

kernel::text_enum!(RefundReason {
    OrderCancelled => "order_cancelled",
    OrderReturned => "order_returned",
    PaidAfterExpiry => "paid_after_expiry",
    OrderNotPayable => "order_not_payable",
    DuplicatePayment => "duplicate_payment",
    VoucherRefunded => "voucher_refunded",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_keep_their_wire_names() {
        for reason in RefundReason::ALL {
            let json = serde_json::to_value(reason).unwrap();
            assert_eq!(json, reason.as_str());
            assert_eq!(RefundReason::parse(reason.as_str()), Some(*reason));
        }
    }
}
