//! What search indexes of a product: its texts, taxonomy names and visibility, read in pages.

use kernel::call::{CallError, Method};
use kernel::{Currency, LocalizedText, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::ProductType;

/// Which products to read: the given ids, or a page in id order (optionally one merchant's).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListingQuery {
    /// At most 200; when given, the other fields are ignored.
    #[serde(default)]
    pub product_ids: Vec<Uuid>,
    #[serde(default)]
    pub merchant_id: Option<Uuid>,
    /// Products with ids after this one.
    #[serde(default)]
    pub after: Option<Uuid>,
    /// At most 1000 (default 500).
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamedRef {
    pub id: Uuid,
    pub name: LocalizedText,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListingVariant {
    pub variant_id: Uuid,
    pub sku: String,
    pub price: i64,
}

/// A product that is not deleted, public or not (`listed` says whether the public sees it).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Listing {
    pub product_id: Uuid,
    pub merchant_id: Uuid,
    pub merchant_name: Option<String>,
    pub listed: bool,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    pub slug: String,
    pub name: LocalizedText,
    pub description: Option<LocalizedText>,
    /// From the root down to the product's category.
    pub categories: Vec<NamedRef>,
    pub brand_id: Option<Uuid>,
    pub brand_name: Option<String>,
    #[schema(value_type = Object)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub currency: Option<Currency>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub rating_average: Option<f64>,
    pub rating_count: i32,
    pub variants: Vec<ListingVariant>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListingPage {
    pub listings: Vec<Listing>,
    /// Asked ids that are unknown or deleted.
    #[serde(default)]
    pub missing: Vec<Uuid>,
    /// The `after` of the next page; None at the end.
    pub next: Option<Uuid>,
}

impl crate::CatalogClient {
    /// Products as search indexes them.
    pub async fn listings(&self, query: &ListingQuery) -> Result<ListingPage, CallError> {
        self.services
            .call(
                self.caller,
                Method::POST,
                "/internal/v1/catalog/listings",
                Some(query),
            )
            .await
    }
}
