//! Couriers, their rate tables, the merchants' choice of couriers, and the public quote request.

use kernel::{Currency, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{MerchantParcel, ServiceLevel, Zone};

/// Where a quote goes: rates depend on the country, province and city only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateDestination {
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub city: String,
    #[serde(default)]
    pub province: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
}

/// `POST /api/v1/shipping/rates`: where to (an address, or `addressId`, a saved address of the
/// signed-in customer) and what each merchant ships. Prices are never inputs: the quote is
/// computed from the couriers' rate tables and the catalog's weights.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateRequest {
    /// The currency of the rates; default: the currency the items are priced in.
    #[serde(default)]
    pub currency: Option<Currency>,
    #[serde(default)]
    pub destination: Option<RateDestination>,
    #[serde(default)]
    pub address_id: Option<Uuid>,
    pub parcels: Vec<MerchantParcel>,
}

/// `?country=` of the courier list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct CourierQuery {
    /// ISO 3166-1 alpha-2: the couriers serving this country only.
    pub country: Option<String>,
}

/// A service of a courier as the public list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CourierService {
    pub service: ServiceLevel,
    pub name: String,
    pub cod: bool,
    /// The zones it serves (`SAME_DAY`: the same city only).
    pub zones: Vec<Zone>,
    /// Fastest and slowest delivery over its zones, in days (0: the same day).
    pub eta_min_days: i32,
    pub eta_max_days: i32,
    pub max_weight_grams: i64,
}

/// A courier: the country it serves, the currency of its rates, its active services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Courier {
    /// `JNE`, `JNT`, `SICEPAT`, ... (`SIMULATOR`: the development courier).
    pub code: String,
    pub name: String,
    /// ISO 3166-1 alpha-2; absent for the simulator, which serves anywhere.
    pub country: Option<String>,
    /// The currency of its rates; absent for the simulator, which quotes in any.
    pub currency: Option<Currency>,
    /// Volumetric weight (g) = length × width × height (mm) ÷ this (the usual cm³/kg divisor).
    pub volumetric_divisor: i32,
    pub services: Vec<CourierService>,
}

/// One weight bracket: a parcel whose chargeable weight `w` has `fromGrams < w <= toGrams`
/// costs `amount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WeightBracket {
    pub from_grams: i64,
    pub to_grams: i64,
    /// In the courier's currency, minor units; positive.
    pub amount: i64,
}

/// What a service costs for one zone: brackets from 0 g without gaps or overlaps, and
/// optionally a price per started kilogram above the last bracket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ZoneRates {
    pub zone: Zone,
    pub eta_min_days: i32,
    pub eta_max_days: i32,
    pub brackets: Vec<WeightBracket>,
    /// Per started kilogram above the last bracket (up to the service's maximum); absent:
    /// heavier parcels are not carried in this zone.
    #[serde(default)]
    pub extra_per_kg: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceRates {
    pub service: ServiceLevel,
    /// What customers see, e.g. `JNE REG`.
    pub name: String,
    pub active: bool,
    /// Cash on delivery offered.
    pub cod: bool,
    /// The heaviest chargeable weight carried.
    pub max_weight_grams: i64,
    /// At most one row per zone; a zone without a row is not served.
    pub zones: Vec<ZoneRates>,
}

/// A courier's rate table, replaced as a whole by admins (`PUT`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateTable {
    /// An inactive courier is offered to no one.
    pub active: bool,
    pub volumetric_divisor: i32,
    pub services: Vec<ServiceRates>,
}

/// A courier with its full rate table (admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CourierRates {
    pub code: String,
    pub name: String,
    pub country: Option<String>,
    pub currency: Option<Currency>,
    /// Bumped by every replacement.
    pub version: i64,
    pub updated_at: Timestamp,
    pub table: RateTable,
}

/// The couriers a merchant ships with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MerchantCouriers {
    pub merchant_id: Uuid,
    /// The couriers offered for its parcels (active ones only).
    pub couriers: Vec<String>,
    /// False while the merchant has not chosen: every active courier of its country.
    pub chosen: bool,
    /// The couriers it may choose from: the active couriers of its country.
    pub available: Vec<String>,
}

/// The merchant's choice (replaces the previous one; `[]` ships with no courier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MerchantCouriersInput {
    pub couriers: Vec<String>,
}

/// Why a merchant's parcel has no options (`MerchantRates.unavailableReason`).
pub mod unavailable {
    /// The parcel holds no physical item (vouchers do not travel).
    pub const NOTHING_TO_SHIP: &str = "NOTHING_TO_SHIP";
    /// The merchant is unknown or not active.
    pub const MERCHANT_UNAVAILABLE: &str = "MERCHANT_UNAVAILABLE";
    /// The merchant ships with no active courier.
    pub const NO_COURIER_ENABLED: &str = "NO_COURIER_ENABLED";
    /// None of the merchant's couriers has rates in the query's currency.
    pub const CURRENCY_NOT_SERVED: &str = "CURRENCY_NOT_SERVED";
    /// None of the merchant's couriers serves the way from the merchant to the destination.
    pub const NO_COURIER_FOR_DESTINATION: &str = "NO_COURIER_FOR_DESTINATION";
    /// The parcel is heavier than every service that serves the destination carries.
    pub const TOO_HEAVY: &str = "TOO_HEAVY";
}
