//! shipping's public face: couriers and their services, rate quotes, the shipping line and
//! address an order keeps, shipments with their tracking, the events, and the typed client
//! orders and cart quote through.

mod errors;
pub use errors::ShippingCode;

mod rates;
pub use rates::*;

mod shipments;
pub use shipments::*;

mod states;
pub use states::*;

use kernel::call::{CallError, Method, Services};
use kernel::Currency;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Where a parcel goes: a saved address as it was when the order was placed (the order keeps
/// this copy, so editing or deleting the address later changes no order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingAddress {
    pub recipient: String,
    pub phone: String,
    pub street: String,
    pub city: String,
    pub province: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl From<identity_contract::AddressView> for ShippingAddress {
    fn from(address: identity_contract::AddressView) -> Self {
        Self {
            recipient: address.recipient,
            phone: address.phone,
            street: address.street,
            city: address.city,
            province: address.province,
            postal_code: address.postal_code,
            country: address.country,
            latitude: address.latitude,
            longitude: address.longitude,
        }
    }
}

/// Parcels (merchants) one quote takes at most: a checkout or cart with more merchants that
/// ship is refused before it is quoted.
pub const MAX_PARCELS_PER_QUOTE: usize = 20;

/// One item of a merchant's parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParcelItem {
    pub variant_id: Uuid,
    pub quantity: i64,
}

/// The physical items one merchant ships (one order of a checkout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MerchantParcel {
    pub merchant_id: Uuid,
    pub items: Vec<ParcelItem>,
}

/// What orders and cart ask shipping to quote (internal): the destination as an address, the
/// parcels per merchant, and the currency the rates must be in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateQuery {
    pub currency: Currency,
    pub destination: ShippingAddress,
    pub parcels: Vec<MerchantParcel>,
}

/// One way one merchant's parcel can travel, with its price. `courierCode` + `serviceCode`
/// name it when the customer picks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingOption {
    pub courier_code: String,
    pub courier_name: String,
    /// `REGULAR`, `EXPRESS` or `SAME_DAY`.
    pub service_code: String,
    pub service_name: String,
    /// In the query's currency, minor units.
    pub amount: i64,
    /// The weight charged: the greater of the actual and the volumetric weight, in grams.
    pub chargeable_weight_grams: i64,
    pub eta_min_days: i32,
    pub eta_max_days: i32,
    /// Cash on delivery offered.
    pub cod: bool,
}

/// The options for one merchant's parcel, cheapest first; empty with a reason when none of
/// the merchant's couriers reaches the destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MerchantRates {
    pub merchant_id: Uuid,
    pub options: Vec<ShippingOption>,
    /// Why `options` is empty (e.g. `NO_COURIER_FOR_DESTINATION`).
    pub unavailable_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateQuote {
    pub currency: Currency,
    pub merchants: Vec<MerchantRates>,
}

/// The customer's pick for one merchant's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShippingChoice {
    pub merchant_id: Uuid,
    pub courier_code: String,
    pub service_code: String,
}

/// Typed client of shipping, used by orders (checkout re-quotes server-side) and cart (the
/// summary's shipping totals).
#[derive(Clone)]
pub struct ShippingClient {
    services: Services,
    caller: &'static str,
}

impl ShippingClient {
    pub fn new(services: Services, caller: &'static str) -> Self {
        Self { services, caller }
    }

    /// `POST /internal/v1/shipping/rates`.
    pub async fn rates(&self, query: &RateQuery) -> Result<RateQuote, CallError> {
        self.services
            .call(
                self.caller,
                Method::POST,
                "/internal/v1/shipping/rates",
                Some(query),
            )
            .await
    }
}

/// Every event shipping publishes, for the event catalogue.
pub fn events() -> Vec<kernel::EventSpec> {
    vec![
        kernel::EventSpec::of::<ShipmentCreated>(),
        kernel::EventSpec::of::<ShipmentUpdated>(),
        kernel::EventSpec::of::<ShipmentDelivered>(),
    ]
}
