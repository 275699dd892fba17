//! cart's public face: the cart, its lines and summary, and the typed client checkout reads
//! the customer's cart through.

mod errors;
pub use errors::CartCode;

use kernel::call::Method;
use kernel::call::{CallError, Services};
use kernel::{Currency, LocalizedText, Timestamp};
/// Why a code does not apply, as promotions says it.
pub use promotions_contract::CouponReason;
use serde::{Deserialize, Serialize};
pub use shipping_contract::ShippingOption;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The header that carries a guest cart's token.
pub const CART_TOKEN_HEADER: &str = "x-cart-token";

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddItem {
    pub variant_id: Uuid,
    pub quantity: i64,
}

/// A coupon code to apply to the cart.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddCoupon {
    pub code: String,
}

/// A promotion applied to the cart, as the customer sees it (who funds it and its rules stay
/// with the merchant and the platform).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartPromotion {
    #[serde(default)]
    pub source: promotions_contract::DiscountSource,
    /// The promotion, or the flash sale.
    pub promotion_id: Uuid,
    pub name: LocalizedText,
    /// The code entered, for a code promotion.
    pub code: Option<String>,
    pub amount: i64,
}

/// A code entered on the cart: what it takes off now, or why it does not apply.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartCoupon {
    pub code: String,
    pub applied: bool,
    /// What it takes off now (0 when not applied).
    pub amount: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<CouponReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateItem {
    pub quantity: i64,
}

/// A cart line with the variant's current catalog data.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartLine {
    pub id: Uuid,
    pub variant_id: Uuid,
    pub quantity: i64,
    /// Price per unit now (from the catalog; the price when added if the variant is gone).
    pub unit_price: i64,
    /// Price per unit when the line was added or last updated.
    pub added_price: i64,
    pub currency: Currency,
    pub line_total: i64,
    /// Taken off by promotions (in the summary; 0 elsewhere).
    #[serde(default)]
    pub discount: i64,
    pub product_id: Option<Uuid>,
    pub merchant_id: Option<Uuid>,
    pub sku: Option<String>,
    pub product_name: Option<LocalizedText>,
    /// Whether it can be bought now (listed, merchant active).
    pub sellable: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartView {
    /// None while the caller has no cart yet.
    pub id: Option<Uuid>,
    pub items: Vec<CartLine>,
    pub item_count: i64,
    pub currency: Option<Currency>,
    pub updated_at: Option<Timestamp>,
    /// Untouched until then, the cart is deleted.
    pub expires_at: Option<Timestamp>,
    /// A new guest cart's token, also sent as `X-Cart-Token`: send it back on every cart call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cart_token: Option<String>,
    /// A guest cart was merged into this customer's cart by this call.
    pub merged: bool,
}

/// Shipping as the summary shows it: per merchant group, the cheapest option shipping offers
/// for the customer's address (the one given as `addressId`, else their primary address); for
/// the cart, the sum. Checkout takes the option the customer picks and quotes it again.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingQuote {
    /// `QUOTED`; `NOT_REQUIRED` (nothing ships); `ADDRESS_REQUIRED` (a guest, or no saved
    /// address yet); `UNAVAILABLE` (no courier of the merchant reaches the address).
    pub status: String,
    /// The charge before `discount`: when QUOTED (0 when NOT_REQUIRED).
    pub amount: Option<i64>,
    /// Taken off by free-shipping promotions.
    #[serde(default)]
    pub discount: i64,
    /// The option quoted (merchant groups only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub option: Option<ShippingOption>,
}

impl ShippingQuote {
    pub fn of_status(status: &str) -> Self {
        Self {
            status: status.into(),
            amount: None,
            discount: 0,
            option: None,
        }
    }

    pub fn not_required() -> Self {
        Self {
            amount: Some(0),
            ..Self::of_status(SHIPPING_NOT_REQUIRED)
        }
    }

    pub fn quoted(option: ShippingOption) -> Self {
        Self {
            status: SHIPPING_QUOTED.into(),
            amount: Some(option.amount),
            discount: 0,
            option: Some(option),
        }
    }
}

pub const SHIPPING_QUOTED: &str = "QUOTED";
pub const SHIPPING_NOT_REQUIRED: &str = "NOT_REQUIRED";
pub const SHIPPING_ADDRESS_REQUIRED: &str = "ADDRESS_REQUIRED";
pub const SHIPPING_UNAVAILABLE: &str = "UNAVAILABLE";

/// Where the summary quotes shipping to.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// One of the customer's saved addresses; absent: their primary address.
    pub address_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MerchantGroup {
    pub merchant_id: Option<Uuid>,
    pub lines: Vec<CartLine>,
    pub subtotal: i64,
    /// Taken off this merchant's lines by promotions.
    pub discount: i64,
    pub shipping: ShippingQuote,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartSummary {
    pub currency: Option<Currency>,
    /// Lines grouped by merchant: each group becomes one order at checkout.
    pub merchants: Vec<MerchantGroup>,
    pub item_count: i64,
    /// Sum of sellable lines at current prices.
    pub subtotal: i64,
    /// Taken off by the promotions applied (automatic ones and codes entered).
    pub discount: i64,
    /// Subtotal minus discount: what the items cost before shipping.
    pub items_total: i64,
    /// The promotions applied, with what each takes off.
    pub promotions: Vec<CartPromotion>,
    /// The codes entered, applied or with the reason they do not apply.
    pub coupons: Vec<CartCoupon>,
    pub shipping: ShippingQuote,
    /// Items total plus shipping minus its discount; absent while shipping is not quoted
    /// (`ADDRESS_REQUIRED`, `UNAVAILABLE`).
    pub total: Option<i64>,
}

/// Why a line cannot be checked out as it is.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineProblem {
    pub item_id: Uuid,
    pub variant_id: Uuid,
    /// `price_changed`, `out_of_stock`, `insufficient_stock`, `unavailable`, `not_found`,
    /// `currency_mismatch`.
    pub code: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_price: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_price: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Validation {
    pub valid: bool,
    pub problems: Vec<LineProblem>,
}

/// What checkout needs of a customer's cart.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartContents {
    pub cart_id: Option<Uuid>,
    pub lines: Vec<CartContentLine>,
    /// Coupon codes entered on the cart.
    #[serde(default)]
    pub coupon_codes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartContentLine {
    pub variant_id: Uuid,
    pub quantity: i64,
    /// The cart line: a checkout removes exactly this line (if unchanged), never a line the
    /// customer added again since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_id: Option<Uuid>,
}

/// Typed client of cart, used by checkout.
#[derive(Clone)]
pub struct CartClient {
    services: Services,
    caller: &'static str,
}

impl CartClient {
    pub fn new(services: Services, caller: &'static str) -> Self {
        Self { services, caller }
    }

    /// The customer's cart lines (empty when there is no cart).
    pub async fn contents(&self, customer_id: Uuid) -> Result<CartContents, CallError> {
        self.services
            .call::<(), _>(
                self.caller,
                Method::GET,
                &format!("/internal/v1/cart/{customer_id}"),
                None,
            )
            .await
    }
}
