//! flash sales' public face: sales and their items, what is left of them, and the gate
//! checkout takes sale units through before any other work.

mod errors;
pub use errors::FlashSalesCode;

use kernel::call::{CallError, Method, Services};
use kernel::{Currency, LocalizedText, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Where a sale is in its life. Only an early end is stored: the rest follows from the clock
/// and the items' counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FlashSaleStatus {
    /// Before its start.
    Scheduled,
    /// Between start and end, with units left.
    Live,
    /// Between start and end, every item's allotment taken (units may come back).
    SoldOut,
    /// Past its end, or ended early by its manager.
    Ended,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlashSaleItemInput {
    pub variant_id: Uuid,
    /// Minor units of the variant's currency, below its list price.
    pub sale_price: i64,
    /// Units for sale at `salePrice`.
    pub allotment: i64,
    /// Units one customer may hold or buy at once.
    pub per_customer_limit: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlashSaleInput {
    pub title: LocalizedText,
    /// The merchant whose variants are on sale; absent: a platform sale (admins), which may
    /// hold any merchant's variants.
    #[serde(default)]
    pub merchant_id: Option<Uuid>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    /// The platform funds the price cut (admins only): the merchant is paid the list price.
    /// Otherwise the merchant sells for the sale price.
    #[serde(default)]
    pub platform_funded: bool,
    pub items: Vec<FlashSaleItemInput>,
}

/// A change to a sale: before its start, anything (`sale` whole); after it, only `endsAt`
/// brought forward, to end it early.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlashSaleUpdate {
    #[serde(default)]
    pub title: Option<LocalizedText>,
    #[serde(default)]
    pub starts_at: Option<Timestamp>,
    #[serde(default)]
    pub ends_at: Option<Timestamp>,
    #[serde(default)]
    pub platform_funded: Option<bool>,
    #[serde(default)]
    pub items: Option<Vec<FlashSaleItemInput>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlashSaleItem {
    pub id: Uuid,
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub merchant_id: Uuid,
    pub currency: Currency,
    /// The variant's price when the sale was set up.
    pub list_price: i64,
    pub sale_price: i64,
    pub allotment: i64,
    pub per_customer_limit: i64,
    /// Units left: the allotment less what checkouts hold and what was sold.
    pub remaining: i64,
    pub sold: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlashSale {
    pub id: Uuid,
    pub merchant_id: Option<Uuid>,
    pub title: LocalizedText,
    pub status: FlashSaleStatus,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    /// Seconds until the start (SCHEDULED) or the end (LIVE, SOLD_OUT), for countdowns.
    pub seconds_left: Option<i64>,
    pub platform_funded: bool,
    pub items: Vec<FlashSaleItem>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct FlashSaleQuery {
    /// `LIVE`, `SCHEDULED`, ... (the public list: live and upcoming when absent).
    pub status: Option<FlashSaleStatus>,
    /// One merchant's sales, all statuses, for its managers (admins: any).
    pub merchant_id: Option<Uuid>,
    /// Managers' view: every sale they manage, ended ones included.
    #[serde(default)]
    pub managed: bool,
}

/// What is left of a sale now, per item, with the server's clock for countdowns.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlashSaleAvailability {
    pub flash_sale_id: Uuid,
    pub status: FlashSaleStatus,
    pub server_time: Timestamp,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub seconds_left: Option<i64>,
    pub items: Vec<FlashSaleItemAvailability>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlashSaleItemAvailability {
    pub item_id: Uuid,
    pub variant_id: Uuid,
    pub sale_price: i64,
    pub allotment: i64,
    pub remaining: i64,
    pub per_customer_limit: i64,
}

// ---- the gate, for cart and checkout ----

/// A variant's live sale price, as cart and checkout price it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LivePrice {
    pub variant_id: Uuid,
    pub flash_sale_id: Uuid,
    pub item_id: Uuid,
    pub title: LocalizedText,
    pub sale_price: i64,
    /// The variant's price when the sale was set up: the platform funds at most the cut from
    /// it, whatever the price is later.
    pub list_price: i64,
    pub platform_funded: bool,
    pub per_customer_limit: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LivePricesRequest {
    pub variant_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TakeLine {
    pub variant_id: Uuid,
    pub quantity: i64,
}

/// Checkout's first step: the sale units of its lines, all or none.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TakeRequest {
    pub group_id: Uuid,
    pub customer_id: Uuid,
    pub lines: Vec<TakeLine>,
}

/// The lines of a take that are on sale, at their sale price (lines not on sale are absent).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Taken {
    pub group_id: Uuid,
    pub prices: Vec<LivePrice>,
}

/// Units given back to their allotments.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Released {
    pub group_id: Uuid,
    pub units: i64,
}

// ---- typed client ----

/// Typed client of flash sales, used by cart and orders.
#[derive(Clone)]
pub struct FlashSalesClient {
    services: Services,
    caller: &'static str,
}

impl FlashSalesClient {
    pub fn new(services: Services, caller: &'static str) -> Self {
        Self { services, caller }
    }

    /// The live sale prices of these variants (those not on sale are absent).
    pub async fn live_prices(&self, variant_ids: Vec<Uuid>) -> Result<Vec<LivePrice>, CallError> {
        self.services
            .call(
                self.caller,
                Method::POST,
                "/internal/v1/flashsales/prices",
                Some(&LivePricesRequest { variant_ids }),
            )
            .await
    }

    /// Takes the sale units of a checkout's lines (`sold_out`, `flash_sale_limit`,
    /// `flash_sale_busy` when it cannot); idempotent per group.
    pub async fn take(&self, request: &TakeRequest) -> Result<Taken, CallError> {
        self.services
            .call(
                self.caller,
                Method::POST,
                "/internal/v1/flashsales/holds",
                Some(request),
            )
            .await
    }

    /// Gives back what a checkout that did not complete took; idempotent.
    pub async fn release(&self, group_id: Uuid) -> Result<Released, CallError> {
        self.services
            .call::<(), _>(
                self.caller,
                Method::DELETE,
                &format!("/internal/v1/flashsales/holds/{group_id}"),
                None,
            )
            .await
    }
}

pub fn events() -> Vec<kernel::EventSpec> {
    Vec::new()
}
