//! promotions' public face: campaigns, promotions and their rules, coupon codes, the quote
//! cart and checkout price with, the reservations checkout makes, and the events.

mod errors;
pub use errors::PromotionsCode;

mod rules;
pub use rules::*;

mod states;
pub use states::*;

use kernel::call::{CallError, Method, Services};
use kernel::{Currency, DomainEvent, LocalizedText, Timestamp};
use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

// ---- campaigns ----

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Budget {
    pub kind: BudgetKind,
    /// Minor units of `currency` (SPEND) or a number of uses (USES).
    pub limit: i64,
    /// With SPEND.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CampaignInput {
    pub title: LocalizedText,
    #[serde(default)]
    pub description: Option<LocalizedText>,
    /// The merchant running it; absent: a platform campaign (admins only).
    #[serde(default)]
    pub merchant_id: Option<Uuid>,
    pub starts_at: Timestamp,
    #[serde(default)]
    pub ends_at: Option<Timestamp>,
    #[serde(default)]
    pub budget: Option<Budget>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Campaign {
    pub id: Uuid,
    pub merchant_id: Option<Uuid>,
    pub title: LocalizedText,
    pub description: Option<LocalizedText>,
    pub status: CampaignStatus,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub budget: Option<Budget>,
    /// Discount given (reserved or redeemed), in minor units of the budget's currency.
    pub spent: i64,
    /// Checkouts that used one of its promotions (reserved or redeemed).
    pub uses: i64,
    pub allowed_next_statuses: Vec<CampaignStatus>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CampaignStatusChange {
    pub status: CampaignStatus,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct CampaignQuery {
    /// Admins: one merchant's campaigns. Merchant staff see their merchant's.
    pub merchant_id: Option<Uuid>,
    pub status: Option<CampaignStatus>,
}

// ---- promotions ----

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromotionInput {
    pub campaign_id: Uuid,
    pub name: LocalizedText,
    pub kind: PromotionKind,
    /// The public code of a CODE promotion (letters, digits, `-`; stored upper case).
    #[serde(default)]
    pub code: Option<String>,
    pub currency: Currency,
    /// Higher first; ties by creation.
    #[serde(default)]
    pub priority: i32,
    /// Applies alone: the best exclusive promotion for the customer wins over any other.
    #[serde(default)]
    pub exclusive: bool,
    pub rules: Rules,
    pub bearer: CostBearer,
    /// With SHARED: the merchant's part, in basis points.
    #[serde(default)]
    pub merchant_share_bps: Option<i64>,
    /// Checkouts it may be used in, in total.
    #[serde(default)]
    pub usage_limit: Option<i64>,
    /// Checkouts one customer may use it in.
    #[serde(default)]
    pub per_customer_limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Promotion {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub merchant_id: Option<Uuid>,
    pub name: LocalizedText,
    pub kind: PromotionKind,
    pub code: Option<String>,
    pub currency: Currency,
    pub priority: i32,
    pub exclusive: bool,
    pub rules: Rules,
    pub bearer: CostBearer,
    pub merchant_share_bps: i64,
    pub usage_limit: Option<i64>,
    pub per_customer_limit: Option<i64>,
    /// Checkouts using it now (reserved or redeemed).
    pub uses: i64,
    /// Generated codes (bulk), besides the public one.
    pub generated_codes: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PromotionQuery {
    pub campaign_id: Option<Uuid>,
    pub merchant_id: Option<Uuid>,
}

/// Bulk generation of unique codes for a CODE promotion.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateCodes {
    /// 1 to 10,000.
    pub count: i64,
    /// `#` is replaced by a random character (no 0/O, 1/I/L): e.g. `KOPI-####-####`.
    #[serde(default)]
    pub pattern: Option<String>,
    /// Uses of each code (default 1).
    #[serde(default)]
    pub uses_per_code: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedCodes {
    pub promotion_id: Uuid,
    pub codes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CouponCode {
    pub code: String,
    pub usage_limit: Option<i64>,
    pub uses: i64,
}

// ---- quotes: the one discount calculation ----

/// A line to price, with what promotion rules look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteLine {
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub merchant_id: Uuid,
    /// Leaf first, up to the root.
    #[serde(default)]
    pub category_path: Vec<Uuid>,
    #[serde(default)]
    pub brand_id: Option<Uuid>,
    pub quantity: i64,
    /// The list price.
    pub unit_price: i64,
    /// A sale price the line is sold at (a flash sale): promotions apply to it, and the cut
    /// from the list price is the line's first discount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sale: Option<LineSale>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineSale {
    pub flash_sale_id: Uuid,
    pub title: LocalizedText,
    /// Below the line's list price.
    pub unit_price: i64,
    /// The list price the sale was set up from: a platform-funded cut is never more than the
    /// cut from it (a merchant raising its price during the sale funds the difference).
    pub list_price: i64,
    /// The platform funds the cut (the merchant is paid the list price).
    pub platform_funded: bool,
}

/// What a sale took off the lines of a quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppliedSale {
    pub flash_sale_id: Uuid,
    pub title: LocalizedText,
    pub amount: i64,
    pub platform_funded: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteRequest {
    /// Absent for a guest: customer conditions and codes do not apply.
    #[serde(default)]
    pub customer_id: Option<Uuid>,
    pub currency: Currency,
    pub lines: Vec<QuoteLine>,
    #[serde(default)]
    pub codes: Vec<String>,
    /// Shipping quoted per merchant, when it is.
    #[serde(default)]
    pub shipping: Vec<MerchantShipping>,
    /// Loyalty points the customer redeems (checkout), with loyalty's terms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<PointsToRedeem>,
    /// Include each line's allocations per promotion (checkout needs them to reserve; a
    /// summary does not).
    #[serde(default)]
    pub with_allocations: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MerchantShipping {
    pub merchant_id: Uuid,
    pub amount: i64,
}

/// One promotion's share of one line's discount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineAllocation {
    /// The promotion, or the flash sale of a sale price's cut.
    pub promotion_id: Uuid,
    pub amount: i64,
    /// The platform-funded part of `amount`.
    pub platform_funded: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineDiscount {
    pub variant_id: Uuid,
    pub merchant_id: Uuid,
    pub line_total: i64,
    /// Never more than `lineTotal`.
    pub discount: i64,
    pub platform_funded: i64,
    /// Per promotion, when asked for (`withAllocations`).
    pub allocations: Vec<LineAllocation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingDiscount {
    pub merchant_id: Uuid,
    pub promotion_id: Uuid,
    pub amount: i64,
    pub platform_funded: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppliedPromotion {
    pub promotion_id: Uuid,
    pub campaign_id: Uuid,
    pub name: LocalizedText,
    /// The code entered, for a CODE promotion.
    pub code: Option<String>,
    pub bearer: CostBearer,
    /// Lines and shipping together.
    pub amount: i64,
    pub platform_funded: i64,
}

/// A code entered that gives nothing, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CodeRejection {
    pub code: String,
    pub reason: CouponReason,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    pub currency: Currency,
    pub subtotal: i64,
    /// Lines and shipping discounts together.
    pub discount: i64,
    pub applied: Vec<AppliedPromotion>,
    /// One per line of the request, in its order.
    pub lines: Vec<LineDiscount>,
    pub shipping: Vec<ShippingDiscount>,
    pub rejected_codes: Vec<CodeRejection>,
    /// Sale prices of lines (flash sales), counted in `discount` and the lines' discounts.
    #[serde(default)]
    pub sales: Vec<AppliedSale>,
    /// Loyalty points taken off, counted in `discount` and the lines' discounts (their
    /// allocations name [`POINTS_SOURCE_ID`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<AppliedPoints>,
}

/// The allocation id of loyalty points in a line's allocations.
pub const POINTS_SOURCE_ID: Uuid = Uuid::nil();

/// Points to redeem at checkout and what loyalty says they are worth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PointsToRedeem {
    /// At most this many.
    pub points: i64,
    /// Minor units one point takes off.
    pub minor_per_point: i64,
    /// Points take at most this share of what is left to pay after promotions, in basis points.
    pub max_order_bps: i64,
}

/// The points a quote redeems (never more than asked, in whole points) and what they took off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppliedPoints {
    pub points: i64,
    pub amount: i64,
}

impl Quote {
    /// The redeemed points per order (`order_of_line` gives each line's order), in proportion
    /// to what they took off each order; they sum to the points redeemed.
    pub fn points_by_order(&self, order_of_line: &[Uuid]) -> Vec<(Uuid, i64)> {
        let Some(points) = &self.points else {
            return Vec::new();
        };
        let mut orders: Vec<(Uuid, i64)> = Vec::new();
        for (line, order) in self.lines.iter().zip(order_of_line) {
            let amount: i64 = line
                .allocations
                .iter()
                .filter(|a| a.promotion_id == POINTS_SOURCE_ID)
                .map(|a| a.amount)
                .sum();
            match orders.iter_mut().find(|(o, _)| o == order) {
                Some((_, a)) => *a += amount,
                None => orders.push((*order, amount)),
            }
        }
        let amounts: Vec<i64> = orders.iter().map(|(_, a)| *a).collect();
        orders
            .iter()
            .zip(kernel::spread(points.points, &amounts))
            .filter(|(_, p)| *p > 0)
            .map(|((o, _), p)| (*o, p))
            .collect()
    }

    /// The reservation checkout makes for this quote: what each order got from each applied
    /// promotion. `order_of_line` gives the order of each line (by index),
    /// `order_of_merchant` the order of each merchant (for shipping).
    pub fn shares_by_order(
        &self,
        order_of_line: &[Uuid],
        order_of_merchant: &HashMap<Uuid, Uuid>,
    ) -> Vec<ReservedPromotion> {
        let mut out: Vec<ReservedPromotion> = Vec::new();
        for applied in &self.applied {
            let mut by_order: Vec<OrderShare> = Vec::new();
            let mut add = |order_id: Uuid, amount: i64, platform: i64| match by_order
                .iter_mut()
                .find(|s| s.order_id == order_id)
            {
                Some(s) => {
                    s.amount += amount;
                    s.platform_funded += platform;
                }
                None => by_order.push(OrderShare {
                    order_id,
                    amount,
                    platform_funded: platform,
                }),
            };
            for (i, line) in self.lines.iter().enumerate() {
                for a in line
                    .allocations
                    .iter()
                    .filter(|a| a.promotion_id == applied.promotion_id)
                {
                    if let Some(order) = order_of_line.get(i) {
                        add(*order, a.amount, a.platform_funded);
                    }
                }
            }
            for s in self
                .shipping
                .iter()
                .filter(|s| s.promotion_id == applied.promotion_id)
            {
                if let Some(order) = order_of_merchant.get(&s.merchant_id) {
                    add(*order, s.amount, s.platform_funded);
                }
            }
            out.push(ReservedPromotion {
                promotion_id: applied.promotion_id,
                code: applied.code.clone(),
                amount: applied.amount,
                orders: by_order,
            });
        }
        out
    }
}

/// `POST /api/v1/coupons/validate`: a code, against the caller's cart or given lines.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValidateCoupon {
    pub code: String,
    /// Lines to price; absent: only the code's own state is checked.
    #[serde(default)]
    pub cart: Option<Vec<ValidateLine>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValidateLine {
    pub variant_id: Uuid,
    pub quantity: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CouponCheck {
    pub code: String,
    pub valid: bool,
    /// Why not, when not valid.
    pub reason: Option<CouponReason>,
    pub detail: Option<String>,
    /// What it would take off the given lines.
    pub discount: Option<i64>,
    pub currency: Option<Currency>,
}

// ---- reservations: checkout's step ----

/// What one order of a checkout got from one promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderShare {
    pub order_id: Uuid,
    pub amount: i64,
    pub platform_funded: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReservedPromotion {
    pub promotion_id: Uuid,
    pub code: Option<String>,
    pub amount: i64,
    pub orders: Vec<OrderShare>,
}

/// Checkout's claim on the limits and budgets of the promotions it was priced with: all or
/// nothing, idempotent per group.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReservePromotions {
    pub group_id: Uuid,
    pub customer_id: Uuid,
    pub currency: Currency,
    pub promotions: Vec<ReservedPromotion>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromotionReservation {
    pub group_id: Uuid,
    pub reserved: usize,
}

// ---- analytics ----

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromotionStats {
    pub promotion_id: Uuid,
    pub campaign_id: Uuid,
    pub merchant_id: Option<Uuid>,
    pub name: LocalizedText,
    pub currency: Currency,
    /// Paid checkouts that used it (refunded ones taken back).
    pub uses: i64,
    pub unique_customers: i64,
    pub discount_platform: i64,
    pub discount_merchant: i64,
    /// What those orders were paid (after discounts).
    pub revenue: i64,
    /// `revenue / discount`, when any discount was given.
    pub roi: Option<f64>,
}

/// A campaign's figures in one currency: each paid checkout, order and customer counted once
/// however many of its promotions they used.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignStats {
    pub campaign_id: Uuid,
    pub merchant_id: Option<Uuid>,
    pub title: LocalizedText,
    pub currency: Currency,
    pub uses: i64,
    pub unique_customers: i64,
    pub discount_platform: i64,
    pub discount_merchant: i64,
    pub revenue: i64,
    pub roi: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromotionAnalytics {
    pub campaigns: Vec<CampaignStats>,
    pub promotions: Vec<PromotionStats>,
}

// ---- typed client ----

/// Typed client of promotions, used by cart and orders.
#[derive(Clone)]
pub struct PromotionsClient {
    services: Services,
    caller: &'static str,
}

impl PromotionsClient {
    pub fn new(services: Services, caller: &'static str) -> Self {
        Self { services, caller }
    }

    /// The discounts of the lines, with the codes entered.
    pub async fn quote(&self, request: &QuoteRequest) -> Result<Quote, CallError> {
        self.services
            .call(
                self.caller,
                Method::POST,
                "/internal/v1/promotions/quote",
                Some(request),
            )
            .await
    }

    /// Takes the uses and budget of a checkout's promotions (`promotion_unavailable` when one
    /// ran out meanwhile).
    pub async fn reserve(
        &self,
        request: &ReservePromotions,
    ) -> Result<PromotionReservation, CallError> {
        self.services
            .call(
                self.caller,
                Method::POST,
                "/internal/v1/promotions/reservations",
                Some(request),
            )
            .await
    }

    /// Gives back what a checkout that did not complete reserved; idempotent.
    pub async fn release(&self, group_id: Uuid) -> Result<PromotionReservation, CallError> {
        self.services
            .call::<(), _>(
                self.caller,
                Method::DELETE,
                &format!("/internal/v1/promotions/reservations/{group_id}"),
                None,
            )
            .await
    }
}

// ---- events ----

/// A paid checkout used a promotion (counted once per checkout).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromotionApplied {
    pub promotion_id: Uuid,
    pub campaign_id: Uuid,
    pub merchant_id: Option<Uuid>,
    pub group_id: Uuid,
    pub customer_id: Uuid,
    pub currency: Currency,
    pub amount: i64,
    pub platform_funded: i64,
    pub code: Option<String>,
}

impl DomainEvent for PromotionApplied {
    const TYPE: &'static str = "promotion.applied";
    fn aggregate_id(&self) -> String {
        self.promotion_id.to_string()
    }
}

/// A coupon code was used by a paid checkout.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CouponRedeemed {
    pub code: String,
    pub promotion_id: Uuid,
    pub group_id: Uuid,
    pub customer_id: Uuid,
    pub amount: i64,
    pub currency: Currency,
}

impl DomainEvent for CouponRedeemed {
    const TYPE: &'static str = "coupon.redeemed";
    fn aggregate_id(&self) -> String {
        self.code.clone()
    }
}

/// A code's use was given back: its checkout expired or was cancelled unpaid, or was
/// refunded in full.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CouponReleased {
    pub code: String,
    pub promotion_id: Uuid,
    pub group_id: Uuid,
    pub customer_id: Uuid,
    /// `RELEASED` (never paid) or `RETURNED` (refunded).
    pub state: UsageState,
}

impl DomainEvent for CouponReleased {
    const TYPE: &'static str = "coupon.released";
    fn aggregate_id(&self) -> String {
        self.code.clone()
    }
}

/// A campaign's budget is used up: its promotions stop applying at once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignBudgetExhausted {
    pub campaign_id: Uuid,
    pub merchant_id: Option<Uuid>,
    pub budget: Budget,
    pub spent: i64,
    pub uses: i64,
}

impl DomainEvent for CampaignBudgetExhausted {
    const TYPE: &'static str = "campaign.budget_exhausted";
    fn aggregate_id(&self) -> String {
        self.campaign_id.to_string()
    }
}

/// Every event promotions publishes, for the event catalogue.
pub fn events() -> Vec<kernel::EventSpec> {
    vec![
        kernel::EventSpec::of::<PromotionApplied>(),
        kernel::EventSpec::of::<CouponRedeemed>(),
        kernel::EventSpec::of::<CouponReleased>(),
        kernel::EventSpec::of::<CampaignBudgetExhausted>(),
    ]
}
