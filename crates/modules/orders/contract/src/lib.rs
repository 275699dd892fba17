//! orders' public face: checkout, order groups and orders, their timeline, the events orders
//! publish, and the typed client payments reads what is payable through.

mod errors;
pub use errors::OrdersCode;

mod states;
pub use states::*;

use kernel::call::{CallError, Method, Services};
use kernel::{Currency, DomainEvent, LocalizedText, Timestamp};
/// Payments defines what it collects per order; orders answers in those terms.
pub use payments_contract::PayableOrder;
use payments_contract::RequestedRefund;
use serde::{Deserialize, Serialize};
pub use shipping_contract::{ShippingAddress, ShippingChoice, ShippingOption};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckoutLine {
    pub variant_id: Uuid,
    pub quantity: i64,
}

/// Checkout: the customer's cart, or the lines given. Prices always come from the catalog.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckoutRequest {
    /// Lines to order instead of the cart.
    #[serde(default)]
    pub lines: Option<Vec<CheckoutLine>>,
    /// A note to the merchants (at most 500 characters).
    #[serde(default)]
    pub note: Option<String>,
    /// Coupon codes to apply; absent: the codes entered on the cart (when ordering the cart).
    #[serde(default)]
    pub coupon_codes: Option<Vec<String>>,
    /// Loyalty points to redeem: at most these, within loyalty's minimum and its share of
    /// what is left to pay after promotions.
    #[serde(default)]
    pub redeem_points: Option<i64>,
    /// One of the customer's saved addresses (identity), or `shippingAddress`: one of them is
    /// required when anything ships.
    #[serde(default)]
    pub shipping_address_id: Option<Uuid>,
    /// An address for this checkout only, not saved.
    #[serde(default)]
    pub shipping_address: Option<ShippingAddress>,
    /// One courier service per merchant whose order ships, as `POST /api/v1/shipping/rates`
    /// offered it; the price is quoted again by the server.
    #[serde(default)]
    pub shipping: Option<Vec<ShippingChoice>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub id: Uuid,
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub product_name: LocalizedText,
    /// `PHYSICAL` or `VOUCHER`.
    pub product_type: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub line_total: i64,
    /// The platform's commission rate on this line, in basis points.
    pub commission_bps: i64,
    /// Charged on the line's price after the merchant's own discounts, never more than what
    /// the customer pays for it.
    pub commission: i64,
    /// Taken off by promotions: the customer pays `lineTotal - discount`.
    pub discount: i64,
    /// The part of `discount` the platform funds (the rest is the merchant's).
    pub platform_discount: i64,
}

pub use promotions_contract::DiscountSource;

/// One promotion's (or flash sale's) part of an order's discount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderDiscount {
    #[serde(default)]
    pub source: DiscountSource,
    pub promotion_id: Uuid,
    pub name: LocalizedText,
    /// The coupon code entered, for a code promotion.
    pub code: Option<String>,
    pub amount: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: Uuid,
    pub number: String,
    pub group_id: Uuid,
    pub merchant_id: Uuid,
    pub customer_id: Uuid,
    pub status: OrderStatus,
    pub currency: Currency,
    pub subtotal: i64,
    /// Taken off by promotions, flash-sale prices and points (see `discounts`), shipping
    /// discounts included.
    pub discount: i64,
    pub discounts: Vec<OrderDiscount>,
    /// The shipping charge quoted at checkout (0 for digital-only orders).
    pub shipping: i64,
    /// Whether the order ships (its shipping line is in `shippingDetails`).
    pub shipping_quoted: bool,
    /// The option picked and a copy of the address, for an order that ships.
    pub shipping_details: Option<OrderShipping>,
    /// Subtotal plus shipping minus discount: what the customer pays.
    pub total: i64,
    /// The platform's commission; the merchant earns `total - commission`.
    pub commission: i64,
    pub refunded: i64,
    /// Only vouchers: completes on payment, nothing ships.
    pub digital_only: bool,
    pub tracking_number: Option<String>,
    pub note: Option<String>,
    pub payment_id: Option<Uuid>,
    /// Unpaid after this, the order expires.
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub lines: Vec<OrderLine>,
    /// Moves the caller may make now.
    pub allowed_next_states: Vec<OrderStatus>,
}

/// One checkout: an order per merchant, paid together.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderGroup {
    pub id: Uuid,
    pub number: String,
    pub customer_id: Uuid,
    pub currency: Currency,
    pub subtotal: i64,
    /// The shipping charges of its orders.
    pub shipping: i64,
    /// Everything taken off, shipping discounts included.
    pub discount: i64,
    /// Subtotal plus shipping minus discount.
    pub total: i64,
    /// What is left to pay: the total of its orders still awaiting payment.
    pub amount_due: i64,
    pub payment_id: Option<Uuid>,
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
    pub orders: Vec<Order>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    pub status: OrderStatus,
    pub previous_status: Option<OrderStatus>,
    /// `customer`, `merchant`, `admin` or `system`.
    pub by: String,
    pub actor_id: Option<Uuid>,
    pub note: Option<String>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = OrderStatusChange)]
pub struct StatusChange {
    pub status: OrderStatus,
    #[serde(default)]
    pub note: Option<String>,
    /// With `SHIPPED`.
    #[serde(default)]
    pub tracking_number: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelRequest {
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// Staff and admins: one merchant's orders.
    pub merchant_id: Option<Uuid>,
    pub status: Option<OrderStatus>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct InvoiceQuery {
    /// `html` (default) or `pdf`; `Accept: application/pdf` also selects PDF.
    pub format: Option<String>,
}

/// What a payment for a group must collect, and for which orders (internal, for payments).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Payable {
    pub group_id: Uuid,
    pub group_number: String,
    pub customer_id: Uuid,
    pub currency: Currency,
    /// Sum of `orders`.
    pub amount: i64,
    /// The orders still awaiting payment, with their totals.
    pub orders: Vec<PayableOrder>,
    pub expires_at: Timestamp,
    pub paid: bool,
}

/// Who an order is between (internal: for chat to check what a conversation is about).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderParties {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub merchant_id: Uuid,
}

/// Typed client of orders, used by payments, flash sales and chat.
#[derive(Clone)]
pub struct OrdersClient {
    services: Services,
    caller: &'static str,
}

impl OrdersClient {
    pub fn new(services: Services, caller: &'static str) -> Self {
        Self { services, caller }
    }

    /// The customer and merchant of an order (`order_not_found` when there is none).
    pub async fn parties(&self, order_id: Uuid) -> Result<OrderParties, CallError> {
        self.services
            .call::<(), _>(
                self.caller,
                Method::GET,
                &format!("/internal/v1/orders/{order_id}/parties"),
                None,
            )
            .await
    }

    pub async fn payable(&self, group_id: Uuid) -> Result<Payable, CallError> {
        self.services
            .call::<(), _>(
                self.caller,
                Method::GET,
                &format!("/internal/v1/orders/groups/{group_id}/payable"),
                None,
            )
            .await
    }
}

// ---- events ----

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderFactLine {
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub product_type: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub line_total: i64,
    /// Taken off the line by promotions (so the customer paid `lineTotal - discount`).
    #[serde(default)]
    pub discount: i64,
    /// The platform-funded part of `discount`; the rest is the merchant's.
    #[serde(default)]
    pub platform_discount: i64,
    pub commission: i64,
}

/// An order as its events carry it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderFact {
    pub order_id: Uuid,
    pub group_id: Uuid,
    pub number: String,
    pub merchant_id: Uuid,
    pub customer_id: Uuid,
    pub status: OrderStatus,
    pub previous_status: Option<OrderStatus>,
    pub currency: Currency,
    pub total: i64,
    pub commission: i64,
    /// Refunded so far.
    #[serde(default)]
    pub refunded: i64,
    pub digital_only: bool,
    pub payment_id: Option<Uuid>,
    pub tracking_number: Option<String>,
    pub reason: Option<String>,
    pub lines: Vec<OrderFactLine>,
    /// The option picked and the address, for an order that ships.
    #[serde(default)]
    pub shipping: Option<OrderShipping>,
}

/// How a physical order travels: the option the customer picked (re-quoted by the server at
/// checkout) and a copy of the address it goes to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderShipping {
    pub option: ShippingOption,
    pub address: ShippingAddress,
    /// Taken off `option.amount` by free-shipping promotions (counted in the order's
    /// `discount`).
    pub discount: i64,
    /// The platform-funded part of `discount`: the merchant is paid the full charge.
    #[serde(default)]
    pub platform_discount: i64,
}

macro_rules! order_event {
    ($name:ident, $type:literal) => {
        #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub OrderFact);

        impl DomainEvent for $name {
            const TYPE: &'static str = $type;
            fn aggregate_id(&self) -> String {
                self.0.order_id.to_string()
            }
        }
    };
}

order_event!(OrderCreated, "order.created");
order_event!(OrderPaid, "order.paid");
order_event!(OrderCancelled, "order.cancelled");
order_event!(OrderExpired, "order.expired");
order_event!(OrderProcessing, "order.processing");
order_event!(OrderShipped, "order.shipped");
order_event!(OrderDelivered, "order.delivered");
order_event!(OrderCompleted, "order.completed");
order_event!(OrderReturned, "order.returned");
order_event!(OrderRefunded, "order.refunded");

/// A checkout created its order group. Cart removes the ordered lines when they came from
/// the customer's cart.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutCompleted {
    pub group_id: Uuid,
    pub customer_id: Uuid,
    pub from_cart: bool,
    pub lines: Vec<CheckoutLine>,
    /// The cart lines ordered, with their ids, when `from_cart`: cart removes exactly those.
    #[serde(default)]
    pub cart_lines: Vec<cart_contract::CartContentLine>,
    /// The cart's coupon codes the checkout used: cart drops them.
    #[serde(default)]
    pub coupon_codes: Vec<String>,
}

impl DomainEvent for CheckoutCompleted {
    const TYPE: &'static str = "checkout.completed";
    fn aggregate_id(&self) -> String {
        self.group_id.to_string()
    }
}

/// Money must go back to the customer: an order cancelled or returned after payment, a payment
/// that arrived after its order expired, or a second payment of one group. Payments refunds.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct RefundRequested(pub RequestedRefund);

impl DomainEvent for RefundRequested {
    const TYPE: &'static str = "order.refund_requested";
    fn aggregate_id(&self) -> String {
        self.0.payment_id.to_string()
    }
}

/// Every event orders publishes, for the event catalogue.
pub fn events() -> Vec<kernel::EventSpec> {
    vec![
        kernel::EventSpec::of::<CheckoutCompleted>(),
        kernel::EventSpec::of::<RefundRequested>(),
        kernel::EventSpec::of::<OrderCreated>(),
        kernel::EventSpec::of::<OrderPaid>(),
        kernel::EventSpec::of::<OrderCancelled>(),
        kernel::EventSpec::of::<OrderExpired>(),
        kernel::EventSpec::of::<OrderProcessing>(),
        kernel::EventSpec::of::<OrderShipped>(),
        kernel::EventSpec::of::<OrderDelivered>(),
        kernel::EventSpec::of::<OrderCompleted>(),
        kernel::EventSpec::of::<OrderReturned>(),
        kernel::EventSpec::of::<OrderRefunded>(),
    ]
}
