//! The chart of accounts and the shape of postings. Pure: no I/O.

use chrono::{DateTime, Datelike, Utc};
use uuid::Uuid;

/// Accounts are texts so that one per merchant needs no table of its own.
/// Balances are credits minus debits: liabilities and revenue are positive, the gateway
/// receivable (an asset) is negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Account {
    /// Money the payment gateways hold for us: up on capture, down on refunds and payouts.
    GatewayReceivable,
    /// Money customers paid for what is not yet earned: undelivered goods, unredeemed vouchers.
    CustomerClearing,
    /// What the platform owes one merchant.
    MerchantPayable(Uuid),
    /// Payouts sent to one merchant's bank and not yet confirmed.
    PayoutsInTransit(Uuid),
    /// Commission earned by the platform.
    PlatformRevenue,
    /// Value of vouchers that expired unredeemed.
    Breakage,
    /// What platform-funded promotions cost the platform (a debit balance): paid to
    /// merchants as their goods and vouchers are earned, so the merchant is kept whole.
    PromotionExpense,
}

impl Account {
    pub fn code(self) -> String {
        match self {
            Account::GatewayReceivable => "gateway_receivable".into(),
            Account::CustomerClearing => "customer_clearing".into(),
            Account::MerchantPayable(id) => format!("merchant_payable:{id}"),
            Account::PayoutsInTransit(id) => format!("payouts_in_transit:{id}"),
            Account::PlatformRevenue => "platform_revenue".into(),
            Account::Breakage => "breakage".into(),
            Account::PromotionExpense => "promotion_expense".into(),
        }
    }
}

/// Why money moved; with the cause's id it makes a posting unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    PaymentCaptured,
    PaymentRefunded,
    OrderEarned,
    OrderReturned,
    VoucherRedeemed,
    VoucherExpired,
    Payout,
    PayoutSettled,
    PayoutFailed,
}

kernel::text_enum!(Kind {
    PaymentCaptured => "PAYMENT_CAPTURED",
    PaymentRefunded => "PAYMENT_REFUNDED",
    OrderEarned => "ORDER_EARNED",
    OrderReturned => "ORDER_RETURNED",
    VoucherRedeemed => "VOUCHER_REDEEMED",
    VoucherExpired => "VOUCHER_EXPIRED",
    Payout => "PAYOUT",
    PayoutSettled => "PAYOUT_SETTLED",
    PayoutFailed => "PAYOUT_FAILED",
});

/// One movement: `amount` leaves `from` (debited) and reaches `to` (credited).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub from: Account,
    pub to: Account,
    pub amount: i64,
}

/// The transfers of earned value: the merchant's share and the platform's commission of what
/// the customer paid (`earned`), and the platform-funded discount (`funded`), which the
/// platform pays the merchant from its promotion expense. Zero amounts are left out (the
/// database refuses them).
pub fn earning(merchant_id: Uuid, earned: i64, commission: i64, funded: i64) -> Vec<Transfer> {
    let commission = commission.clamp(0, earned.max(0));
    let share = earned - commission;
    let mut transfers = Vec::new();
    if funded > 0 {
        transfers.push(Transfer {
            from: Account::PromotionExpense,
            to: Account::MerchantPayable(merchant_id),
            amount: funded,
        });
    }
    if share > 0 {
        transfers.push(Transfer {
            from: Account::CustomerClearing,
            to: Account::MerchantPayable(merchant_id),
            amount: share,
        });
    }
    if commission > 0 {
        transfers.push(Transfer {
            from: Account::CustomerClearing,
            to: Account::PlatformRevenue,
            amount: commission,
        });
    }
    transfers
}

/// The reverse of [`earning`]: a returned order takes the value back.
pub fn reversal(merchant_id: Uuid, earned: i64, commission: i64, funded: i64) -> Vec<Transfer> {
    earning(merchant_id, earned, commission, funded)
        .into_iter()
        .map(|t| Transfer {
            from: t.to,
            to: t.from,
            amount: t.amount,
        })
        .collect()
}

/// The payout period a moment falls in: its ISO week, e.g. `2026-W48`.
pub fn period_of(at: DateTime<Utc>) -> String {
    let week = at.iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

/// Whether a client-given period is an ISO week label.
pub fn valid_period(period: &str) -> bool {
    let Some((year, week)) = period.split_once("-W") else {
        return false;
    };
    year.len() == 4
        && year.chars().all(|c| c.is_ascii_digit())
        && week.len() == 2
        && week.parse::<u32>().is_ok_and(|w| (1..=53).contains(&w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn earning_splits_into_share_and_commission_and_skips_zeros() {
        let m = Uuid::nil();
        let t = earning(m, 10_000, 1_000, 0);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].amount + t[1].amount, 10_000);
        assert_eq!(t[1].to, Account::PlatformRevenue);
        assert_eq!(earning(m, 500, 0, 0).len(), 1);
        // Commission never exceeds what was earned.
        assert_eq!(
            earning(m, 500, 900, 0),
            vec![Transfer {
                from: Account::CustomerClearing,
                to: Account::PlatformRevenue,
                amount: 500
            }]
        );
        let back = reversal(m, 10_000, 1_000, 0);
        assert_eq!(back[0].from, Account::MerchantPayable(m));
        assert_eq!(back[0].to, Account::CustomerClearing);
    }

    #[test]
    fn a_platform_funded_discount_keeps_the_merchant_whole() {
        // 10,000 listed, 2,000 off funded by the platform: the customer paid 8,000; commission
        // (10 % of 10,000) is 1,000. The merchant gets 9,000, as without the discount.
        let m = Uuid::nil();
        let t = earning(m, 8_000, 1_000, 2_000);
        let to_merchant: i64 = t
            .iter()
            .filter(|t| t.to == Account::MerchantPayable(m))
            .map(|t| t.amount)
            .sum();
        assert_eq!(to_merchant, 9_000);
        let from_clearing: i64 = t
            .iter()
            .filter(|t| t.from == Account::CustomerClearing)
            .map(|t| t.amount)
            .sum();
        assert_eq!(from_clearing, 8_000, "what the customer paid, no more");
        assert!(t
            .iter()
            .any(|t| t.from == Account::PromotionExpense && t.amount == 2_000));
    }

    #[test]
    fn periods_are_iso_weeks() {
        let monday = Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap();
        assert_eq!(period_of(monday), "2026-W48");
        // 1 January 2027 is a Friday: still week 53 of 2026.
        let new_year = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(period_of(new_year), "2026-W53");
        assert!(valid_period("2026-W48"));
        assert!(!valid_period("2026-48"));
        assert!(!valid_period("2026-W54"));
        assert!(!valid_period("26-W01"));
    }
}
