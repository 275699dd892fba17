//! promotions' states and kinds, as its API and events carry them.

use kernel::text_enum;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// DRAFT → SCHEDULED → ACTIVE ⇄ PAUSED → ENDED. A job starts and ends scheduled campaigns
/// at their times; a spent budget ends a campaign at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CampaignStatus {
    Draft,
    Scheduled,
    Active,
    Paused,
    Ended,
}

text_enum!(CampaignStatus {
    Draft => "DRAFT",
    Scheduled => "SCHEDULED",
    Active => "ACTIVE",
    Paused => "PAUSED",
    Ended => "ENDED",
});

impl CampaignStatus {
    /// Moves a campaign's manager may ask for. SCHEDULED → ACTIVE and → ENDED at the end
    /// time are the job's; a manager may also end a campaign early.
    pub fn may_move_to(self, to: CampaignStatus) -> bool {
        use CampaignStatus::*;
        matches!(
            (self, to),
            (Draft, Scheduled)
                | (Scheduled, Draft)
                | (Active, Paused)
                | (Paused, Active)
                | (Draft | Scheduled | Active | Paused, Ended)
        )
    }

    /// Whether its promotions may still be edited (not once it ended).
    pub fn editable(self) -> bool {
        self != CampaignStatus::Ended
    }
}

/// Applied by itself when its conditions hold, or only with a coupon code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PromotionKind {
    Automatic,
    Code,
}

text_enum!(PromotionKind { Automatic => "AUTOMATIC", Code => "CODE" });

/// Who funds a discount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CostBearer {
    /// The platform: the merchant is paid as if there were no discount.
    Platform,
    /// The merchant: its payable is reduced by the discount.
    Merchant,
    /// Split: `merchantShareBps` of it is the merchant's, the rest the platform's.
    Shared,
}

text_enum!(CostBearer { Platform => "PLATFORM", Merchant => "MERCHANT", Shared => "SHARED" });

/// A campaign's budget counts money given away, or uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BudgetKind {
    Spend,
    Uses,
}

text_enum!(BudgetKind { Spend => "SPEND", Uses => "USES" });

/// One checkout's use of a promotion: RESERVED at checkout, REDEEMED when paid, RELEASED when
/// its orders closed unpaid, RETURNED when they were refunded in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UsageState {
    Reserved,
    Redeemed,
    Released,
    Returned,
}

text_enum!(UsageState {
    Reserved => "RESERVED",
    Redeemed => "REDEEMED",
    Released => "RELEASED",
    Returned => "RETURNED",
});

/// Why a coupon code does not apply (stable: clients translate these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CouponReason {
    /// No such code.
    NotFound,
    /// Its campaign is not running (draft, paused, ended) or the promotion was deleted.
    NotActive,
    NotStarted,
    Expired,
    /// The code, promotion or campaign reached its limit or budget.
    Exhausted,
    /// This customer used it as often as allowed.
    CustomerLimit,
    /// The cart is below the minimum spend.
    MinimumSpend,
    /// The cart is in another currency than the promotion.
    Currency,
    /// The cart has no item it applies to, or another condition does not hold.
    NotApplicable,
    /// An exclusive promotion gives more, or this one is exclusive and another gives more.
    NotCombinable,
    /// Only for a customer's first paid order.
    FirstOrderOnly,
    /// Offered to other customers only (a customer group).
    NotEligible,
    /// Not at this day or hour.
    OutsideHours,
    /// Sign in to use a code.
    SignInRequired,
}

text_enum!(CouponReason {
    NotFound => "not_found",
    NotActive => "not_active",
    NotStarted => "not_started",
    Expired => "expired",
    Exhausted => "exhausted",
    CustomerLimit => "customer_limit",
    MinimumSpend => "minimum_spend",
    Currency => "currency",
    NotApplicable => "not_applicable",
    NotCombinable => "not_combinable",
    FirstOrderOnly => "first_order_only",
    NotEligible => "not_eligible",
    OutsideHours => "outside_hours",
    SignInRequired => "sign_in_required",
});

/// Where a discount of a cart or an order comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DiscountSource {
    #[default]
    Promotion,
    /// A flash sale's price: the `promotionId` beside it is the flash sale's id.
    FlashSale,
    /// Loyalty points redeemed: the `promotionId` beside it is the nil id.
    Points,
}
