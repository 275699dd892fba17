//! Pure payment rules: the state a payment's transaction log adds up to, what a provider's
//! report changes (forward only), and how much may still be refunded.

pub use payments_contract::{PaymentStatus, TxKind};

pub mod khqr;
mod refund;

pub use refund::{room, Claim, RefundScope};

use kernel::Currency;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: TxKind,
    pub amount: i64,
    pub reference: Option<String>,
    /// What a refund request draws on (refund requests only).
    pub scope: Option<RefundScope>,
}

/// What the log adds up to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Rank of the furthest payment outcome seen (see [`rank`]).
    pub outcome: Option<TxKind>,
    pub captured: i64,
    pub flagged: bool,
    /// Sum of refund requests, settled or not.
    pub refund_requested: i64,
    pub refunded: i64,
    pub refund_references: Vec<String>,
    /// Refunds closed either way: refunded, or failed for good.
    pub settled_references: Vec<String>,
    /// Refund requests still holding their money (asked for, not failed), by scope.
    pub claims: Vec<Claim>,
    pub last_seq: i64,
}

/// Outcomes only move forward: a late PENDING after SUCCEEDED changes nothing. A success
/// after a failure counts (the provider took the money after all).
const fn rank(kind: TxKind) -> u8 {
    match kind {
        TxKind::Initiated => 0,
        TxKind::Pending => 1,
        TxKind::Failed => 2,
        TxKind::Succeeded | TxKind::Flagged => 3,
        _ => 0,
    }
}

impl State {
    pub fn fold(entries: &[Entry]) -> Self {
        let mut state = State::default();
        for entry in entries {
            state.last_seq += 1;
            match entry.kind {
                TxKind::Initiated | TxKind::Pending | TxKind::Failed => {
                    if state.outcome.is_none_or(|o| rank(entry.kind) > rank(o)) {
                        state.outcome = Some(entry.kind);
                    }
                }
                TxKind::Succeeded => {
                    state.outcome = Some(TxKind::Succeeded);
                    state.captured += entry.amount;
                }
                TxKind::Flagged => {
                    state.outcome = Some(TxKind::Flagged);
                    state.flagged = true;
                    state.captured += entry.amount;
                }
                TxKind::RefundRequested => {
                    state.refund_requested += entry.amount;
                    state.refund_references.extend(entry.reference.clone());
                    state.claims.push(Claim {
                        reference: entry.reference.clone().unwrap_or_default(),
                        scope: entry.scope.unwrap_or(RefundScope::Payment),
                        amount: entry.amount,
                    });
                }
                TxKind::Refunded => {
                    state.refunded += entry.amount;
                    state.settled_references.extend(entry.reference.clone());
                }
                TxKind::RefundFailed => {
                    // The request no longer holds money back: it may be asked again.
                    state.refund_requested -= entry.amount;
                    state.settled_references.extend(entry.reference.clone());
                    if let Some(reference) = &entry.reference {
                        state.claims.retain(|c| &c.reference != reference);
                    }
                }
            }
        }
        state
    }

    pub fn status(&self) -> PaymentStatus {
        if self.refunded > 0 {
            return if self.refunded >= self.captured {
                PaymentStatus::Refunded
            } else {
                PaymentStatus::PartiallyRefunded
            };
        }
        match self.outcome {
            None | Some(TxKind::Initiated) => PaymentStatus::Initiated,
            Some(TxKind::Pending) => PaymentStatus::Pending,
            Some(TxKind::Failed) => PaymentStatus::Failed,
            Some(TxKind::Flagged) => PaymentStatus::NeedsReview,
            Some(_) => PaymentStatus::Succeeded,
        }
    }

    /// Whether the refund `reference` was asked for and is not closed yet.
    pub fn refund_pending(&self, reference: &str) -> bool {
        self.refund_references.iter().any(|r| r == reference)
            && !self.settled_references.iter().any(|r| r == reference)
    }

    /// Money taken that no refund has claimed yet.
    pub fn refundable(&self) -> i64 {
        (self.captured - self.refund_requested).max(0)
    }

    /// What a refund in `scope` may still take of a payment for `orders` (see [`room`]).
    pub fn refundable_in(
        &self,
        scope: RefundScope,
        orders: &[orders_contract::PayableOrder],
    ) -> i64 {
        room(self.refundable(), &self.claims, scope, orders)
    }

    pub fn is_settled(&self) -> bool {
        matches!(self.outcome, Some(TxKind::Succeeded | TxKind::Flagged))
    }
}

/// What a provider says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reported {
    Pending,
    Succeeded,
    Failed,
}

/// The entry a report adds, if any: forward only, and a success whose amount or currency
/// differs from the payment's is flagged instead of counted as paid.
pub fn on_report(
    state: &State,
    reported: Reported,
    reported_amount: Option<i64>,
    reported_currency: Option<Currency>,
    expected_amount: i64,
    expected_currency: Currency,
) -> Option<Entry> {
    let kind = match reported {
        Reported::Pending => TxKind::Pending,
        Reported::Failed => TxKind::Failed,
        Reported::Succeeded => {
            // A success that does not say how much arrived is not taken as the full amount:
            // an answer the provider changed shape of would otherwise pay any order.
            let amount = reported_amount.unwrap_or(-1);
            let currency = reported_currency.unwrap_or(expected_currency);
            if amount != expected_amount || currency != expected_currency {
                if state.is_settled() {
                    return None;
                }
                return Some(Entry {
                    kind: TxKind::Flagged,
                    amount: if currency == expected_currency {
                        amount.max(0)
                    } else {
                        0
                    },
                    reference: None,
                    scope: None,
                });
            }
            TxKind::Succeeded
        }
    };
    let current = state.outcome.map_or(0, rank);
    if rank(kind) <= current && state.outcome.is_some() {
        return None;
    }
    Some(Entry {
        kind,
        amount: if kind == TxKind::Succeeded {
            expected_amount
        } else {
            0
        },
        reference: None,
        scope: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: TxKind, amount: i64) -> Entry {
        Entry {
            kind,
            amount,
            reference: None,
            scope: None,
        }
    }

    #[test]
    fn late_pending_after_success_changes_nothing() {
        let state = State::fold(&[entry(TxKind::Initiated, 0), entry(TxKind::Succeeded, 500)]);
        assert_eq!(state.status(), PaymentStatus::Succeeded);
        assert_eq!(
            on_report(&state, Reported::Pending, None, None, 500, Currency::Usd),
            None
        );
        assert_eq!(
            on_report(&state, Reported::Failed, None, None, 500, Currency::Usd),
            None
        );
        assert_eq!(
            on_report(
                &state,
                Reported::Succeeded,
                Some(500),
                None,
                500,
                Currency::Usd
            ),
            None
        );
    }

    #[test]
    fn reports_move_forward() {
        let state = State::fold(&[entry(TxKind::Initiated, 0)]);
        assert_eq!(
            on_report(&state, Reported::Pending, None, None, 500, Currency::Usd).map(|e| e.kind),
            Some(TxKind::Pending)
        );
        let failed = State::fold(&[entry(TxKind::Initiated, 0), entry(TxKind::Failed, 0)]);
        assert_eq!(failed.status(), PaymentStatus::Failed);
        // The provider took the money after all: it counts.
        let late = on_report(
            &failed,
            Reported::Succeeded,
            Some(500),
            Some(Currency::Usd),
            500,
            Currency::Usd,
        );
        assert_eq!(late, Some(entry(TxKind::Succeeded, 500)));
    }

    #[test]
    fn mismatched_money_is_flagged_not_paid() {
        let state = State::fold(&[entry(TxKind::Initiated, 0)]);
        let short = on_report(
            &state,
            Reported::Succeeded,
            Some(499),
            Some(Currency::Usd),
            500,
            Currency::Usd,
        );
        assert_eq!(short, Some(entry(TxKind::Flagged, 499)));
        let wrong_currency = on_report(
            &state,
            Reported::Succeeded,
            Some(500),
            Some(Currency::Khr),
            500,
            Currency::Usd,
        );
        assert_eq!(wrong_currency, Some(entry(TxKind::Flagged, 0)));
        let unsaid = on_report(
            &state,
            Reported::Succeeded,
            None,
            Some(Currency::Usd),
            500,
            Currency::Usd,
        );
        assert_eq!(
            unsaid,
            Some(entry(TxKind::Flagged, 0)),
            "a success that does not say how much is not the full amount"
        );
        let flagged = State::fold(&[entry(TxKind::Initiated, 0), entry(TxKind::Flagged, 499)]);
        assert_eq!(flagged.status(), PaymentStatus::NeedsReview);
        assert_eq!(flagged.refundable(), 499);
    }

    #[test]
    fn refunds_never_exceed_what_was_taken() {
        let mut log = vec![entry(TxKind::Initiated, 0), entry(TxKind::Succeeded, 1000)];
        log.push(Entry {
            kind: TxKind::RefundRequested,
            amount: 300,
            reference: Some("a".into()),
            scope: None,
        });
        let state = State::fold(&log);
        assert_eq!(state.refundable(), 700);
        log.push(Entry {
            kind: TxKind::Refunded,
            amount: 300,
            reference: Some("a".into()),
            scope: None,
        });
        let state = State::fold(&log);
        assert_eq!(state.status(), PaymentStatus::PartiallyRefunded);
        log.push(Entry {
            kind: TxKind::RefundRequested,
            amount: 700,
            reference: Some("b".into()),
            scope: None,
        });
        log.push(Entry {
            kind: TxKind::RefundFailed,
            amount: 700,
            reference: Some("b".into()),
            scope: None,
        });
        assert_eq!(State::fold(&log).refundable(), 700);
        // The failed request no longer holds its money in any scope.
        assert_eq!(State::fold(&log).claims.len(), 1);
        log.push(Entry {
            kind: TxKind::RefundRequested,
            amount: 700,
            reference: Some("c".into()),
            scope: None,
        });
        log.push(Entry {
            kind: TxKind::Refunded,
            amount: 700,
            reference: Some("c".into()),
            scope: None,
        });
        let state = State::fold(&log);
        assert_eq!(state.status(), PaymentStatus::Refunded);
        assert_eq!(state.refundable(), 0);
    }
}
