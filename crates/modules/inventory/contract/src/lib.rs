//! inventory's public face: stock views, adjustments, reservations and the typed client
//! checkout reserves through.

mod errors;
pub use errors::InventoryCode;

mod states;
pub use states::*;

use kernel::call::Method;
use kernel::call::{CallError, Services};
use kernel::{DomainEvent, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocationStock {
    /// The merchant's id for its main location, else an outlet id.
    pub location_id: Uuid,
    pub name: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StockLevel {
    pub merchant_id: Uuid,
    pub sku: String,
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    pub low_stock_threshold: i64,
    /// Available is under the threshold.
    pub low: bool,
    pub locations: Vec<LocationStock>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct MerchantScope {
    /// Which merchant's SKU; optional for staff of exactly one merchant.
    pub merchant_id: Option<Uuid>,
}

/// A stock change by merchant staff: set `onHand`, or adjust it by `delta`, at a location.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StockChange {
    #[serde(default)]
    pub merchant_id: Option<Uuid>,
    /// Defaults to the merchant's main location.
    #[serde(default)]
    pub location_id: Option<Uuid>,
    #[serde(default)]
    pub on_hand: Option<i64>,
    #[serde(default)]
    pub delta: Option<i64>,
    #[serde(default)]
    pub low_stock_threshold: Option<i64>,
    /// Why (recorded in the movement ledger).
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Movement {
    pub id: Uuid,
    pub location_id: Uuid,
    pub kind: MovementKind,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub on_hand_after: i64,
    pub reserved_after: i64,
    pub reason: Option<String>,
    pub reference: Option<String>,
    pub actor_id: Option<Uuid>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReserveLine {
    pub merchant_id: Uuid,
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReserveRequest {
    /// Chosen by the caller: retries with the same id and lines return the same reservation.
    pub reservation_id: Uuid,
    /// The caller's reference, e.g. an order group id.
    #[serde(default)]
    pub reference: Option<String>,
    pub lines: Vec<ReserveLine>,
    /// Defaults to `inventory.reservation_ttl_secs` (15 minutes).
    #[serde(default)]
    pub ttl_seconds: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReservedLine {
    pub merchant_id: Uuid,
    pub sku: String,
    pub location_id: Uuid,
    pub quantity: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reservation {
    pub id: Uuid,
    pub reference: Option<String>,
    pub status: ReservationStatus,
    pub expires_at: Timestamp,
    pub lines: Vec<ReservedLine>,
}

/// A SKU under its low-stock threshold.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LowStockAlert {
    pub merchant_id: Uuid,
    pub sku: String,
    pub available: i64,
    pub low_stock_threshold: i64,
}

/// One SKU a reservation could not get (in the 409 problem's `shortages`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Shortage {
    pub merchant_id: Uuid,
    pub sku: String,
    pub requested: i64,
    /// The most any one location could give.
    pub available: i64,
}

/// A SKU of a merchant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkuRef {
    pub merchant_id: Uuid,
    pub sku: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AvailabilityQuery {
    pub items: Vec<SkuRef>,
}

/// What one line of a SKU could get now.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    pub merchant_id: Uuid,
    pub sku: String,
    /// Whether inventory knows the SKU.
    pub known: bool,
    /// The most one location can give (a reservation takes a line from one location).
    pub available: i64,
}

/// Typed client of inventory, used by checkout.
#[derive(Clone)]
pub struct InventoryClient {
    services: Services,
    caller: &'static str,
}

impl InventoryClient {
    pub fn new(services: Services, caller: &'static str) -> Self {
        Self { services, caller }
    }

    /// Reserves every line or nothing (409 `insufficient_stock` with `shortages`).
    pub async fn reserve(&self, request: &ReserveRequest) -> Result<Reservation, CallError> {
        self.services
            .call(
                self.caller,
                Method::POST,
                "/internal/v1/inventory/reservations",
                Some(request),
            )
            .await
    }

    /// What each SKU could give one line now (at most 200 SKUs).
    pub async fn availability(&self, items: Vec<SkuRef>) -> Result<Vec<Availability>, CallError> {
        self.services
            .call(
                self.caller,
                Method::POST,
                "/internal/v1/inventory/availability",
                Some(&AvailabilityQuery { items }),
            )
            .await
    }

    async fn step(&self, id: Uuid, step: &str) -> Result<Reservation, CallError> {
        self.services
            .call::<(), _>(
                self.caller,
                Method::POST,
                &format!("/internal/v1/inventory/reservations/{id}/{step}"),
                None,
            )
            .await
    }

    /// The reserved units are sold: on hand and reserved both go down.
    pub async fn confirm(&self, id: Uuid) -> Result<Reservation, CallError> {
        self.step(id, "confirm").await
    }

    /// The reserved units go back to available.
    pub async fn release(&self, id: Uuid) -> Result<Reservation, CallError> {
        self.step(id, "release").await
    }

    /// Sold units come back (a cancelled paid order, a return).
    pub async fn return_stock(&self, id: Uuid) -> Result<Reservation, CallError> {
        self.step(id, "return").await
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InventoryLow {
    pub merchant_id: Uuid,
    pub sku: String,
    pub variant_id: Uuid,
    pub available: i64,
    pub threshold: i64,
}

impl DomainEvent for InventoryLow {
    const TYPE: &'static str = "inventory.low";
    fn aggregate_id(&self) -> String {
        format!("{}:{}", self.merchant_id, self.sku)
    }
}

/// A SKU sold out (nothing available anywhere) or came back in stock.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StockChanged {
    pub merchant_id: Uuid,
    pub sku: String,
    pub variant_id: Uuid,
    pub in_stock: bool,
}

impl DomainEvent for StockChanged {
    const TYPE: &'static str = "inventory.stock_changed";
    fn aggregate_id(&self) -> String {
        format!("{}:{}", self.merchant_id, self.sku)
    }
}

/// Every event inventory publishes, for the event catalogue.
pub fn events() -> Vec<kernel::EventSpec> {
    vec![
        kernel::EventSpec::of::<InventoryLow>(),
        kernel::EventSpec::of::<StockChanged>(),
    ]
}
