//! Loyalty's arithmetic without I/O: points from spend, tier multipliers, tiers from
//! qualifying points, reversals in proportion to refunds.

use crate::api::Tier;

/// Base points a payment earns: whole `spend_per_point`s of what was paid.
pub fn base_points(paid: i64, spend_per_point: i64) -> i64 {
    if spend_per_point <= 0 || paid <= 0 {
        return 0;
    }
    paid / spend_per_point
}

/// Base points times the tier's multiplier, rounded down.
pub fn with_multiplier(base: i64, multiplier_bps: i64) -> i64 {
    (i128::from(base) * i128::from(multiplier_bps.max(0)) / 10_000) as i64
}

/// The highest tier whose minimum the qualifying points reach (the first tier otherwise).
pub fn tier_for(tiers: &[Tier], qualifying: i64) -> Option<&Tier> {
    tiers
        .iter()
        .filter(|t| t.min_points <= qualifying)
        .max_by_key(|t| t.min_points)
        .or_else(|| tiers.first())
}

/// The tier after `current`, if any.
pub fn next_tier<'a>(tiers: &'a [Tier], current: &Tier) -> Option<&'a Tier> {
    tiers
        .iter()
        .filter(|t| t.min_points > current.min_points)
        .min_by_key(|t| t.min_points)
}

/// How many more of an order's `points` to take back once `refunded` of its `total` is
/// refunded, `already` having been taken back: in proportion, rounded down, never more than
/// the points.
pub fn reversal_due(points: i64, total: i64, refunded: i64, already: i64) -> i64 {
    if total <= 0 || points <= 0 {
        return 0;
    }
    let refunded = refunded.clamp(0, total);
    let due = (i128::from(points) * i128::from(refunded) / i128::from(total)) as i64;
    (due - already).clamp(0, points - already)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::LocalizedText;

    fn tier(code: &str, min: i64) -> Tier {
        Tier {
            code: code.into(),
            name: LocalizedText {
                en: code.into(),
                km: None,
                id: None,
            },
            min_points: min,
            earn_multiplier_bps: 10_000,
        }
    }

    #[test]
    fn points_from_spend_round_down() {
        assert_eq!(base_points(1_999, 100), 19);
        assert_eq!(base_points(99, 100), 0);
        assert_eq!(base_points(-5, 100), 0);
        assert_eq!(base_points(1_000, 0), 0);
        assert_eq!(with_multiplier(19, 12_500), 23);
        assert_eq!(with_multiplier(19, 10_000), 19);
    }

    #[test]
    fn tiers_follow_qualifying_points_both_ways() {
        let tiers = [tier("B", 0), tier("S", 500), tier("G", 2_000)];
        assert_eq!(tier_for(&tiers, 0).unwrap().code, "B");
        assert_eq!(tier_for(&tiers, 499).unwrap().code, "B");
        assert_eq!(tier_for(&tiers, 500).unwrap().code, "S");
        assert_eq!(tier_for(&tiers, 9_999).unwrap().code, "G");
        assert_eq!(tier_for(&tiers, -10).unwrap().code, "B");
        assert_eq!(next_tier(&tiers, &tiers[0]).unwrap().code, "S");
        assert!(next_tier(&tiers, &tiers[2]).is_none());
    }

    #[test]
    fn reversals_follow_refunds_without_taking_twice() {
        // 30 points on 1,000: a refund of 333 takes 9, the rest of it 21 more.
        assert_eq!(reversal_due(30, 1_000, 333, 0), 9);
        assert_eq!(reversal_due(30, 1_000, 1_000, 9), 21);
        assert_eq!(reversal_due(30, 1_000, 1_500, 30), 0);
        assert_eq!(reversal_due(30, 0, 10, 0), 0);
    }
}
