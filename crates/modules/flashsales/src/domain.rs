//! Flash sales' rules without I/O: a sale's status from the clock and its counters, and what
//! a valid sale is.

use std::collections::HashSet;

use kernel::{FieldError, Timestamp};
use uuid::Uuid;

use crate::api::{FlashSaleInput, FlashSaleItemInput, FlashSaleStatus};

/// Most items one sale holds.
pub const MAX_ITEMS: usize = 100;
/// Longest sale: a flash sale is a short time box.
pub const MAX_DURATION_MS: i64 = 7 * 24 * 3600 * 1000;
pub const MAX_ALLOTMENT: i64 = 1_000_000;
pub const TITLE_MAX: usize = 120;

/// The window and counters a status is read from.
#[derive(Debug, Clone, Copy)]
pub struct Clocked {
    pub starts_at: i64,
    pub ends_at: i64,
    pub ended_early: bool,
    /// Every item's allotment taken.
    pub all_taken: bool,
}

pub fn status(sale: Clocked, now: i64) -> FlashSaleStatus {
    if sale.ended_early || now >= sale.ends_at {
        FlashSaleStatus::Ended
    } else if now < sale.starts_at {
        FlashSaleStatus::Scheduled
    } else if sale.all_taken {
        FlashSaleStatus::SoldOut
    } else {
        FlashSaleStatus::Live
    }
}

/// Seconds to the start (scheduled) or to the end (running), for countdowns.
pub fn seconds_left(sale: Clocked, now: i64) -> Option<i64> {
    match status(sale, now) {
        FlashSaleStatus::Scheduled => Some(whole_seconds(sale.starts_at - now)),
        FlashSaleStatus::Live | FlashSaleStatus::SoldOut => Some(whole_seconds(sale.ends_at - now)),
        FlashSaleStatus::Ended => None,
    }
}

/// Milliseconds as seconds, rounded up: a countdown shows 1 until the very end.
fn whole_seconds(millis: i64) -> i64 {
    (millis + 999).div_euclid(1000)
}

pub fn is_running(starts_at: i64, ends_at: i64, ended_early: bool, now: i64) -> bool {
    !ended_early && starts_at <= now && now < ends_at
}

/// Field errors of a new sale (or a sale replaced before its start), before any variant is
/// looked up.
pub fn check_input(input: &FlashSaleInput, now: Timestamp) -> Vec<FieldError> {
    let mut errors = Vec::new();
    input.title.check("title", true, TITLE_MAX, &mut errors);
    check_window(input.starts_at, input.ends_at, now, &mut errors);
    check_items(&input.items, &mut errors);
    errors
}

pub fn check_window(
    starts_at: Timestamp,
    ends_at: Timestamp,
    now: Timestamp,
    errors: &mut Vec<FieldError>,
) {
    if ends_at.millis() <= starts_at.millis() {
        errors.push(field("endsAt", "must be after startsAt"));
    } else if ends_at.millis() - starts_at.millis() > MAX_DURATION_MS {
        errors.push(field("endsAt", "a flash sale lasts at most 7 days"));
    }
    if ends_at.millis() <= now.millis() {
        errors.push(field("endsAt", "must be in the future"));
    }
}

pub fn check_items(items: &[FlashSaleItemInput], errors: &mut Vec<FieldError>) {
    if items.is_empty() || items.len() > MAX_ITEMS {
        errors.push(field("items", "must hold 1 to 100 items"));
    }
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        if !seen.insert(item.variant_id) {
            errors.push(field(&format!("items[{i}].variantId"), "appears twice"));
        }
        if item.sale_price <= 0 {
            errors.push(field(&format!("items[{i}].salePrice"), "must be positive"));
        }
        if !(1..=MAX_ALLOTMENT).contains(&item.allotment) {
            errors.push(field(
                &format!("items[{i}].allotment"),
                "must be 1 to 1000000 units",
            ));
        }
        if item.per_customer_limit < 1 || item.per_customer_limit > item.allotment {
            errors.push(field(
                &format!("items[{i}].perCustomerLimit"),
                "must be at least 1 and at most the allotment",
            ));
        }
    }
    errors.sort_by(|a, b| {
        a.field
            .cmp(&b.field)
            .then_with(|| a.message.cmp(&b.message))
    });
}

/// Items in the order their rows are locked, so two checkouts never wait on each other in a
/// cycle.
pub fn lock_order(items: &mut [(Uuid, i64)]) {
    items.sort_by_key(|(id, _)| *id);
}

pub fn field(name: &str, message: &str) -> FieldError {
    FieldError {
        field: name.into(),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sale(starts_at: i64, ends_at: i64) -> Clocked {
        Clocked {
            starts_at,
            ends_at,
            ended_early: false,
            all_taken: false,
        }
    }

    #[test]
    fn the_status_follows_the_clock_and_the_counters() {
        let s = sale(1_000, 10_000);
        assert_eq!(status(s, 999), FlashSaleStatus::Scheduled);
        assert_eq!(seconds_left(s, 0), Some(1));
        assert_eq!(status(s, 1_000), FlashSaleStatus::Live);
        assert_eq!(seconds_left(s, 1_000), Some(9));
        assert_eq!(
            status(
                Clocked {
                    all_taken: true,
                    ..s
                },
                5_000
            ),
            FlashSaleStatus::SoldOut
        );
        assert_eq!(status(s, 10_000), FlashSaleStatus::Ended);
        assert_eq!(seconds_left(s, 10_000), None);
        assert_eq!(
            status(
                Clocked {
                    ended_early: true,
                    ..s
                },
                5_000
            ),
            FlashSaleStatus::Ended
        );
        assert!(is_running(1_000, 10_000, false, 1_000));
        assert!(!is_running(1_000, 10_000, false, 10_000));
        assert!(!is_running(1_000, 10_000, true, 5_000));
    }

    #[test]
    fn bad_items_are_named_by_field() {
        let v = Uuid::from_u128(7);
        let item = |sale_price, allotment, per_customer_limit| FlashSaleItemInput {
            variant_id: v,
            sale_price,
            allotment,
            per_customer_limit,
        };
        let mut errors = Vec::new();
        check_items(&[item(0, 0, 0), item(100, 5, 6)], &mut errors);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "items[0].allotment",
                "items[0].perCustomerLimit",
                "items[0].salePrice",
                "items[1].perCustomerLimit",
                "items[1].variantId",
            ]
        );
        let mut none = Vec::new();
        check_items(&[item(100, 50, 1)], &mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn the_window_must_be_ahead_and_short() {
        let now = Timestamp::from_millis(10_000);
        let mut errors = Vec::new();
        check_window(
            Timestamp::from_millis(20_000),
            Timestamp::from_millis(20_000),
            now,
            &mut errors,
        );
        assert_eq!(errors[0].message, "must be after startsAt");
        let mut errors = Vec::new();
        check_window(
            Timestamp::from_millis(0),
            Timestamp::from_millis(5_000),
            now,
            &mut errors,
        );
        assert_eq!(errors[0].message, "must be in the future");
        let mut errors = Vec::new();
        check_window(
            Timestamp::from_millis(0),
            Timestamp::from_millis(MAX_DURATION_MS + 1),
            now,
            &mut errors,
        );
        assert_eq!(errors[0].message, "a flash sale lasts at most 7 days");
    }
}
