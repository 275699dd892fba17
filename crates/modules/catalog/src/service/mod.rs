//! catalog's use cases: the category tree, brands, attributes, products and variants, their
//! moderation, and the public reads (served from the read cache when possible).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use kernel::{
    Actor, ApiError, Currency, Cursor, FieldError, LocalizedText, MerchantPermission, Permission,
    Timestamp,
};
use platform::bus;
use platform::db::{is_unique_violation, Tx};
use platform::Context;
use uuid::Uuid;

use crate::api::*;
use crate::cache::ReadCache;
use crate::domain::{self, Mover, TransitionError};
use crate::store::{self, ProductRow, SummaryRow, VariantRow};

mod listings;
mod products;
mod reads;
mod taxonomy;

pub const SOURCE: &str = "catalog";

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("product not found")]
    NotFound,
    #[error("category not found")]
    CategoryNotFound,
    #[error("variant not found")]
    VariantNotFound,
    #[error("category has children or products")]
    CategoryInUse,
    #[error("{0} is taken")]
    Taken(&'static str),
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error("cannot move from {from:?} to {to:?}")]
    Transition {
        from: ProductStatus,
        to: ProductStatus,
        allowed: Vec<ProductStatus>,
    },
    #[error("product is archived")]
    Archived,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("events: {0}")]
    Bus(#[from] platform::bus::BusError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<CatalogError> for ApiError {
    fn from(err: CatalogError) -> Self {
        match err {
            CatalogError::Invalid(errors) => ApiError::validation(errors),
            CatalogError::NotFound => ApiError::not_found("product_not_found", "No such product"),
            CatalogError::CategoryNotFound => {
                ApiError::not_found("category_not_found", "No such category")
            }
            CatalogError::CategoryInUse => ApiError::conflict(
                "category_in_use",
                "The category still has subcategories or products",
            ),
            CatalogError::VariantNotFound => {
                ApiError::not_found("variant_not_found", "No such variant of this product")
            }
            CatalogError::Taken(what) => ApiError::conflict(
                match what {
                    "sku" => "sku_taken",
                    "code" => "code_taken",
                    _ => "slug_taken",
                },
                format!("This {what} is already in use"),
            ),
            CatalogError::Forbidden(detail) => ApiError::forbidden(detail),
            CatalogError::Transition { from, to, allowed } => ApiError::conflict(
                "invalid_transition",
                format!("A {} product cannot become {}", from.as_str(), to.as_str()),
            )
            .with_extension("currentStatus", serde_json::json!(from))
            .with_extension("allowedNextStates", serde_json::json!(allowed)),
            CatalogError::Archived => ApiError::conflict(
                "product_archived",
                "Archived products cannot be edited; move it back to DRAFT first",
            ),
            CatalogError::Database(_) | CatalogError::Bus(_) | CatalogError::Corrupt(_) => {
                tracing::error!(error = %err, "catalog failure");
                ApiError::internal()
            }
        }
    }
}

type Result<T> = std::result::Result<T, CatalogError>;

fn invalid(errors: Vec<FieldError>) -> CatalogError {
    CatalogError::Invalid(errors)
}

fn invalid_one(field: &str, message: &str) -> CatalogError {
    invalid(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    // Our own DTOs and JSON maps always serialize.
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| CatalogError::Corrupt(e.to_string()))
}

fn parse<T>(text: &str, f: fn(&str) -> Option<T>) -> Result<T> {
    f(text).ok_or_else(|| CatalogError::Corrupt(text.to_owned()))
}

fn path_ids(path: &str) -> Vec<Uuid> {
    path.split('/')
        .filter_map(|p| Uuid::parse_str(p).ok())
        .collect()
}

/// A rendered public read, or a value to render.
pub enum Read<T> {
    Cached(Bytes),
    Fresh(T),
}

/// Invalidation topic of the public read cache.
const CACHE_TOPIC: &str = "catalog";

pub struct Catalog {
    pub ctx: Context,
    pub cache: Arc<ReadCache>,
}

impl Catalog {
    pub fn new(ctx: Context) -> Arc<Self> {
        let config: crate::config::CatalogConfig = ctx.config.section_or_default();
        let cache = Arc::new(ReadCache::new(
            Duration::from_secs(config.read_cache_secs),
            config.read_cache_entries,
        ));
        // Other instances of catalog change products too (and only one of them handles each
        // merchant event): their changes clear this cache as well.
        let local = cache.clone();
        ctx.invalidations
            .subscribe(CACHE_TOPIC, move |_| local.invalidate());
        Arc::new(Self { ctx, cache })
    }

    /// Drops cached reads here and in every other process.
    pub fn invalidate(&self) {
        self.cache.invalidate();
        self.ctx.invalidations.publish(CACHE_TOPIC, "*");
    }

    async fn commit(&self, tx: Tx) -> Result<()> {
        self.ctx.commit(tx).await?;
        self.invalidate();
        Ok(())
    }
}
