//! loyalty's public face: the points ledger and its entries, tiers, achievements, what
//! checkout redeems through, and the events.

mod errors;
pub use errors::LoyaltyCode;

use kernel::call::{CallError, Method, Services};
use kernel::{text_enum, Currency, DomainEvent, LocalizedText, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Why points moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntryKind {
    /// Earned by a paid order, credited when it completed (or on payment, as configured).
    Earn,
    Signup,
    Review,
    Achievement,
    /// Spent as a discount at checkout.
    Redeem,
    /// Given back: the checkout that spent them did not go through, or its order was cancelled.
    RedeemReturned,
    /// Taken back: the order that earned them was refunded.
    Reversal,
    Expiry,
    /// By an admin, with a reason.
    Adjustment,
}

text_enum!(EntryKind {
    Earn => "EARN", Signup => "SIGNUP", Review => "REVIEW", Achievement => "ACHIEVEMENT",
    Redeem => "REDEEM", RedeemReturned => "REDEEM_RETURNED", Reversal => "REVERSAL",
    Expiry => "EXPIRY", Adjustment => "ADJUSTMENT"
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tier {
    pub code: String,
    pub name: LocalizedText,
    /// Points earned from purchases in the last 365 days that qualify for it.
    pub min_points: i64,
    /// Earned points are multiplied by this, in basis points (12500 = 1.25x).
    pub earn_multiplier_bps: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RewardsAccount {
    pub customer_id: Uuid,
    /// The sum of every entry.
    pub balance: i64,
    pub tier: Tier,
    /// The next tier up and the qualifying points still missing.
    pub next_tier: Option<Tier>,
    pub points_to_next_tier: Option<i64>,
    /// Points earned from purchases in the last 365 days.
    pub qualifying_points: i64,
    /// Earned by paid orders, credited when they complete.
    pub pending_points: i64,
    /// The points that expire first, and when.
    pub next_expiry: Option<PointsExpiry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PointsExpiry {
    pub points: i64,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RewardsEntry {
    pub id: Uuid,
    pub kind: EntryKind,
    /// Positive credits, negative debits.
    pub points: i64,
    /// The order, checkout, achievement or user the entry is about.
    pub reference: Option<String>,
    pub reason: Option<String>,
    /// For credits: when what is left of them expires.
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct EntryQuery {
    /// Entries before this one (the `id` of the last entry of the previous page).
    pub before: Option<Uuid>,
    /// At most 100 (default 50).
    pub limit: Option<i64>,
}

/// What an achievement counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AchievementKind {
    OrdersPaid,
    VouchersRedeemed,
    /// Reviews that became public, each counted once.
    ReviewsApproved,
}

text_enum!(AchievementKind {
    OrdersPaid => "ORDERS_PAID", VouchersRedeemed => "VOUCHERS_REDEEMED",
    ReviewsApproved => "REVIEWS_APPROVED"
});

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Achievement {
    pub code: String,
    pub name: LocalizedText,
    pub kind: AchievementKind,
    pub target: i64,
    pub points: i64,
    /// The caller's count so far.
    pub progress: i64,
    pub awarded_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdjustmentInput {
    /// Non-zero; a debit never takes the balance below zero.
    pub points: i64,
    /// Why (kept on the entry, with who made it).
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminRewardsAccount {
    pub account: RewardsAccount,
    pub entries: Vec<RewardsEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerTier {
    pub customer_id: Uuid,
    pub tier: String,
}

// ---- checkout ----

/// What a customer's points are worth in a currency, for checkout's pricing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedemptionTerms {
    pub customer_id: Uuid,
    pub balance: i64,
    pub currency: Currency,
    /// Minor units one point takes off.
    pub minor_per_point: i64,
    pub min_points: i64,
    /// Points take at most this share of what is left to pay after promotions, in basis points.
    pub max_order_bps: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TermsRequest {
    pub customer_id: Uuid,
    pub currency: Currency,
}

/// The points of one order of a checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderPoints {
    pub order_id: Uuid,
    pub points: i64,
}

/// Checkout's step: takes the points a checkout was priced with, all or none.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedeemRequest {
    pub group_id: Uuid,
    pub customer_id: Uuid,
    pub orders: Vec<OrderPoints>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PointsRedemption {
    pub group_id: Uuid,
    pub points: i64,
}

// ---- typed client ----

/// Typed client of loyalty, used by orders (points) and promotions (tiers).
#[derive(Clone)]
pub struct LoyaltyClient {
    services: Services,
    caller: &'static str,
}

impl LoyaltyClient {
    pub fn new(services: Services, caller: &'static str) -> Self {
        Self { services, caller }
    }

    /// The tiers, lowest first.
    pub async fn tiers(&self) -> Result<Vec<Tier>, CallError> {
        self.services
            .call::<(), _>(self.caller, Method::GET, "/internal/v1/loyalty/tiers", None)
            .await
    }

    /// The customer's tier now (the lowest for a customer without an account).
    pub async fn tier_of(&self, customer_id: Uuid) -> Result<CustomerTier, CallError> {
        self.services
            .call::<(), _>(
                self.caller,
                Method::GET,
                &format!("/internal/v1/loyalty/customers/{customer_id}/tier"),
                None,
            )
            .await
    }

    pub async fn terms(&self, request: &TermsRequest) -> Result<RedemptionTerms, CallError> {
        self.services
            .call(
                self.caller,
                Method::POST,
                "/internal/v1/loyalty/terms",
                Some(request),
            )
            .await
    }

    /// Takes the points (`insufficient_points` when the balance no longer has them).
    pub async fn redeem(&self, request: &RedeemRequest) -> Result<PointsRedemption, CallError> {
        self.services
            .call(
                self.caller,
                Method::POST,
                "/internal/v1/loyalty/redemptions",
                Some(request),
            )
            .await
    }

    /// Gives back what a checkout that did not complete took; idempotent.
    pub async fn give_back(&self, group_id: Uuid) -> Result<PointsRedemption, CallError> {
        self.services
            .call::<(), _>(
                self.caller,
                Method::DELETE,
                &format!("/internal/v1/loyalty/redemptions/{group_id}"),
                None,
            )
            .await
    }
}

// ---- events ----

/// A customer moved to another tier (up or down).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TierChanged {
    pub customer_id: Uuid,
    pub from: String,
    pub to: String,
    pub to_name: LocalizedText,
    pub qualifying_points: i64,
}

impl DomainEvent for TierChanged {
    const TYPE: &'static str = "loyalty.tier_changed";
    fn aggregate_id(&self) -> String {
        self.customer_id.to_string()
    }
}

/// Some of a customer's points expire soon.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PointsExpiring {
    pub customer_id: Uuid,
    pub points: i64,
    pub expires_at: Timestamp,
}

impl DomainEvent for PointsExpiring {
    const TYPE: &'static str = "loyalty.points_expiring";
    fn aggregate_id(&self) -> String {
        self.customer_id.to_string()
    }
}

/// An achievement was awarded (once per customer).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AchievementAwarded {
    pub customer_id: Uuid,
    pub code: String,
    pub points: i64,
}

impl DomainEvent for AchievementAwarded {
    const TYPE: &'static str = "loyalty.achievement_awarded";
    fn aggregate_id(&self) -> String {
        self.customer_id.to_string()
    }
}

pub fn events() -> Vec<kernel::EventSpec> {
    vec![
        kernel::EventSpec::of::<TierChanged>(),
        kernel::EventSpec::of::<PointsExpiring>(),
        kernel::EventSpec::of::<AchievementAwarded>(),
    ]
}
