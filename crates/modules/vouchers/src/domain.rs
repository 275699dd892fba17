//! Voucher rules without I/O: kinds and statuses, codes and PINs, validity, how a redemption
//! earns the paid value, QR token claims and time steps, and fraud scoring.

pub use vouchers_contract::{
    AmountRule, CaseStatus, DistanceRule, FlatRule, InstanceStatus, RecencyRule, RedemptionStatus,
    RuleHit, RuleSet, VelocityRule, VoucherKind,
};

use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Crockford's base32: no I, L, O, U, so codes read aloud and typed survive.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// 12 symbols of 5 bits: 60 bits, unguessable at any rate the PIN lock and fraud rules allow.
pub const CODE_SYMBOLS: usize = 12;
pub const PIN_DIGITS: usize = 6;
/// The longest validity an offer may give.
pub const MAX_VALIDITY_DAYS: i64 = 730;

fn random_bytes<const N: usize>() -> Result<[u8; N], ring::error::Unspecified> {
    let mut bytes = [0u8; N];
    SystemRandom::new().fill(&mut bytes)?;
    Ok(bytes)
}

/// A new voucher code, grouped for reading: `7KQ2-MX9P-4TZD`.
pub fn new_code() -> Result<String, ring::error::Unspecified> {
    let bytes = random_bytes::<CODE_SYMBOLS>()?;
    let symbols: Vec<char> = bytes
        .iter()
        .map(|b| CROCKFORD[usize::from(b & 31)] as char)
        .collect();
    Ok(symbols
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// A code as typed at a counter, read the Crockford way (case, hyphens and spaces ignored;
/// O read as 0, I and L as 1), grouped as stored. None when it cannot be a code.
pub fn normalize_code(typed: &str) -> Option<String> {
    let mut symbols = Vec::with_capacity(CODE_SYMBOLS);
    for c in typed.chars().filter(|c| !matches!(c, '-' | ' ')) {
        let c = match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        };
        if !CROCKFORD.contains(&(c as u8)) || !c.is_ascii() {
            return None;
        }
        symbols.push(c);
    }
    (symbols.len() == CODE_SYMBOLS).then(|| {
        symbols
            .chunks(4)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join("-")
    })
}

pub fn new_pin() -> Result<String, ring::error::Unspecified> {
    let mut pin = String::with_capacity(PIN_DIGITS);
    while pin.len() < PIN_DIGITS {
        // Bytes of 250 and up are dropped so every digit is equally likely.
        for b in random_bytes::<16>()? {
            if b < 250 && pin.len() < PIN_DIGITS {
                pin.push(char::from(b'0' + b % 10));
            }
        }
    }
    Ok(pin)
}

/// When an instance issued at `issued_at` expires: the end of the fixed window, or N days
/// after issue, whichever comes first.
pub fn expiry(issued_at_ms: i64, valid_until_ms: Option<i64>, valid_days: Option<i64>) -> i64 {
    let by_days = valid_days.map(|d| issued_at_ms + d * 86_400_000);
    match (valid_until_ms, by_days) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) => a,
        (None, Some(b)) => b,
        (None, None) => issued_at_ms + MAX_VALIDITY_DAYS * 86_400_000,
    }
}

/// What an instance has left to earn and how much a redemption of `amount` (face value)
/// earns of the price paid and of the commission. The last redemption takes the remainders,
/// so parts always add up to the whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Earning {
    pub earned: i64,
    pub commission: i64,
}

pub fn earning_of(
    amount: i64,
    balance: i64,
    face_value: i64,
    paid: i64,
    commission: i64,
    earned_so_far: i64,
    commission_so_far: i64,
) -> Earning {
    if amount >= balance || face_value <= 0 {
        return Earning {
            earned: paid - earned_so_far,
            commission: commission - commission_so_far,
        };
    }
    let share =
        |total: i64| ((i128::from(total) * i128::from(amount)) / i128::from(face_value)) as i64;
    Earning {
        earned: share(paid).min(paid - earned_so_far),
        commission: share(commission).min(commission - commission_so_far),
    }
}

/// The platform-funded value a redemption of `amount` delivers, out of `funded` for the whole
/// face value: the share of the face value redeemed after it, less the share before. The
/// shares telescope, so a voucher redeemed to zero has delivered exactly `funded`.
pub fn funded_share(funded: i64, face_value: i64, balance: i64, amount: i64) -> i64 {
    if funded <= 0 || face_value <= 0 {
        return 0;
    }
    let upto = |redeemed: i64| {
        (i128::from(funded) * i128::from(redeemed.clamp(0, face_value)) / i128::from(face_value))
            as i64
    };
    let before = face_value - balance;
    upto(before + amount) - upto(before)
}

/// The claims of a voucher QR token (a compact JWS, ES256, `kid` in the JWKS).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// `pasar.voucher`: keeps access tokens and voucher tokens apart.
    pub typ: String,
    /// The instance.
    pub sub: Uuid,
    /// The instance's version: a gift bumps it, so the giver's codes stop working.
    pub ver: i64,
    /// The merchant it is redeemable at.
    pub mer: Uuid,
    /// The voucher's expiry (epoch seconds).
    pub exp: i64,
    /// The 30-second step it was shown in (on-screen codes); absent on printed codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<i64>,
}

pub const TOKEN_TYPE: &str = "pasar.voucher";

pub fn time_step(now_secs: i64, step_secs: i64) -> i64 {
    now_secs.div_euclid(step_secs.max(1))
}

/// An on-screen code is good in its own step and the one after (a code shown just before
/// the turn still scans); anything older is a screenshot.
pub fn step_is_fresh(step: i64, current: i64) -> bool {
    step == current || step + 1 == current
}

/// Great-circle distance in kilometres (haversine).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

/// What the scorer knows of one redemption attempt.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    pub device_redemptions: i64,
    pub outlet_redemptions: i64,
    pub customer_redemptions: i64,
    /// None when the device or the outlet has no location.
    pub distance_km: Option<f64>,
    pub device_has_location: bool,
    pub failed_attempts: i64,
    pub device_known: bool,
    pub amount: i64,
    /// The merchant's average approved redemption and how many it is over.
    pub merchant_average: f64,
    pub merchant_history: i64,
    pub minutes_since_received: i64,
}

/// What a voucher cost that it has not yet delivered: the part of its price no redemption
/// (approved or held for review) has earned.
pub fn unused_value(paid_amount: i64, earned: i64) -> i64 {
    (paid_amount - earned).max(0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    Approve,
    Review,
    Block,
}

pub fn score(rules: &RuleSet, s: &Signals) -> (i32, Vec<RuleHit>, Band) {
    let mut hits = Vec::new();
    let mut hit = |rule: &str, points: i32, detail: String| {
        if points > 0 {
            hits.push(RuleHit {
                rule: rule.into(),
                points,
                detail,
            });
        }
    };
    for (name, rule, count) in [
        (
            "deviceVelocity",
            &rules.device_velocity,
            s.device_redemptions,
        ),
        (
            "outletVelocity",
            &rules.outlet_velocity,
            s.outlet_redemptions,
        ),
        (
            "customerVelocity",
            &rules.customer_velocity,
            s.customer_redemptions,
        ),
    ] {
        if count > rule.max {
            hit(
                name,
                rule.points,
                format!("{count} redemptions in {} s", rule.window_secs),
            );
        }
    }
    match s.distance_km {
        Some(km) if km > rules.distance.max_km => hit(
            "distance",
            rules.distance.points,
            format!("device {km:.1} km from the outlet"),
        ),
        None if !s.device_has_location => hit(
            "distance",
            rules.distance.missing_points,
            "the device sent no location".into(),
        ),
        _ => {}
    }
    if s.failed_attempts > rules.failed_attempts.max {
        hit(
            "failedAttempts",
            rules.failed_attempts.points,
            format!(
                "{} failed attempts in {} s",
                s.failed_attempts, rules.failed_attempts.window_secs
            ),
        );
    }
    if !s.device_known {
        hit(
            "newDevice",
            rules.new_device.points,
            "first redemption from this device".into(),
        );
    }
    if s.merchant_history >= rules.unusual_amount.min_history
        && s.merchant_average > 0.0
        && s.amount as f64 > s.merchant_average * rules.unusual_amount.factor
    {
        hit(
            "unusualAmount",
            rules.unusual_amount.points,
            format!(
                "{} is over {}x the average {:.0}",
                s.amount, rules.unusual_amount.factor, s.merchant_average
            ),
        );
    }
    if s.minutes_since_received < rules.quick_after_issue.minutes {
        hit(
            "quickAfterIssue",
            rules.quick_after_issue.points,
            format!("{} min after it was received", s.minutes_since_received),
        );
    }
    let total: i32 = hits.iter().map(|h| h.points).sum();
    let band = if total < rules.approve_below {
        Band::Approve
    } else if total > rules.block_above {
        Band::Block
    } else {
        Band::Review
    };
    (total, hits, band)
}

#[cfg(test)]
mod tests {

    #[test]
    fn funded_shares_add_up_to_the_funded_value() {
        // 1,000 funded over a face value of 3,000 redeemed in parts of 1,000, 999, 1,001.
        let mut balance = 3_000;
        let mut total = 0;
        for amount in [1_000, 999, 1_001] {
            total += funded_share(1_000, 3_000, balance, amount);
            balance -= amount;
        }
        assert_eq!(total, 1_000);
        assert_eq!(funded_share(1_000, 3_000, 3_000, 1_000), 333);
        assert_eq!(funded_share(0, 3_000, 3_000, 1_000), 0);
        assert_eq!(funded_share(500, 0, 0, 0), 0);
    }

    use super::*;

    fn calm() -> Signals {
        Signals {
            device_has_location: true,
            distance_km: Some(0.1),
            device_known: true,
            amount: 1000,
            merchant_average: 1000.0,
            merchant_history: 50,
            minutes_since_received: 600,
            ..Signals::default()
        }
    }

    #[test]
    fn codes_are_crockford_and_read_forgivingly() {
        let code = new_code().unwrap();
        assert_eq!(code.len(), CODE_SYMBOLS + 2);
        assert_eq!(normalize_code(&code).as_deref(), Some(code.as_str()));
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(normalize_code(&typed).as_deref(), Some(code.as_str()));
        assert_eq!(
            normalize_code("oooo-iiii-llll").as_deref(),
            Some("0000-1111-1111")
        );
        assert_eq!(normalize_code("UUUU-0000-0000"), None);
        assert_eq!(normalize_code("1234"), None);
        let pin = new_pin().unwrap();
        assert_eq!(pin.len(), PIN_DIGITS);
        assert!(pin.chars().all(|c| c.is_ascii_digit()));
    }

    #[test]
    fn expiry_is_the_earlier_of_window_and_days() {
        let day = 86_400_000;
        assert_eq!(expiry(0, Some(10 * day), Some(30)), 10 * day);
        assert_eq!(expiry(0, Some(40 * day), Some(30)), 30 * day);
        assert_eq!(expiry(5, None, Some(1)), 5 + day);
    }

    #[test]
    fn partial_redemptions_earn_in_proportion_and_the_last_takes_the_rest() {
        // Face 10,000 bought for 9,000 with 900 commission, redeemed in three parts.
        let first = earning_of(3_333, 10_000, 10_000, 9_000, 900, 0, 0);
        assert_eq!(
            first,
            Earning {
                earned: 2_999,
                commission: 299
            }
        );
        let second = earning_of(3_333, 6_667, 10_000, 9_000, 900, 2_999, 299);
        assert_eq!(
            second,
            Earning {
                earned: 2_999,
                commission: 299
            }
        );
        let last = earning_of(3_334, 3_334, 10_000, 9_000, 900, 5_998, 598);
        assert_eq!(
            last,
            Earning {
                earned: 3_002,
                commission: 302
            }
        );
        assert_eq!(first.earned + second.earned + last.earned, 9_000);
        // A free (claimed) voucher earns nothing.
        assert_eq!(
            earning_of(500, 1000, 1000, 0, 0, 0, 0),
            Earning {
                earned: 0,
                commission: 0
            }
        );
    }

    #[test]
    fn steps_accept_the_current_and_previous_only() {
        assert_eq!(time_step(59, 30), 1);
        assert!(step_is_fresh(10, 10));
        assert!(step_is_fresh(9, 10));
        assert!(!step_is_fresh(8, 10));
        assert!(!step_is_fresh(11, 10));
    }

    #[test]
    fn distance_is_haversine() {
        // Phnom Penh Central Market to the Royal Palace: about 1.5 km.
        let km = distance_km((11.5696, 104.9211), (11.5564, 104.9312));
        assert!((1.4..1.9).contains(&km), "{km}");
    }

    #[test]
    fn each_rule_fires_on_its_scenario_and_bands_route() {
        let rules = RuleSet::default();
        assert!(rules.check().is_empty());
        let (total, hits, band) = score(&rules, &calm());
        assert_eq!((total, band), (0, Band::Approve), "{hits:?}");
        type Scenario = (&'static str, Box<dyn Fn(&mut Signals)>);
        let cases: Vec<Scenario> = vec![
            ("deviceVelocity", Box::new(|s| s.device_redemptions = 21)),
            ("outletVelocity", Box::new(|s| s.outlet_redemptions = 31)),
            ("customerVelocity", Box::new(|s| s.customer_redemptions = 6)),
            ("distance", Box::new(|s| s.distance_km = Some(12.0))),
            ("failedAttempts", Box::new(|s| s.failed_attempts = 3)),
            ("newDevice", Box::new(|s| s.device_known = false)),
            ("unusualAmount", Box::new(|s| s.amount = 6000)),
            (
                "quickAfterIssue",
                Box::new(|s| s.minutes_since_received = 0),
            ),
        ];
        for (rule, apply) in cases {
            let mut s = calm();
            apply(&mut s);
            let (_, hits, _) = score(&rules, &s);
            assert_eq!(
                hits.iter().map(|h| h.rule.as_str()).collect::<Vec<_>>(),
                vec![rule]
            );
        }
        // 40 (distance) is review; 40 + 35 (failed attempts) is a block.
        let mut review = calm();
        review.distance_km = Some(50.0);
        assert_eq!(score(&rules, &review).2, Band::Review);
        review.failed_attempts = 5;
        assert_eq!(score(&rules, &review).2, Band::Block);
    }
}
