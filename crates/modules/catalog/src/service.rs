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
use crate::store::{self, Arg, ListQuery, ProductRow, SummaryRow, VariantRow};

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

    // ---- categories, brands, attributes -------------------------------------------------

    fn category(row: store::CategoryRow) -> Result<Category> {
        Ok(Category {
            path: path_ids(&row.path),
            name: from_json(&row.name)?,
            id: row.id,
            parent_id: row.parent_id,
            slug: row.slug,
            level: row.level,
            sort_order: row.sort_order,
        })
    }

    pub async fn create_category(&self, input: CategoryInput) -> Result<Category> {
        let mut errors = Vec::new();
        if !domain::is_slug(&input.slug) {
            errors.push(FieldError {
                field: "slug".into(),
                message: "must be 1 to 80 lowercase letters, digits and inner hyphens".into(),
            });
        }
        input.name.check("name", true, 100, &mut errors);
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        let now = Timestamp::now();
        let id = kernel::new_id();
        let mut tx = self.ctx.db.begin().await?;
        let (path, level) = match input.parent_id {
            None => (format!("/{id}/"), 0),
            Some(parent) => {
                let parent = store::category_in(&mut tx, parent)
                    .await?
                    .ok_or_else(|| invalid_one("parentId", "no such category"))?;
                if parent.level >= 4 {
                    return Err(invalid_one("parentId", "categories nest at most 5 levels"));
                }
                (format!("{}{id}/", parent.path), parent.level + 1)
            }
        };
        let row = store::CategoryRow {
            id,
            parent_id: input.parent_id,
            slug: input.slug,
            path,
            level,
            sort_order: input.sort_order,
            name: to_json(&input.name),
        };
        if let Err(err) = store::insert_category(&mut tx, &row, now).await {
            return Err(if is_unique_violation(&err) {
                CatalogError::Taken("slug")
            } else {
                err.into()
            });
        }
        self.commit(tx).await?;
        Self::category(row)
    }

    pub async fn update_category(&self, id: Uuid, update: CategoryUpdate) -> Result<Category> {
        let mut errors = Vec::new();
        if let Some(name) = &update.name {
            name.check("name", true, 100, &mut errors);
        }
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        let mut tx = self.ctx.db.begin().await?;
        let mut row = store::category_in(&mut tx, id)
            .await?
            .ok_or(CatalogError::CategoryNotFound)?;
        if let Some(name) = &update.name {
            row.name = to_json(name);
        }
        if let Some(order) = update.sort_order {
            row.sort_order = order;
        }
        let now = Timestamp::now();
        store::update_category(&mut tx, &row, now).await?;
        if let Some(parent_id) = update.parent_id.filter(|p| *p != row.parent_id) {
            let (parent_path, parent_level) = match parent_id {
                None => (String::from("/"), -1),
                Some(parent_id) => {
                    let parent = store::category_in(&mut tx, parent_id)
                        .await?
                        .ok_or_else(|| invalid_one("parentId", "no such category"))?;
                    if parent.path.starts_with(&row.path) {
                        return Err(invalid_one(
                            "parentId",
                            "cannot move a category under itself",
                        ));
                    }
                    (parent.path, parent.level)
                }
            };
            let level_delta = parent_level + 1 - row.level;
            let deepest = store::subtree_depth(&mut tx, &row.path).await?;
            if deepest + level_delta > 4 {
                return Err(invalid_one("parentId", "categories nest at most 5 levels"));
            }
            let new_path = format!("{parent_path}{id}/");
            store::move_category(
                &mut tx,
                id,
                parent_id,
                &row.path,
                &new_path,
                level_delta,
                now,
            )
            .await?;
            row = store::category_in(&mut tx, id)
                .await?
                .ok_or(CatalogError::CategoryNotFound)?;
        }
        self.commit(tx).await?;
        Self::category(row)
    }

    /// Deletes a category without children or products (deleted products still count: they
    /// keep their category for the record).
    pub async fn delete_category(&self, id: Uuid) -> Result<()> {
        let mut tx = self.ctx.db.begin().await?;
        store::category_in(&mut tx, id)
            .await?
            .ok_or(CatalogError::CategoryNotFound)?;
        match store::delete_category(&mut tx, id).await {
            Ok(true) => {}
            Ok(false) => return Err(CatalogError::CategoryInUse),
            Err(err)
                if err
                    .as_database_error()
                    .is_some_and(|e| e.is_foreign_key_violation()) =>
            {
                return Err(CatalogError::CategoryInUse)
            }
            Err(err) => return Err(err.into()),
        }
        self.commit(tx).await
    }

    pub async fn get_category(&self, id: Uuid) -> Result<Category> {
        Self::category(
            store::category(&self.ctx.db, id)
                .await?
                .ok_or(CatalogError::CategoryNotFound)?,
        )
    }

    pub async fn categories(&self, parent: Option<Uuid>, all: bool) -> Result<Vec<Category>> {
        if let Some(parent) = parent {
            store::category(&self.ctx.db, parent)
                .await?
                .ok_or(CatalogError::CategoryNotFound)?;
        }
        let rows = if all {
            store::all_categories(&self.ctx.db).await?
        } else {
            store::children(&self.ctx.db, parent).await?
        };
        rows.into_iter().map(Self::category).collect()
    }

    pub async fn create_brand(&self, input: BrandInput) -> Result<Brand> {
        let mut errors = Vec::new();
        if !domain::is_slug(&input.slug) {
            errors.push(FieldError {
                field: "slug".into(),
                message: "must be 1 to 80 lowercase letters, digits and inner hyphens".into(),
            });
        }
        if !(1..=100).contains(&input.name.trim().chars().count()) {
            errors.push(FieldError {
                field: "name".into(),
                message: "must be 1 to 100 characters".into(),
            });
        }
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        let row = store::BrandRow {
            id: kernel::new_id(),
            slug: input.slug,
            name: input.name.trim().to_owned(),
        };
        let mut tx = self.ctx.db.begin().await?;
        if let Err(err) = store::insert_brand(&mut tx, &row, Timestamp::now()).await {
            return Err(if is_unique_violation(&err) {
                CatalogError::Taken("slug")
            } else {
                err.into()
            });
        }
        self.commit(tx).await?;
        Ok(Brand {
            id: row.id,
            slug: row.slug,
            name: row.name,
        })
    }

    pub async fn brands(&self, after: Option<&str>, limit: u32) -> Result<Vec<Brand>> {
        Ok(store::brands(&self.ctx.db, after, limit)
            .await?
            .into_iter()
            .map(|b| Brand {
                id: b.id,
                slug: b.slug,
                name: b.name,
            })
            .collect())
    }

    pub async fn create_attribute(&self, input: AttributeInput) -> Result<Attribute> {
        let mut errors = Vec::new();
        let code_ok = (1..=40).contains(&input.code.len())
            && input
                .code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !code_ok {
            errors.push(FieldError {
                field: "code".into(),
                message: "must be 1 to 40 lowercase letters, digits or '_'".into(),
            });
        }
        input.name.check("name", true, 100, &mut errors);
        match input.kind {
            AttributeKind::Select if input.options.is_empty() || input.options.len() > 100 => {
                errors.push(FieldError {
                    field: "options".into(),
                    message: "a SELECT attribute has 1 to 100 options".into(),
                })
            }
            AttributeKind::Select => {}
            _ if !input.options.is_empty() => errors.push(FieldError {
                field: "options".into(),
                message: "only SELECT attributes have options".into(),
            }),
            _ => {}
        }
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        let row = store::AttributeRow {
            id: kernel::new_id(),
            code: input.code,
            name: to_json(&input.name),
            kind: input.kind.as_str().to_owned(),
            options: to_json(&input.options),
        };
        let mut tx = self.ctx.db.begin().await?;
        if let Err(err) = store::insert_attribute(&mut tx, &row, Timestamp::now()).await {
            return Err(if is_unique_violation(&err) {
                CatalogError::Taken("code")
            } else {
                err.into()
            });
        }
        self.commit(tx).await?;
        Self::attribute(row)
    }

    fn attribute(row: store::AttributeRow) -> Result<Attribute> {
        Ok(Attribute {
            id: row.id,
            code: row.code,
            name: from_json(&row.name)?,
            kind: parse(&row.kind, AttributeKind::parse)?,
            options: from_json(&row.options)?,
        })
    }

    pub async fn attributes(&self) -> Result<Vec<Attribute>> {
        store::attributes(&self.ctx.db)
            .await?
            .into_iter()
            .map(Self::attribute)
            .collect()
    }

    // ---- products ------------------------------------------------------------------------

    fn is_privileged(actor: Option<&Actor>, merchant_id: Uuid) -> bool {
        actor.is_some_and(|a| {
            a.can(Permission::AdminCatalog)
                || a.is_staff_with(merchant_id, MerchantPermission::ViewInternal)
        })
    }

    fn variant(row: VariantRow) -> Result<Variant> {
        Ok(Variant {
            id: row.id,
            product_id: row.product_id,
            options: from_json(&row.options)?,
            currency: parse(&row.currency, Currency::parse)?,
            sku: row.sku,
            price: row.price,
            compare_at_price: row.compare_at_price,
            position: row.position,
        })
    }

    fn price_range(
        currency: Option<&str>,
        min: Option<i64>,
        max: Option<i64>,
    ) -> Result<Option<PriceRange>> {
        Ok(match (currency, min, max) {
            (Some(c), Some(min), Some(max)) => Some(PriceRange {
                currency: parse(c, Currency::parse)?,
                min,
                max,
            }),
            _ => None,
        })
    }

    fn detail(
        row: ProductRow,
        variants: Vec<VariantRow>,
        privileged: bool,
    ) -> Result<ProductDetail> {
        Ok(ProductDetail {
            price: Self::price_range(row.currency.as_deref(), row.min_price, row.max_price)?,
            dimensions: match (row.length_mm, row.width_mm, row.height_mm) {
                (Some(length_mm), Some(width_mm), Some(height_mm)) => Some(Dimensions {
                    length_mm,
                    width_mm,
                    height_mm,
                }),
                _ => None,
            },
            name: from_json(&row.name)?,
            description: row.description.as_deref().map(from_json).transpose()?,
            attributes: from_json(&row.attributes)?,
            product_type: parse(&row.product_type, ProductType::parse)?,
            status: parse(&row.status, ProductStatus::parse)?,
            status_reason: row.status_reason.filter(|_| privileged),
            rating: Rating {
                average: row.rating_average,
                count: row.rating_count,
            },
            variants: variants
                .into_iter()
                .map(Self::variant)
                .collect::<Result<_>>()?,
            id: row.id,
            merchant_id: row.merchant_id,
            merchant_name: row.merchant_name,
            slug: row.slug,
            category_id: row.category_id,
            brand_id: row.brand_id,
            weight_grams: row.weight_grams,
            created_at: Timestamp::from_millis(row.created_at),
            updated_at: Timestamp::from_millis(row.updated_at),
        })
    }

    fn summary(row: SummaryRow) -> Result<ProductSummary> {
        Ok(ProductSummary {
            price: Self::price_range(row.currency.as_deref(), row.min_price, row.max_price)?,
            name: from_json(&row.name)?,
            product_type: parse(&row.product_type, ProductType::parse)?,
            status: parse(&row.status, ProductStatus::parse)?,
            rating: Rating {
                average: row.rating_average,
                count: row.rating_count,
            },
            id: row.id,
            merchant_id: row.merchant_id,
            merchant_name: row.merchant_name,
            slug: row.slug,
            category_id: row.category_id,
            brand_id: row.brand_id,
            created_at: Timestamp::from_millis(row.created_at),
        })
    }

    /// A product as the caller may see it: listed products from the cache for everyone but
    /// their merchant's staff and admins; unlisted ones only to those.
    pub async fn product(&self, actor: Option<&Actor>, id: Uuid) -> Result<Read<ProductDetail>> {
        let key = format!("p:{id}");
        if let Some(hit) = self.cache.get(&key) {
            if !hit
                .merchant_id
                .is_some_and(|m| Self::is_privileged(actor, m))
            {
                return Ok(Read::Cached(hit.body));
            }
        }
        let generation = self.cache.generation();
        let (row, variants) = store::product_detail(&self.ctx.db, id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        let privileged = Self::is_privileged(actor, row.merchant_id);
        if !row.listed && !privileged {
            return Err(CatalogError::NotFound);
        }
        let (listed, merchant_id) = (row.listed, row.merchant_id);
        let detail = Self::detail(row, variants, privileged)?;
        if listed && !privileged {
            let body = Bytes::from(
                serde_json::to_vec(&detail).map_err(|e| CatalogError::Corrupt(e.to_string()))?,
            );
            self.cache
                .put(key, body.clone(), Some(merchant_id), generation);
            return Ok(Read::Cached(body));
        }
        Ok(Read::Fresh(detail))
    }

    pub async fn variants(&self, actor: Option<&Actor>, id: Uuid) -> Result<Vec<Variant>> {
        let (row, variants) = store::product_detail(&self.ctx.db, id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        if !row.listed && !Self::is_privileged(actor, row.merchant_id) {
            return Err(CatalogError::NotFound);
        }
        variants.into_iter().map(Self::variant).collect()
    }

    /// Lists products. The public sees listed products (cached); staff of `merchantId` see all
    /// of its products; admins may filter any status (the moderation queue).
    pub async fn list(
        &self,
        actor: Option<&Actor>,
        q: &ProductQuery,
    ) -> Result<Read<kernel::Page<ProductSummary>>> {
        let staff_view = q.merchant_id.is_some_and(|m| {
            actor.is_some_and(|a| a.is_staff_with(m, MerchantPermission::ViewInternal))
        });
        let admin_view = !staff_view
            && q.status.is_some()
            && actor.is_some_and(|a| a.can(Permission::AdminCatalog));
        if !staff_view && !admin_view && q.status.is_some_and(|s| s != ProductStatus::Active) {
            return Err(CatalogError::Forbidden(
                "Only the merchant's staff and admins list products by status",
            ));
        }
        let public = !staff_view && !admin_view;
        let key = public.then(|| format!("l:{}", list_key(q)));
        if let Some(hit) = key.as_deref().and_then(|k| self.cache.get(k)) {
            return Ok(Read::Cached(hit.body));
        }
        let generation = self.cache.generation();
        let limit = q
            .limit
            .unwrap_or(kernel::page::DEFAULT_LIMIT)
            .clamp(1, kernel::page::MAX_LIMIT);
        let sort = q.sort.unwrap_or_default();
        let mut query = ListQuery {
            conditions: Vec::new(),
            args: Vec::new(),
            order: match sort {
                SortOrder::Newest => "p.id DESC",
                SortOrder::PriceAsc => "p.min_price ASC, p.id ASC",
                SortOrder::PriceDesc => "p.min_price DESC, p.id DESC",
                SortOrder::Name => "p.name_sort ASC, p.id ASC",
            },
            limit: limit + 1,
        };
        if public {
            query.conditions.push("p.listed = TRUE".into());
        } else {
            query.conditions.push("p.deleted_at IS NULL".into());
        }
        if let Some(status) = q.status.filter(|_| !public) {
            query.with("p.status = ?", Arg::Text(status.as_str().into()));
        }
        if let Some(m) = q.merchant_id {
            query.with("p.merchant_id = ?", Arg::Id(m));
        }
        if let Some(c) = q.category_id {
            query.with(
                "p.category_id IN (SELECT d.id FROM catalog_categories d WHERE d.path LIKE
                   (SELECT c.path FROM catalog_categories c WHERE c.id = ?) || '%')",
                Arg::Id(c),
            );
        }
        if let Some(b) = q.brand_id {
            query.with("p.brand_id = ?", Arg::Id(b));
        }
        if let Some(t) = q.product_type {
            query.with("p.product_type = ?", Arg::Text(t.as_str().into()));
        }
        if let Some(c) = q.currency {
            query.with("p.currency = ?", Arg::Text(c.code().into()));
        }
        if let Some(min) = q.min_price {
            query.with("p.min_price >= ?", Arg::Int(min));
        }
        if let Some(max) = q.max_price {
            query.with("p.min_price <= ?", Arg::Int(max));
        }
        if matches!(sort, SortOrder::PriceAsc | SortOrder::PriceDesc) {
            query.conditions.push("p.min_price IS NOT NULL".into());
        }
        if let Some(cursor) = q.cursor.as_deref() {
            let Cursor(raw) = Cursor::decode(cursor)
                .map_err(|_| invalid_one("cursor", "is not a valid cursor"))?;
            let bad = || invalid_one("cursor", "is not a valid cursor");
            let (value, id) = match raw.rsplit_once('|') {
                Some((value, id)) => (Some(value.to_owned()), id.to_owned()),
                None => (None, raw.clone()),
            };
            let id = Uuid::parse_str(&id).map_err(|_| bad())?;
            match (sort, value) {
                (SortOrder::Newest, None) => query.with("p.id < ?", Arg::Id(id)),
                (SortOrder::PriceAsc, Some(v)) => query.with_pair(
                    "(p.min_price > ?1 OR (p.min_price = ?1 AND p.id > ?2))",
                    Arg::Int(v.parse().map_err(|_| bad())?),
                    Arg::Id(id),
                ),
                (SortOrder::PriceDesc, Some(v)) => query.with_pair(
                    "(p.min_price < ?1 OR (p.min_price = ?1 AND p.id < ?2))",
                    Arg::Int(v.parse().map_err(|_| bad())?),
                    Arg::Id(id),
                ),
                (SortOrder::Name, Some(v)) => query.with_pair(
                    "(p.name_sort > ?1 OR (p.name_sort = ?1 AND p.id > ?2))",
                    Arg::Text(v),
                    Arg::Id(id),
                ),
                _ => return Err(bad()),
            }
        }
        let mut rows = store::list_products(&self.ctx.db, &query).await?;
        let next_cursor = (rows.len() > limit as usize)
            .then(|| {
                rows.truncate(limit as usize);
                rows.last().map(|last| {
                    Cursor::encode(&match sort {
                        SortOrder::Newest => last.id.to_string(),
                        SortOrder::PriceAsc | SortOrder::PriceDesc => {
                            format!("{}|{}", last.min_price.unwrap_or_default(), last.id)
                        }
                        SortOrder::Name => format!("{}|{}", last.name_sort, last.id),
                    })
                })
            })
            .flatten();
        let page = kernel::Page {
            items: rows
                .into_iter()
                .map(Self::summary)
                .collect::<Result<Vec<_>>>()?,
            next_cursor,
        };
        match key {
            Some(key) => {
                let body = Bytes::from(
                    serde_json::to_vec(&page).map_err(|e| CatalogError::Corrupt(e.to_string()))?,
                );
                self.cache.put(key, body.clone(), None, generation);
                Ok(Read::Cached(body))
            }
            None => Ok(Read::Fresh(page)),
        }
    }

    async fn check_references(
        &self,
        tx: &mut Tx,
        category_id: Option<Uuid>,
        brand_id: Option<Uuid>,
    ) -> Result<()> {
        let mut errors = Vec::new();
        if let Some(category_id) = category_id {
            if store::category_in(tx, category_id).await?.is_none() {
                errors.push(FieldError {
                    field: "categoryId".into(),
                    message: "no such category".into(),
                });
            }
        }
        if let Some(brand_id) = brand_id {
            if !store::brand_exists(tx, brand_id).await? {
                errors.push(FieldError {
                    field: "brandId".into(),
                    message: "no such brand".into(),
                });
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(invalid(errors))
        }
    }

    async fn fact(tx: &mut Tx, row: &ProductRow, status: ProductStatus) -> Result<ProductFact> {
        Ok(ProductFact {
            product_id: row.id,
            merchant_id: row.merchant_id,
            product_type: parse(&row.product_type, ProductType::parse)?,
            status,
            variants: store::variants_in(tx, row.id)
                .await?
                .into_iter()
                .map(|v| VariantRef {
                    variant_id: v.id,
                    sku: v.sku,
                })
                .collect(),
        })
    }

    async fn insert_variants(
        &self,
        tx: &mut Tx,
        product: &ProductRow,
        variants: &[VariantInput],
        first_position: i32,
        now: Timestamp,
    ) -> Result<Vec<Uuid>> {
        let mut ids = Vec::new();
        for (i, v) in variants.iter().enumerate() {
            let row = VariantRow {
                id: kernel::new_id(),
                product_id: product.id,
                merchant_id: product.merchant_id,
                sku: v.sku.clone(),
                options: to_json(&v.options),
                price: v.price,
                compare_at_price: v.compare_at_price,
                currency: v.currency.code().to_owned(),
                position: v.position.unwrap_or(first_position + i as i32),
            };
            if let Err(err) = store::insert_variant(tx, &row, now).await {
                return Err(if is_unique_violation(&err) {
                    invalid(vec![FieldError {
                        field: format!("variants[{i}].sku"),
                        message: format!("SKU {} is already used by this merchant", v.sku),
                    }])
                } else {
                    err.into()
                });
            }
            ids.push(row.id);
        }
        Ok(ids)
    }

    /// Picks the slug: the requested one (409 when taken) or one derived from the name.
    fn slug_for(requested: Option<&str>, name: &LocalizedText, id: Uuid) -> String {
        match requested {
            Some(slug) => slug.to_owned(),
            None => {
                let base = domain::slugify(&name.en);
                let suffix = &id.simple().to_string()[24..];
                if base.is_empty() {
                    suffix.to_owned()
                } else {
                    format!("{base}-{suffix}")
                }
            }
        }
    }

    pub async fn create(&self, input: ProductInput) -> Result<ProductDetail> {
        let definitions = self.attributes().await?;
        domain::validate_product(&input, &definitions).map_err(invalid)?;
        let now = Timestamp::now();
        let id = kernel::new_id();
        let (length_mm, width_mm, height_mm) = match input.dimensions {
            Some(d) => (Some(d.length_mm), Some(d.width_mm), Some(d.height_mm)),
            None => (None, None, None),
        };
        let row = ProductRow {
            id,
            merchant_id: input.merchant_id,
            merchant_name: None,
            slug: Self::slug_for(input.slug.as_deref(), &input.name, id),
            name: to_json(&input.name),
            description: input.description.as_ref().map(to_json),
            category_id: input.category_id,
            brand_id: input.brand_id,
            attributes: to_json(&input.attributes),
            product_type: input.product_type.as_str().to_owned(),
            weight_grams: input.weight_grams,
            length_mm,
            width_mm,
            height_mm,
            status: ProductStatus::Draft.as_str().to_owned(),
            status_reason: None,
            currency: None,
            min_price: None,
            max_price: None,
            listed: false,
            rating_average: None,
            rating_count: 0,
            created_at: now.millis(),
            updated_at: now.millis(),
        };
        let mut tx = self.ctx.db.begin().await?;
        self.check_references(&mut tx, Some(input.category_id), input.brand_id)
            .await?;
        if let Err(err) = store::insert_product(&mut tx, &row, &input.name.en.to_lowercase()).await
        {
            return Err(if is_unique_violation(&err) {
                CatalogError::Taken("slug")
            } else {
                err.into()
            });
        }
        self.insert_variants(&mut tx, &row, &input.variants, 0, now)
            .await?;
        store::refresh_product(&mut tx, id).await?;
        let fact = Self::fact(&mut tx, &row, ProductStatus::Draft).await?;
        bus::publish(&mut tx, SOURCE, &ProductCreated(fact)).await?;
        self.commit(tx).await?;
        self.full(id).await
    }

    /// The full view, for staff and admins.
    async fn full(&self, id: Uuid) -> Result<ProductDetail> {
        let (row, variants) = store::product_detail(&self.ctx.db, id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        Self::detail(row, variants, true)
    }

    /// Loads a product for a change by its merchant's staff, refusing anyone else.
    async fn editable(&self, tx: &mut Tx, actor: &Actor, id: Uuid) -> Result<ProductRow> {
        let row = store::product_in(tx, id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        if !actor.is_staff_with(row.merchant_id, MerchantPermission::EditListings) {
            return Err(CatalogError::Forbidden(
                "Only the merchant's managers and owner edit its listings",
            ));
        }
        if !parse(&row.status, ProductStatus::parse)?.editable() {
            return Err(CatalogError::Archived);
        }
        Ok(row)
    }

    pub async fn update(
        &self,
        actor: &Actor,
        id: Uuid,
        update: ProductUpdate,
    ) -> Result<ProductDetail> {
        let definitions = self.attributes().await?;
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let mut row = self.editable(&mut tx, actor, id).await?;
        let product_type = parse(&row.product_type, ProductType::parse)?;
        let weight = update.weight_grams.or(row.weight_grams);
        let dimensions = update
            .dimensions
            .or(match (row.length_mm, row.width_mm, row.height_mm) {
                (Some(length_mm), Some(width_mm), Some(height_mm)) => Some(Dimensions {
                    length_mm,
                    width_mm,
                    height_mm,
                }),
                _ => None,
            });
        domain::validate_update(
            &update,
            product_type,
            weight,
            dimensions.as_ref(),
            &definitions,
        )
        .map_err(invalid)?;
        self.check_references(&mut tx, update.category_id, update.brand_id)
            .await?;
        let mut name: LocalizedText = from_json(&row.name)?;
        if let Some(new_name) = update.name {
            name = new_name;
            row.name = to_json(&name);
        }
        if let Some(description) = &update.description {
            row.description = Some(to_json(description));
        }
        if let Some(slug) = update.slug {
            row.slug = slug;
        }
        if let Some(category_id) = update.category_id {
            row.category_id = category_id;
        }
        if let Some(brand_id) = update.brand_id {
            row.brand_id = Some(brand_id);
        }
        if let Some(attributes) = &update.attributes {
            row.attributes = to_json(attributes);
        }
        row.weight_grams = weight;
        if let Some(d) = dimensions {
            (row.length_mm, row.width_mm, row.height_mm) =
                (Some(d.length_mm), Some(d.width_mm), Some(d.height_mm));
        }
        row.updated_at = now.millis();
        if let Err(err) = store::update_product(&mut tx, &row, &name.en.to_lowercase()).await {
            return Err(if is_unique_violation(&err) {
                CatalogError::Taken("slug")
            } else {
                err.into()
            });
        }
        self.updated(&mut tx, &row).await?;
        self.commit(tx).await?;
        self.full(id).await
    }

    async fn updated(&self, tx: &mut Tx, row: &ProductRow) -> Result<()> {
        store::refresh_product(tx, row.id).await?;
        let status = parse(&row.status, ProductStatus::parse)?;
        let fact = Self::fact(tx, row, status).await?;
        bus::publish(tx, SOURCE, &ProductUpdated(fact)).await?;
        Ok(())
    }

    pub async fn change_status(
        &self,
        actor: &Actor,
        id: Uuid,
        change: StatusChange,
    ) -> Result<ProductDetail> {
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let row = store::product_in(&mut tx, id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        let moderator = actor.can(Permission::AdminCatalog);
        let staff = actor.is_staff_with(row.merchant_id, MerchantPermission::EditListings);
        if !moderator && !staff {
            return Err(CatalogError::Forbidden(
                "Only the merchant's managers and owner, or moderators, change a listing's status",
            ));
        }
        let from = parse(&row.status, ProductStatus::parse)?;
        let to = change.status;
        // Staff move their own products; an admin who is also staff moderates.
        let mover = if moderator
            && (!staff || matches!(to, ProductStatus::Active | ProductStatus::Rejected))
        {
            Mover::Moderator
        } else {
            Mover::Merchant
        };
        match from.transition(to, mover) {
            Ok(()) => {}
            Err(TransitionError::NotYours) => {
                return Err(CatalogError::Forbidden(match mover {
                    Mover::Merchant => "Only moderators activate or reject listings",
                    Mover::Moderator => {
                        "Only the merchant submits, withdraws or archives its listings"
                    }
                }))
            }
            Err(TransitionError::Illegal { allowed }) => {
                return Err(CatalogError::Transition { from, to, allowed })
            }
        }
        let reason = change
            .reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        domain::validate_reason(reason.as_deref(), to == ProductStatus::Rejected)
            .map_err(invalid)?;
        if to == ProductStatus::PendingReview && row.min_price.is_none() {
            return Err(invalid_one(
                "variants",
                "add at least one variant with a price before submitting",
            ));
        }
        if !store::set_status(
            &mut tx,
            id,
            from.as_str(),
            to.as_str(),
            reason.as_deref(),
            now,
        )
        .await?
        {
            return Err(CatalogError::Transition {
                from,
                to,
                allowed: Vec::new(),
            });
        }
        store::refresh_product(&mut tx, id).await?;
        bus::publish(
            &mut tx,
            SOURCE,
            &ProductStatusChanged {
                product_id: id,
                merchant_id: row.merchant_id,
                from,
                to,
                reason,
                by: actor.user_id,
            },
        )
        .await?;
        self.commit(tx).await?;
        self.full(id).await
    }

    pub async fn delete(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let row = store::product_in(&mut tx, id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        if !actor.is_staff_with(row.merchant_id, MerchantPermission::EditListings) {
            return Err(CatalogError::Forbidden(
                "Only the merchant's managers and owner delete its listings",
            ));
        }
        store::soft_delete(&mut tx, id, now).await?;
        bus::publish(
            &mut tx,
            SOURCE,
            &ProductDeleted {
                product_id: id,
                merchant_id: row.merchant_id,
                by: actor.user_id,
            },
        )
        .await?;
        self.commit(tx).await
    }

    pub async fn add_variants(
        &self,
        actor: &Actor,
        id: Uuid,
        variants: Vec<VariantInput>,
    ) -> Result<Vec<Variant>> {
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let row = self.editable(&mut tx, actor, id).await?;
        let existing = store::variants_in(&mut tx, id).await?;
        let currency = existing.first().and_then(|v| Currency::parse(&v.currency));
        domain::validate_variants(&variants, currency, existing.len(), "variants")
            .map_err(invalid)?;
        let first_position = existing.iter().map(|v| v.position + 1).max().unwrap_or(0);
        let ids = self
            .insert_variants(&mut tx, &row, &variants, first_position, now)
            .await?;
        self.updated(&mut tx, &row).await?;
        let created = store::variants_in(&mut tx, id).await?;
        self.commit(tx).await?;
        created
            .into_iter()
            .filter(|v| ids.contains(&v.id))
            .map(Self::variant)
            .collect()
    }

    pub async fn update_variant(
        &self,
        actor: &Actor,
        id: Uuid,
        variant_id: Uuid,
        update: VariantUpdate,
    ) -> Result<Variant> {
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let row = self.editable(&mut tx, actor, id).await?;
        let mut variant = store::variants_in(&mut tx, id)
            .await?
            .into_iter()
            .find(|v| v.id == variant_id)
            .ok_or(CatalogError::VariantNotFound)?;
        if let Some(price) = update.price {
            variant.price = price;
        }
        if let Some(compare_at) = update.compare_at_price {
            variant.compare_at_price = compare_at;
        }
        if let Some(position) = update.position {
            variant.position = position;
        }
        let options: Option<BTreeMap<String, String>> = update.options;
        domain::validate_variant_change(options.as_ref(), variant.price, variant.compare_at_price)
            .map_err(invalid)?;
        if let Some(options) = &options {
            variant.options = to_json(options);
        }
        store::update_variant(&mut tx, &variant, now).await?;
        self.updated(&mut tx, &row).await?;
        self.commit(tx).await?;
        Self::variant(variant)
    }

    pub async fn delete_variant(&self, actor: &Actor, id: Uuid, variant_id: Uuid) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let row = self.editable(&mut tx, actor, id).await?;
        if !store::delete_variant(&mut tx, id, variant_id, now).await? {
            return Err(CatalogError::VariantNotFound);
        }
        self.updated(&mut tx, &row).await?;
        self.commit(tx).await
    }

    pub async fn quotes(&self, ids: &[Uuid]) -> Result<Vec<VariantQuote>> {
        if ids.len() > 200 {
            return Err(invalid_one("variantIds", "at most 200 per lookup"));
        }
        store::quotes(&self.ctx.db, ids)
            .await?
            .into_iter()
            .map(|q| {
                let mut category_path = path_ids(&q.path);
                category_path.reverse();
                Ok(VariantQuote {
                    variant_id: q.id,
                    product_id: q.product_id,
                    merchant_id: q.merchant_id,
                    sku: q.sku,
                    product_name: from_json(&q.name)?,
                    product_type: parse(&q.product_type, ProductType::parse)?,
                    price: q.price,
                    currency: parse(&q.currency, Currency::parse)?,
                    category_path,
                    sellable: q.listed,
                })
            })
            .collect()
    }

    /// A merchant's status or name changed (from merchants' events, in the event's
    /// transaction). The cache is invalidated now and once more after the event commits.
    pub async fn merchant_changed(
        &self,
        tx: &mut Tx,
        merchant_id: Uuid,
        status: Option<&str>,
        name: &str,
    ) -> Result<()> {
        store::upsert_merchant(tx, merchant_id, status, name, Timestamp::now()).await?;
        self.invalidate();
        Ok(())
    }
}

/// The canonical form of a public list query (the cache key).
fn list_key(q: &ProductQuery) -> String {
    format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        q.category_id,
        q.merchant_id,
        q.brand_id,
        q.product_type,
        q.currency,
        q.min_price,
        q.max_price,
        q.sort,
        q.limit,
        q.cursor
    )
}
