//! A promotion's rules as data: the conditions that must all hold and the effect it gives.

use kernel::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Which cart lines a condition or an effect concerns. A line matches when it matches every
/// list given (variant, product, category with its descendants, brand, merchant), any entry
/// of each; no list at all matches every line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemFilter {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variant_ids: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub product_ids: Vec<Uuid>,
    /// A category matches its descendants too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category_ids: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub brand_ids: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merchant_ids: Vec<Uuid>,
}

impl ItemFilter {
    pub fn is_empty(&self) -> bool {
        self.variant_ids.is_empty()
            && self.product_ids.is_empty()
            && self.category_ids.is_empty()
            && self.brand_ids.is_empty()
            && self.merchant_ids.is_empty()
    }
}

/// When, in the marketplace's time zone, a promotion applies, within its dates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TimeWindow {
    /// ISO weekdays (1 = Monday … 7 = Sunday); empty: every day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days_of_week: Vec<u8>,
    /// From this hour (0–23), inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_hour: Option<u8>,
    /// Until this hour (1–24), exclusive. Before `fromHour` it wraps past midnight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_hour: Option<u8>,
}

/// Conditions, all of which must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Conditions {
    /// The cart's subtotal (all lines, before discounts) at least this, in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_subtotal: Option<i64>,
    /// The cart holds at least `minQuantity` units of matching items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<ItemFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_quantity: Option<i64>,
    /// Only for a customer who has no paid order yet.
    #[serde(default)]
    pub first_order: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_window: Option<TimeWindow>,
    /// Only for these customers (a customer group).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customer_ids: Vec<Uuid>,
    /// Only for customers in one of these loyalty tiers (their codes, e.g. `GOLD`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<String>,
}

/// What part of the cart an amount or percentage comes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Target {
    /// The whole cart (every line in scope of the promotion).
    Order,
    /// Only the lines matching `appliesTo`.
    Lines,
    /// The shipping charge.
    Shipping,
}

/// The discount a promotion gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields)]
pub enum Effect {
    /// `percentBps` basis points off (1000 = 10 %).
    #[serde(rename_all = "camelCase")]
    PercentOff {
        percent_bps: i64,
        target: Target,
    },
    /// A fixed amount off, in minor units, spread over the target.
    #[serde(rename_all = "camelCase")]
    AmountOff {
        amount: i64,
        target: Target,
    },
    /// Matching items cost `unitPrice` each (never more than their price).
    #[serde(rename_all = "camelCase")]
    FixedPrice {
        unit_price: i64,
    },
    /// For every `buy` matching units, `get` more of them (the cheapest) come at
    /// `percentBps` off (10000 = free).
    #[serde(rename_all = "camelCase")]
    BuyXGetY {
        buy: i64,
        get: i64,
        percent_bps: i64,
    },
    FreeShipping,
}

/// A promotion's rules, as written and stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rules {
    #[serde(default)]
    pub conditions: Conditions,
    pub effect: Effect,
    /// Lines the effect applies to (for `LINES`, `FIXED_PRICE` and `BUY_X_GET_Y`); empty:
    /// the lines of `conditions.items`, or every line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies_to: Option<ItemFilter>,
    /// The discount is never more than this, in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_discount: Option<i64>,
    /// Optional dates inside the campaign's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<Timestamp>,
}
