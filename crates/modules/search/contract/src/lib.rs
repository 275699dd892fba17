//! search's public face: the query parameters, hits, facets and suggestions it answers with.

mod errors;
pub use errors::SearchCode;

use kernel::{Currency, LocalizedText, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// What a hit is: a physical product, or a voucher offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HitKind {
    Product,
    Voucher,
}

impl HitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HitKind::Product => "product",
            HitKind::Voucher => "voucher",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchSort {
    /// Best match first (newest first without `q`).
    #[default]
    Relevance,
    PriceAsc,
    PriceDesc,
    Newest,
    /// Highest average rating first.
    Rating,
    /// Most units sold first.
    BestSelling,
    /// Nearest first (needs `near`).
    Distance,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to look for, in English, Khmer or Indonesian; typos are forgiven. Empty: browse.
    pub q: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type", inline)]
    pub kind: Option<HitKind>,
    /// This category and all its descendants.
    pub category_id: Option<Uuid>,
    pub brand_id: Option<Uuid>,
    pub merchant_id: Option<Uuid>,
    /// With `minPrice`/`maxPrice`: prices are compared in this currency.
    pub currency: Option<Currency>,
    /// Minor units.
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// Average rating at least this (1 to 5).
    pub min_rating: Option<f64>,
    /// Only what can be bought now (stock left, voucher cap not reached).
    pub in_stock: Option<bool>,
    /// `latitude,longitude`: with `radiusKm`, only offers that near; needed by `sort=distance`.
    pub near: Option<String>,
    pub radius_km: Option<f64>,
    #[param(inline)]
    pub sort: Option<SearchSort>,
    /// Count facets over every hit (what a filter sidebar shows); off by default, since it
    /// costs more than the page itself.
    pub facets: Option<bool>,
    /// 1 to 50 (default 20).
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = HitLocation)]
pub struct GeoPoint {
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = SearchRating)]
pub struct HitRating {
    pub average: Option<f64>,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HitCategory {
    pub id: Uuid,
    pub name: LocalizedText,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    #[serde(rename = "type")]
    pub kind: HitKind,
    /// The product id, or the voucher offer id.
    pub id: Uuid,
    pub product_id: Uuid,
    pub merchant_id: Uuid,
    pub merchant_name: Option<String>,
    pub slug: String,
    pub name: LocalizedText,
    pub category_id: Uuid,
    /// From the root down to `categoryId` (a breadcrumb).
    pub categories: Vec<HitCategory>,
    pub brand_id: Option<Uuid>,
    pub brand_name: Option<String>,
    /// Lowest price, minor units.
    pub price: i64,
    pub max_price: i64,
    pub currency: Currency,
    pub rating: HitRating,
    pub sold: i64,
    pub in_stock: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoPoint>,
    /// Kilometres from `near`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    /// An offer's sale window (it is found only inside it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl SearchHit {
    /// Whether it may be found at `now` (epoch ms).
    pub fn on_sale_at(&self, now: i64) -> bool {
        self.valid_from.is_none_or(|f| f.millis() <= now)
            && self.valid_until.is_none_or(|u| u.millis() > now)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FacetValue {
    /// A category, brand or merchant id; `product`/`voucher` for types; `4` for "4 and up".
    pub value: String,
    pub label: Option<LocalizedText>,
    pub count: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Facets {
    /// Children of the filtered category (the roots without one).
    pub categories: Vec<FacetValue>,
    pub brands: Vec<FacetValue>,
    pub merchants: Vec<FacetValue>,
    pub types: Vec<FacetValue>,
    /// How many hits rate at least `value`.
    pub ratings: Vec<FacetValue>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchResults {
    pub items: Vec<SearchHit>,
    /// Every hit the filters allow, on all pages.
    pub total: u64,
    /// With `facets=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facets: Option<Facets>,
    pub next_cursor: Option<String>,
    /// Whether typo tolerance had to widen the words to find these.
    pub corrected: bool,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SuggestQuery {
    /// What was typed so far.
    pub q: String,
    /// 1 to 20 (default 8).
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SuggestionKind {
    Product,
    Voucher,
    Category,
    Brand,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    pub text: String,
    pub kind: SuggestionKind,
    /// The product, offer, category or brand it names.
    pub id: Uuid,
}

/// Groups of words that mean the same (`["hp", "handphone", "ponsel"]`): a query for one
/// finds the others too.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Synonyms {
    pub groups: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReindexReport {
    pub documents: u64,
    pub millis: u64,
}

/// Whether this instance is rebuilding its index, and how the last rebuild went.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReindexStatus {
    pub running: bool,
    pub last: Option<ReindexReport>,
    pub last_error: Option<String>,
}
