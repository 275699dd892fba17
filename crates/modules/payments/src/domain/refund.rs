//! Which part of a payment a refund may draw on. A payment can buy goods and vouchers; once a
//! voucher is redeemed its value belongs to the merchant, so a refund of an order's goods (a
//! cancellation, a return, an admin's refund) never reaches the vouchers' part: that part goes
//! back only when vouchers voids the unused vouchers and asks for exactly their unused value.

use orders_contract::PayableOrder;
use payments_contract::RefundReason;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundScope {
    /// All of a payment that fulfilled nothing (a duplicate, or money that did not match).
    Payment,
    /// All of an order that this payment never fulfilled (paid after it closed).
    Order(Uuid),
    /// An order's goods: its amount less its vouchers' value.
    Goods(Uuid),
    /// An order's vouchers, voided by vouchers.
    Vouchers(Uuid),
}

impl RefundScope {
    /// The scope of a request from another module: its reason says what was (not) delivered.
    pub fn of(reason: RefundReason, order_id: Option<Uuid>) -> Self {
        use RefundReason::*;
        match (reason, order_id) {
            (_, None) => RefundScope::Payment,
            (OrderCancelled | OrderReturned, Some(id)) => RefundScope::Goods(id),
            (PaidAfterExpiry | OrderNotPayable | DuplicatePayment, Some(id)) => {
                RefundScope::Order(id)
            }
            (VoucherRefunded, Some(id)) => RefundScope::Vouchers(id),
        }
    }

    pub fn order_id(self) -> Option<Uuid> {
        match self {
            RefundScope::Payment => None,
            RefundScope::Order(id) | RefundScope::Goods(id) | RefundScope::Vouchers(id) => Some(id),
        }
    }

    /// The name recorded with the request in the payment's log.
    pub fn name(self) -> &'static str {
        match self {
            RefundScope::Payment => "payment",
            RefundScope::Order(_) => "order",
            RefundScope::Goods(_) => "goods",
            RefundScope::Vouchers(_) => "vouchers",
        }
    }

    /// Reads a recorded scope back; requests recorded before scopes were kept are read from
    /// their reason (an admin's free text counts as goods).
    pub fn recorded(name: Option<&str>, reason: Option<&str>, order_id: Option<Uuid>) -> Self {
        let Some(id) = order_id else {
            return RefundScope::Payment;
        };
        match name {
            Some("payment") => RefundScope::Payment,
            Some("order") => RefundScope::Order(id),
            Some("goods") => RefundScope::Goods(id),
            Some("vouchers") => RefundScope::Vouchers(id),
            _ => match reason.and_then(RefundReason::parse) {
                Some(reason) => RefundScope::of(reason, order_id),
                None => RefundScope::Goods(id),
            },
        }
    }
}

/// A refund asked for and still holding its money (not failed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub reference: String,
    pub scope: RefundScope,
    pub amount: i64,
}

/// How much a refund in `scope` may still take, given what the payment may still refund as a
/// whole (`refundable`), the claims already made, and the orders the payment paid.
pub fn room(refundable: i64, claims: &[Claim], scope: RefundScope, orders: &[PayableOrder]) -> i64 {
    let Some(order) = scope
        .order_id()
        .and_then(|id| orders.iter().find(|o| o.order_id == id))
    else {
        // The whole payment, or an order this payment did not pay: only the payment's bound.
        return refundable.max(0);
    };
    let claimed = |wanted: fn(RefundScope) -> bool| -> i64 {
        claims
            .iter()
            .filter(|c| c.scope.order_id() == Some(order.order_id) && wanted(c.scope))
            .map(|c| c.amount)
            .sum()
    };
    let mut cap = order.amount - claimed(|_| true);
    if let Some(vouchers) = order.voucher_amount {
        cap = match scope {
            RefundScope::Goods(_) => {
                cap.min(order.amount - vouchers - claimed(|s| matches!(s, RefundScope::Goods(_))))
            }
            RefundScope::Vouchers(_) => {
                cap.min(vouchers - claimed(|s| matches!(s, RefundScope::Vouchers(_))))
            }
            _ => cap,
        };
    }
    refundable.min(cap).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(id: Uuid, amount: i64, vouchers: Option<i64>) -> PayableOrder {
        PayableOrder {
            order_id: id,
            amount,
            voucher_amount: vouchers,
        }
    }

    fn claim(scope: RefundScope, amount: i64) -> Claim {
        Claim {
            reference: kernel::new_id().to_string(),
            scope,
            amount,
        }
    }

    #[test]
    fn goods_never_reach_the_vouchers_part() {
        // 2,000 of goods and two vouchers of 10,000.
        let id = kernel::new_id();
        let orders = [order(id, 22_000, Some(20_000))];
        assert_eq!(room(22_000, &[], RefundScope::Goods(id), &orders), 2_000);
        let after_goods = [claim(RefundScope::Goods(id), 2_000)];
        assert_eq!(
            room(20_000, &after_goods, RefundScope::Goods(id), &orders),
            0
        );
        // One voucher was redeemed: vouchers asks for the other one only.
        assert_eq!(
            room(20_000, &after_goods, RefundScope::Vouchers(id), &orders),
            20_000
        );
        let both = [
            claim(RefundScope::Goods(id), 2_000),
            claim(RefundScope::Vouchers(id), 10_000),
        ];
        assert_eq!(
            room(10_000, &both, RefundScope::Vouchers(id), &orders),
            10_000
        );
        assert_eq!(room(10_000, &both, RefundScope::Goods(id), &orders), 0);
    }

    #[test]
    fn an_unfulfilled_order_goes_back_whole_but_never_twice() {
        let id = kernel::new_id();
        let orders = [order(id, 22_000, Some(20_000))];
        assert_eq!(room(22_000, &[], RefundScope::Order(id), &orders), 22_000);
        let claims = [claim(RefundScope::Order(id), 22_000)];
        assert_eq!(room(0, &claims, RefundScope::Vouchers(id), &orders), 0);
    }

    #[test]
    fn each_order_of_a_payment_has_its_own_bound() {
        let (a, b) = (kernel::new_id(), kernel::new_id());
        let orders = [order(a, 1_000, Some(0)), order(b, 5_000, Some(5_000))];
        assert_eq!(room(6_000, &[], RefundScope::Goods(a), &orders), 1_000);
        assert_eq!(room(6_000, &[], RefundScope::Goods(b), &orders), 0);
        assert_eq!(room(6_000, &[], RefundScope::Vouchers(b), &orders), 5_000);
        // Never more than the payment still holds.
        assert_eq!(room(700, &[], RefundScope::Vouchers(b), &orders), 700);
    }

    #[test]
    fn payments_recorded_before_voucher_amounts_keep_the_order_bound_only() {
        let id = kernel::new_id();
        let orders = [order(id, 3_000, None)];
        assert_eq!(room(3_000, &[], RefundScope::Goods(id), &orders), 3_000);
        assert_eq!(room(3_000, &[], RefundScope::Vouchers(id), &orders), 3_000);
    }

    #[test]
    fn scopes_follow_reasons_and_read_back() {
        let id = kernel::new_id();
        assert_eq!(
            RefundScope::of(RefundReason::OrderCancelled, Some(id)),
            RefundScope::Goods(id)
        );
        assert_eq!(
            RefundScope::of(RefundReason::PaidAfterExpiry, Some(id)),
            RefundScope::Order(id)
        );
        assert_eq!(
            RefundScope::of(RefundReason::DuplicatePayment, None),
            RefundScope::Payment
        );
        for scope in [
            RefundScope::Order(id),
            RefundScope::Goods(id),
            RefundScope::Vouchers(id),
        ] {
            assert_eq!(
                RefundScope::recorded(Some(scope.name()), None, Some(id)),
                scope
            );
        }
        assert_eq!(
            RefundScope::recorded(None, Some("voucher_refunded"), Some(id)),
            RefundScope::Vouchers(id)
        );
        assert_eq!(
            RefundScope::recorded(None, Some("damaged in transit"), Some(id)),
            RefundScope::Goods(id)
        );
    }
}
