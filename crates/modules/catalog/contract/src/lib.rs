//! catalog's public face: request and response bodies, events, and the typed client checkout
//! uses to price lines.

mod errors;
pub use errors::CatalogCode;

mod states;
pub use states::*;

mod listings;
pub use listings::*;

use std::collections::BTreeMap;

use kernel::call::Method;
use kernel::call::{CallError, Services};
use kernel::{Currency, DomainEvent, LocalizedText, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CategoryInput {
    pub slug: String,
    #[serde(default)]
    pub parent_id: Option<Uuid>,
    pub name: LocalizedText,
    #[serde(default)]
    pub sort_order: i32,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CategoryUpdate {
    pub name: Option<LocalizedText>,
    pub sort_order: Option<i32>,
    /// Move the category (with its subtree) under another parent; `null` makes it a root.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<Option<Uuid>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub slug: String,
    /// Ids from the root down to this category.
    pub path: Vec<Uuid>,
    pub level: i32,
    pub sort_order: i32,
    pub name: LocalizedText,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct CategoryQuery {
    /// Every category (ordered as a tree) instead of the roots only.
    pub all: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BrandInput {
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Brand {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttributeInput {
    /// The key products use in `attributes`, e.g. `material`.
    pub code: String,
    pub name: LocalizedText,
    pub kind: AttributeKind,
    /// Allowed values of a SELECT attribute.
    #[serde(default)]
    pub options: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Attribute {
    pub id: Uuid,
    pub code: String,
    pub name: LocalizedText,
    pub kind: AttributeKind,
    pub options: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Dimensions {
    pub length_mm: i32,
    pub width_mm: i32,
    pub height_mm: i32,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VariantInput {
    /// Unique within the merchant; fixed once created.
    pub sku: String,
    /// Option values, e.g. `{"size": "M", "colour": "red"}`.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// Minor units (cents for USD; whole riel and rupiah).
    pub price: i64,
    #[serde(default)]
    pub compare_at_price: Option<i64>,
    pub currency: Currency,
    #[serde(default)]
    pub position: Option<i32>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VariantUpdate {
    pub options: Option<BTreeMap<String, String>>,
    pub price: Option<i64>,
    /// Set a compare-at price; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub compare_at_price: Option<Option<i64>>,
    pub position: Option<i32>,
}

/// Distinguishes an explicit `null` (Some(None)) from an absent field (None).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Variant {
    pub id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub options: BTreeMap<String, String>,
    pub price: i64,
    pub compare_at_price: Option<i64>,
    pub currency: Currency,
    pub position: i32,
}

/// A new product. Status, ratings and moderation fields are not inputs.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductInput {
    /// The merchant the product is listed by; the caller must be its staff.
    pub merchant_id: Uuid,
    pub name: LocalizedText,
    #[serde(default)]
    pub description: Option<LocalizedText>,
    /// Derived from the English name when absent.
    #[serde(default)]
    pub slug: Option<String>,
    pub category_id: Uuid,
    #[serde(default)]
    pub brand_id: Option<Uuid>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    #[serde(default)]
    pub weight_grams: Option<i32>,
    #[serde(default)]
    pub dimensions: Option<Dimensions>,
    #[serde(default)]
    pub variants: Vec<VariantInput>,
}

/// Changes by the merchant; absent fields stay. The merchant and type cannot change.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductUpdate {
    pub name: Option<LocalizedText>,
    pub description: Option<LocalizedText>,
    pub slug: Option<String>,
    pub category_id: Option<Uuid>,
    pub brand_id: Option<Uuid>,
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
    pub weight_grams: Option<i32>,
    pub dimensions: Option<Dimensions>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ProductStatusChange)]
pub struct StatusChange {
    pub status: ProductStatus,
    /// Required when rejecting.
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PriceRange {
    pub currency: Currency,
    pub min: i64,
    pub max: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rating {
    pub average: Option<f64>,
    pub count: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductSummary {
    pub id: Uuid,
    pub merchant_id: Uuid,
    pub merchant_name: Option<String>,
    pub slug: String,
    pub name: LocalizedText,
    pub category_id: Uuid,
    pub brand_id: Option<Uuid>,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    pub status: ProductStatus,
    pub price: Option<PriceRange>,
    pub rating: Rating,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductDetail {
    pub id: Uuid,
    pub merchant_id: Uuid,
    pub merchant_name: Option<String>,
    pub slug: String,
    pub name: LocalizedText,
    pub description: Option<LocalizedText>,
    pub category_id: Uuid,
    pub brand_id: Option<Uuid>,
    #[schema(value_type = Object)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    pub weight_grams: Option<i32>,
    pub dimensions: Option<Dimensions>,
    pub status: ProductStatus,
    /// Why moderation rejected it (shown to the merchant and admins only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    pub price: Option<PriceRange>,
    pub rating: Rating,
    pub variants: Vec<Variant>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    /// This category and all its descendants.
    pub category_id: Option<Uuid>,
    pub merchant_id: Option<Uuid>,
    pub brand_id: Option<Uuid>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub product_type: Option<ProductType>,
    pub currency: Option<Currency>,
    /// Lowest price, minor units (compared with the product's lowest variant price).
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// Merchant staff (with `merchantId`) and admins: a status other than ACTIVE.
    pub status: Option<ProductStatus>,
    #[param(inline)]
    pub sort: Option<SortOrder>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Product lookup for checkout: current price and sellability of variants.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariantLookup {
    pub variant_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariantQuote {
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub merchant_id: Uuid,
    pub sku: String,
    pub product_name: LocalizedText,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    pub price: i64,
    pub currency: Currency,
    /// Ids from the category of the product up to its root (leaf first), for commission.
    pub category_path: Vec<Uuid>,
    /// The product's brand, for promotions that target brands.
    #[serde(default)]
    pub brand_id: Option<Uuid>,
    /// Whether the public may buy it now (product ACTIVE, merchant ACTIVE, not deleted).
    pub sellable: bool,
    /// The product's shipping weight, when the merchant gave one (shipping quotes by it).
    #[serde(default)]
    pub weight_grams: Option<i32>,
    /// The product's packed dimensions, when given (for volumetric weight).
    #[serde(default)]
    pub dimensions: Option<Dimensions>,
}

/// Which of these ids catalog knows, and whose the products are (promotions checks the items
/// its rules name on write).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReferenceLookup {
    #[serde(default)]
    pub category_ids: Vec<Uuid>,
    #[serde(default)]
    pub brand_ids: Vec<Uuid>,
    #[serde(default)]
    pub product_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct References {
    pub unknown_category_ids: Vec<Uuid>,
    pub unknown_brand_ids: Vec<Uuid>,
    pub unknown_product_ids: Vec<Uuid>,
    /// The merchant of each known product.
    pub product_merchants: Vec<ProductMerchant>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductMerchant {
    pub product_id: Uuid,
    pub merchant_id: Uuid,
}

/// Typed client of catalog for other modules.
#[derive(Clone)]
pub struct CatalogClient {
    services: Services,
    caller: &'static str,
}

impl CatalogClient {
    pub fn new(services: Services, caller: &'static str) -> Self {
        Self { services, caller }
    }

    /// Current quotes of the given variants; unknown or deleted ids are absent.
    pub async fn variants(&self, variant_ids: Vec<Uuid>) -> Result<Vec<VariantQuote>, CallError> {
        self.services
            .call(
                self.caller,
                Method::POST,
                "/internal/v1/catalog/variants",
                Some(&VariantLookup { variant_ids }),
            )
            .await
    }

    /// Which categories, brands and products exist (deleted ones do not).
    pub async fn references(&self, lookup: &ReferenceLookup) -> Result<References, CallError> {
        self.services
            .call(
                self.caller,
                Method::POST,
                "/internal/v1/catalog/references",
                Some(lookup),
            )
            .await
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariantRef {
    pub variant_id: Uuid,
    pub sku: String,
}

/// Payload of `product.created` and `product.updated`: enough for inventory to know the SKUs.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductFact {
    pub product_id: Uuid,
    pub merchant_id: Uuid,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    pub status: ProductStatus,
    pub variants: Vec<VariantRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct ProductCreated(pub ProductFact);

impl DomainEvent for ProductCreated {
    const TYPE: &'static str = "product.created";
    fn aggregate_id(&self) -> String {
        self.0.product_id.to_string()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct ProductUpdated(pub ProductFact);

impl DomainEvent for ProductUpdated {
    const TYPE: &'static str = "product.updated";
    fn aggregate_id(&self) -> String {
        self.0.product_id.to_string()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductStatusChanged {
    pub product_id: Uuid,
    pub merchant_id: Uuid,
    pub from: ProductStatus,
    pub to: ProductStatus,
    pub reason: Option<String>,
    pub by: Uuid,
}

impl DomainEvent for ProductStatusChanged {
    const TYPE: &'static str = "product.status_changed";
    fn aggregate_id(&self) -> String {
        self.product_id.to_string()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductDeleted {
    pub product_id: Uuid,
    pub merchant_id: Uuid,
    pub by: Uuid,
}

impl DomainEvent for ProductDeleted {
    const TYPE: &'static str = "product.deleted";
    fn aggregate_id(&self) -> String {
        self.product_id.to_string()
    }
}

/// A merchant's status or name changed and catalog re-derived which of its products are
/// listed (published in that transaction).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MerchantListingsChanged {
    pub merchant_id: Uuid,
}

impl DomainEvent for MerchantListingsChanged {
    const TYPE: &'static str = "catalog.merchant_listings_changed";
    fn aggregate_id(&self) -> String {
        self.merchant_id.to_string()
    }
}

/// Every event catalog publishes, for the event catalogue.
pub fn events() -> Vec<kernel::EventSpec> {
    vec![
        kernel::EventSpec::of::<MerchantListingsChanged>(),
        kernel::EventSpec::of::<ProductCreated>(),
        kernel::EventSpec::of::<ProductUpdated>(),
        kernel::EventSpec::of::<ProductStatusChanged>(),
        kernel::EventSpec::of::<ProductDeleted>(),
    ]
}
