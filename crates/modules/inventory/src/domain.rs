//! Pure rules of inventory: reservation states, line aggregation, stock arithmetic.

pub use inventory_contract::{MovementKind, ReservationStatus};

use std::collections::BTreeMap;

use kernel::FieldError;
use uuid::Uuid;

use crate::api::{ReserveLine, StockChange};

/// A step asked of a reservation, and what it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Confirm,
    Release,
    Expire,
    Return,
}

#[derive(Debug, PartialEq, Eq)]
pub enum StepOutcome {
    /// Apply the step: move to this status.
    Apply(ReservationStatus),
    /// Already done (a retry): answer with the current state.
    AlreadyDone,
    /// Not possible from the current status.
    Refused,
}

impl Step {
    pub fn from(self, status: ReservationStatus) -> StepOutcome {
        use ReservationStatus::*;
        match (self, status) {
            (Step::Confirm, Active) => StepOutcome::Apply(Confirmed),
            (Step::Confirm, Confirmed) => StepOutcome::AlreadyDone,
            (Step::Release, Active) => StepOutcome::Apply(Released),
            (Step::Release, Released | Expired) => StepOutcome::AlreadyDone,
            (Step::Expire, Active) => StepOutcome::Apply(Expired),
            (Step::Expire, _) => StepOutcome::AlreadyDone,
            (Step::Return, Confirmed) => StepOutcome::Apply(Returned),
            (Step::Return, Returned) => StepOutcome::AlreadyDone,
            _ => StepOutcome::Refused,
        }
    }
}

pub const MAX_LINES: usize = 200;
pub const MAX_QUANTITY: i64 = 1_000_000;

/// Sums lines of the same SKU and orders them by (merchant, sku): the order rows are locked in,
/// so two reservations never wait on each other in opposite orders.
pub fn aggregate(lines: &[ReserveLine]) -> Result<BTreeMap<(Uuid, String), i64>, Vec<FieldError>> {
    let mut errors = Vec::new();
    if lines.is_empty() || lines.len() > MAX_LINES {
        errors.push(FieldError {
            field: "lines".into(),
            message: format!("1 to {MAX_LINES} lines"),
        });
    }
    let mut totals: BTreeMap<(Uuid, String), i64> = BTreeMap::new();
    for (i, line) in lines.iter().enumerate() {
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            errors.push(FieldError {
                field: format!("lines[{i}].quantity"),
                message: format!("must be 1 to {MAX_QUANTITY}"),
            });
            continue;
        }
        let total = totals
            .entry((line.merchant_id, line.sku.clone()))
            .or_default();
        *total += line.quantity;
        if *total > MAX_QUANTITY {
            errors.push(FieldError {
                field: format!("lines[{i}].quantity"),
                message: format!("at most {MAX_QUANTITY} of one SKU"),
            });
        }
    }
    if errors.is_empty() {
        Ok(totals)
    } else {
        Err(errors)
    }
}

/// What a stock change asks: `Set(n)`, `Adjust(d)`, or only a new threshold.
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    Set(i64),
    Adjust(i64),
    ThresholdOnly,
}

pub fn validate_change(change: &StockChange) -> Result<Change, Vec<FieldError>> {
    let mut errors = Vec::new();
    let reason_len = change.reason.trim().chars().count();
    if !(3..=500).contains(&reason_len) {
        errors.push(FieldError {
            field: "reason".into(),
            message: "must be 3 to 500 characters".into(),
        });
    }
    if change
        .low_stock_threshold
        .is_some_and(|t| !(0..=MAX_QUANTITY).contains(&t))
    {
        errors.push(FieldError {
            field: "lowStockThreshold".into(),
            message: format!("must be 0 to {MAX_QUANTITY}"),
        });
    }
    let kind = match (change.on_hand, change.delta) {
        (Some(_), Some(_)) => {
            errors.push(FieldError {
                field: "delta".into(),
                message: "give either onHand or delta, not both".into(),
            });
            Change::ThresholdOnly
        }
        (Some(n), None) if !(0..=MAX_QUANTITY).contains(&n) => {
            errors.push(FieldError {
                field: "onHand".into(),
                message: format!("must be 0 to {MAX_QUANTITY}"),
            });
            Change::ThresholdOnly
        }
        (Some(n), None) => Change::Set(n),
        (None, Some(d)) if d == 0 || d.abs() > MAX_QUANTITY => {
            errors.push(FieldError {
                field: "delta".into(),
                message: format!("must be non-zero, at most {MAX_QUANTITY} either way"),
            });
            Change::ThresholdOnly
        }
        (None, Some(d)) => Change::Adjust(d),
        (None, None) if change.low_stock_threshold.is_none() => {
            errors.push(FieldError {
                field: "onHand".into(),
                message: "give onHand, delta or lowStockThreshold".into(),
            });
            Change::ThresholdOnly
        }
        (None, None) => Change::ThresholdOnly,
    };
    if errors.is_empty() {
        Ok(kind)
    } else {
        Err(errors)
    }
}

/// `inventory.low` fires when stock becomes low (available under the threshold, after a sale
/// or a raised threshold), not on every sale while it stays low.
pub fn became_low(before: (i64, i64), after: (i64, i64)) -> bool {
    let low = |(available, threshold): (i64, i64)| available < threshold;
    !low(before) && low(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(sku: &str, quantity: i64) -> ReserveLine {
        ReserveLine {
            merchant_id: Uuid::nil(),
            sku: sku.into(),
            quantity,
        }
    }

    #[test]
    fn lines_of_one_sku_are_summed_in_a_fixed_order() {
        let totals = aggregate(&[line("B", 2), line("A", 1), line("B", 3)]).unwrap();
        let keys: Vec<(&str, i64)> = totals.iter().map(|((_, s), q)| (s.as_str(), *q)).collect();
        assert_eq!(keys, vec![("A", 1), ("B", 5)]);
        assert!(aggregate(&[line("A", 0)]).is_err());
        assert!(aggregate(&[]).is_err());
    }

    #[test]
    fn steps_are_idempotent() {
        use ReservationStatus::*;
        assert_eq!(Step::Confirm.from(Active), StepOutcome::Apply(Confirmed));
        assert_eq!(Step::Confirm.from(Confirmed), StepOutcome::AlreadyDone);
        assert_eq!(Step::Confirm.from(Expired), StepOutcome::Refused);
        assert_eq!(Step::Release.from(Expired), StepOutcome::AlreadyDone);
        assert_eq!(Step::Release.from(Confirmed), StepOutcome::Refused);
        assert_eq!(Step::Return.from(Confirmed), StepOutcome::Apply(Returned));
        assert_eq!(Step::Expire.from(Confirmed), StepOutcome::AlreadyDone);
    }

    fn change(on_hand: Option<i64>, delta: Option<i64>) -> StockChange {
        StockChange {
            merchant_id: None,
            location_id: None,
            on_hand,
            delta,
            low_stock_threshold: None,
            reason: "recount".into(),
        }
    }

    #[test]
    fn changes_are_one_of_set_or_adjust() {
        assert_eq!(validate_change(&change(Some(5), None)), Ok(Change::Set(5)));
        assert_eq!(
            validate_change(&change(None, Some(-2))),
            Ok(Change::Adjust(-2))
        );
        assert!(validate_change(&change(Some(5), Some(1))).is_err());
        assert!(validate_change(&change(Some(-1), None)).is_err());
        assert!(validate_change(&change(None, None)).is_err());
    }

    #[test]
    fn low_fires_on_crossing() {
        assert!(became_low((5, 5), (4, 5)));
        assert!(!became_low((4, 5), (3, 5)));
        assert!(!became_low((6, 5), (5, 5)));
        assert!(became_low((11, 5), (11, 12)), "raised threshold");
    }
}
