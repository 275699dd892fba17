//! vouchers' states and kinds, as its API and events carry them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VoucherKind {
    /// Stored value, redeemable in parts.
    GiftCard,
    /// Percent or amount off at the merchant, used once.
    Discount,
    /// A specific item or experience, used once.
    Item,
}

kernel::text_enum!(VoucherKind { GiftCard => "GIFT_CARD", Discount => "DISCOUNT", Item => "ITEM" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InstanceStatus {
    Active,
    PartiallyRedeemed,
    Redeemed,
    Expired,
    Refunded,
    Transferred,
}

kernel::text_enum!(InstanceStatus {
    Active => "ACTIVE",
    PartiallyRedeemed => "PARTIALLY_REDEEMED",
    Redeemed => "REDEEMED",
    Expired => "EXPIRED",
    Refunded => "REFUNDED",
    Transferred => "TRANSFERRED",
});

impl InstanceStatus {
    /// Whether value is left to redeem, give or expire.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            InstanceStatus::Active | InstanceStatus::PartiallyRedeemed
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RedemptionStatus {
    Approved,
    PendingReview,
    Blocked,
    Rejected,
}

kernel::text_enum!(RedemptionStatus {
    Approved => "APPROVED",
    PendingReview => "PENDING_REVIEW",
    Blocked => "BLOCKED",
    Rejected => "REJECTED",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CaseStatus {
    Open,
    Approved,
    Rejected,
}

kernel::text_enum!(CaseStatus { Open => "OPEN", Approved => "APPROVED", Rejected => "REJECTED" });

/// The fraud rule set: each rule adds points; the score picks the band. Stored versioned and
/// replaced by admins without a deploy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleSet {
    /// Scores below this are approved.
    pub approve_below: i32,
    /// Scores above this are blocked; in between they wait for review.
    pub block_above: i32,
    pub device_velocity: VelocityRule,
    pub outlet_velocity: VelocityRule,
    pub customer_velocity: VelocityRule,
    pub distance: DistanceRule,
    /// Failed attempts (wrong PIN, unknown code, stale QR) by this device or on this voucher.
    pub failed_attempts: VelocityRule,
    pub new_device: FlatRule,
    pub unusual_amount: AmountRule,
    pub quick_after_issue: RecencyRule,
}

impl Default for RuleSet {
    fn default() -> Self {
        Self {
            approve_below: 30,
            block_above: 70,
            device_velocity: VelocityRule {
                points: 25,
                window_secs: 600,
                max: 20,
            },
            outlet_velocity: VelocityRule {
                points: 15,
                window_secs: 60,
                max: 30,
            },
            customer_velocity: VelocityRule {
                points: 25,
                window_secs: 3600,
                max: 5,
            },
            distance: DistanceRule {
                points: 40,
                max_km: 2.0,
                missing_points: 5,
            },
            failed_attempts: VelocityRule {
                points: 35,
                window_secs: 3600,
                max: 2,
            },
            new_device: FlatRule { points: 10 },
            unusual_amount: AmountRule {
                points: 20,
                factor: 5.0,
                min_history: 10,
            },
            quick_after_issue: RecencyRule {
                points: 15,
                minutes: 2,
            },
        }
    }
}

impl RuleSet {
    pub fn check(&self) -> Vec<kernel::FieldError> {
        let mut errors = Vec::new();
        let mut fail = |field: &str, message: &str| {
            errors.push(kernel::FieldError {
                field: field.into(),
                message: message.into(),
            })
        };
        if !(0..=1000).contains(&self.approve_below) || self.block_above < self.approve_below {
            fail(
                "blockAbove",
                "bands must satisfy 0 <= approveBelow <= blockAbove",
            );
        }
        for (name, rule) in [
            ("deviceVelocity", &self.device_velocity),
            ("outletVelocity", &self.outlet_velocity),
            ("customerVelocity", &self.customer_velocity),
            ("failedAttempts", &self.failed_attempts),
        ] {
            if rule.window_secs <= 0 || rule.window_secs > 30 * 86_400 || rule.max < 0 {
                fail(name, "needs a window of 1 s to 30 days and max >= 0");
            }
        }
        let points = [
            self.device_velocity.points,
            self.outlet_velocity.points,
            self.customer_velocity.points,
            self.distance.points,
            self.distance.missing_points,
            self.failed_attempts.points,
            self.new_device.points,
            self.unusual_amount.points,
            self.quick_after_issue.points,
        ];
        if points.iter().any(|p| !(0..=100).contains(p)) {
            fail("rules", "points must be 0 to 100");
        }
        if self.distance.max_km.is_nan()
            || self.distance.max_km <= 0.0
            || self.unusual_amount.factor.is_nan()
            || self.unusual_amount.factor <= 1.0
        {
            fail("rules", "maxKm must be positive and factor above 1");
        }
        errors
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleHit {
    pub rule: String,
    pub points: i32,
    pub detail: String,
}

/// A count of events within a window that adds points above a limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VelocityRule {
    pub points: i32,
    pub window_secs: i64,
    /// Points are added when more than this many happened in the window.
    pub max: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DistanceRule {
    pub points: i32,
    /// The device further than this from the outlet adds points.
    pub max_km: f64,
    /// Points when the device sends no location.
    pub missing_points: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlatRule {
    pub points: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AmountRule {
    pub points: i32,
    /// Unusual: more than this many times the merchant's average redemption...
    pub factor: f64,
    /// ...once the merchant has at least this many redemptions to average.
    pub min_history: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecencyRule {
    pub points: i32,
    /// Redeemed within this many minutes of purchase, claim or gift.
    pub minutes: i64,
}
