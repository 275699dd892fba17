//! Products, their variants, merchants' listing status, lists and checkout quotes.

use super::*;

/// A product's rating, as reviews last published it (not a change of the product: its
/// `updated_at` stays), unless a newer version of it was applied already.
pub async fn set_rating(
    tx: &mut Tx,
    product_id: Uuid,
    average: Option<f64>,
    count: i32,
    version: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE catalog_products SET rating_average = $2, rating_count = $3, rating_version = $4
         WHERE id = $1 AND rating_version < $4"
    ).bind(product_id).bind(average).bind(count).bind(version).execute(conn).await.map(|_| ()))
}

/// Records the merchant's status and name as announced by merchants, and re-derives which of
/// its products are listed. Events may arrive twice: the upsert is idempotent.
pub async fn upsert_merchant(
    tx: &mut Tx,
    merchant_id: Uuid,
    status: Option<&str>,
    business_name: &str,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO catalog_merchants (merchant_id, status, business_name, updated_at)
         VALUES ($1, COALESCE($2, 'PENDING_REVIEW'), $3, $4)
         ON CONFLICT (merchant_id) DO UPDATE SET status = COALESCE($2, catalog_merchants.status),
           business_name = excluded.business_name, updated_at = excluded.updated_at"
    ).bind(merchant_id).bind(status).bind(business_name).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, conn => sqlx::query(&format!("{LISTED} WHERE merchant_id = $1"))
        .bind(merchant_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// What the public sees: ACTIVE, of an ACTIVE merchant, not deleted, priced.
pub(super) const LISTED: &str =
    "UPDATE catalog_products SET listed = (status = 'ACTIVE' AND deleted_at IS NULL
    AND min_price IS NOT NULL AND EXISTS (SELECT 1 FROM catalog_merchants m
      WHERE m.merchant_id = catalog_products.merchant_id AND m.status = 'ACTIVE'))";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductRow {
    pub id: Uuid,
    pub merchant_id: Uuid,
    pub merchant_name: Option<String>,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub category_id: Uuid,
    pub brand_id: Option<Uuid>,
    pub attributes: String,
    pub product_type: String,
    pub weight_grams: Option<i32>,
    pub length_mm: Option<i32>,
    pub width_mm: Option<i32>,
    pub height_mm: Option<i32>,
    pub status: String,
    pub status_reason: Option<String>,
    pub currency: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub listed: bool,
    pub rating_average: Option<f64>,
    pub rating_count: i32,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(super) const PRODUCT_SELECT: &str =
    "SELECT p.id, p.merchant_id, m.business_name AS merchant_name, p.slug,
    p.name, p.description, p.category_id, p.brand_id, p.attributes, p.product_type, p.weight_grams,
    p.length_mm, p.width_mm, p.height_mm, p.status, p.status_reason, p.currency, p.min_price,
    p.max_price, p.listed, p.rating_average, p.rating_count, p.created_at, p.updated_at
    FROM catalog_products p LEFT JOIN catalog_merchants m ON m.merchant_id = p.merchant_id";

pub async fn insert_product(tx: &mut Tx, p: &ProductRow, name_sort: &str) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO catalog_products (id, merchant_id, slug, name, name_sort, description, category_id,
           brand_id, attributes, product_type, weight_grams, length_mm, width_mm, height_mm, status,
           listed, rating_count, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, FALSE, 0, $16, $16)"
    ).bind(p.id).bind(p.merchant_id).bind(&p.slug).bind(&p.name).bind(name_sort).bind(&p.description)
     .bind(p.category_id).bind(p.brand_id).bind(&p.attributes).bind(&p.product_type)
     .bind(p.weight_grams).bind(p.length_mm).bind(p.width_mm).bind(p.height_mm).bind(&p.status)
     .bind(p.created_at).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DetailRow {
    #[sqlx(flatten)]
    pub product: ProductRow,
    pub v_id: Option<Uuid>,
    pub v_sku: Option<String>,
    pub v_options: Option<String>,
    pub v_price: Option<i64>,
    pub v_compare_at_price: Option<i64>,
    pub v_currency: Option<String>,
    pub v_position: Option<i32>,
}

/// A product that is not deleted, with its live variants, in one round trip (the hot read).
pub async fn product_detail(db: &Db, id: Uuid) -> Result<Option<(ProductRow, Vec<VariantRow>)>> {
    let sql = PRODUCT_SELECT.replace(
        " FROM catalog_products p",
        ", v.id AS v_id, v.sku AS v_sku, v.options AS v_options, v.price AS v_price,
           v.compare_at_price AS v_compare_at_price, v.currency AS v_currency, v.position AS v_position
         FROM catalog_products p",
    ) + " LEFT JOIN catalog_variants v ON v.product_id = p.id AND v.deleted_at IS NULL
         WHERE p.id = $1 AND p.deleted_at IS NULL ORDER BY v.position, v.id";
    let rows: Vec<DetailRow> =
        on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_all(pool).await)?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let product = first.product.clone();
    let variants = rows
        .into_iter()
        .filter_map(|r| {
            Some(VariantRow {
                id: r.v_id?,
                product_id: product.id,
                merchant_id: product.merchant_id,
                sku: r.v_sku?,
                options: r.v_options?,
                price: r.v_price?,
                compare_at_price: r.v_compare_at_price,
                currency: r.v_currency?,
                position: r.v_position?,
            })
        })
        .collect();
    Ok(Some((product, variants)))
}

pub async fn product_in(tx: &mut Tx, id: Uuid) -> Result<Option<ProductRow>> {
    let lock = if tx.dialect() == platform::Dialect::Postgres {
        " FOR UPDATE OF p"
    } else {
        ""
    };
    let sql = format!("{PRODUCT_SELECT} WHERE p.id = $1 AND p.deleted_at IS NULL{lock}");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

pub async fn update_product(tx: &mut Tx, p: &ProductRow, name_sort: &str) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE catalog_products SET slug = $2, name = $3, name_sort = $4, description = $5,
           category_id = $6, brand_id = $7, attributes = $8, weight_grams = $9, length_mm = $10,
           width_mm = $11, height_mm = $12, updated_at = $13
         WHERE id = $1"
    ).bind(p.id).bind(&p.slug).bind(&p.name).bind(name_sort).bind(&p.description).bind(p.category_id)
     .bind(p.brand_id).bind(&p.attributes).bind(p.weight_grams).bind(p.length_mm).bind(p.width_mm)
     .bind(p.height_mm).bind(p.updated_at).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Moves the status only from `from` (a concurrent move makes this affect nothing).
pub async fn set_status(
    tx: &mut Tx,
    id: Uuid,
    from: &str,
    to: &str,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<bool> {
    let changed = on_tx!(tx, conn => sqlx::query(
        "UPDATE catalog_products SET status = $3, status_reason = $4, updated_at = $5
         WHERE id = $1 AND status = $2 AND deleted_at IS NULL"
    ).bind(id).bind(from).bind(to).bind(reason).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(changed == 1)
}

pub async fn soft_delete(tx: &mut Tx, id: Uuid, now: Timestamp) -> Result<bool> {
    let changed = on_tx!(tx, conn => sqlx::query(
        "UPDATE catalog_products SET deleted_at = $2, updated_at = $2, listed = FALSE
         WHERE id = $1 AND deleted_at IS NULL"
    ).bind(id).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, conn => sqlx::query(
        "UPDATE catalog_variants SET deleted_at = $2 WHERE product_id = $1 AND deleted_at IS NULL"
    ).bind(id).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(changed == 1)
}

/// Re-derives the price range, currency and listing of a product from its live variants.
pub async fn refresh_product(tx: &mut Tx, id: Uuid) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE catalog_products SET
           min_price = (SELECT MIN(price) FROM catalog_variants v WHERE v.product_id = catalog_products.id AND v.deleted_at IS NULL),
           max_price = (SELECT MAX(price) FROM catalog_variants v WHERE v.product_id = catalog_products.id AND v.deleted_at IS NULL),
           currency = (SELECT MIN(currency) FROM catalog_variants v WHERE v.product_id = catalog_products.id AND v.deleted_at IS NULL)
         WHERE id = $1"
    ).bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, conn => sqlx::query(&format!("{LISTED} WHERE id = $1"))
        .bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Where a product list resumes: after the row with these sort values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListAfter {
    Newest(Uuid),
    Price(i64, Uuid),
    Name(String, Uuid),
}

/// Which products a list shows, in which order, from where, and how many rows to read.
#[derive(Debug, Clone)]
pub struct ProductFilter {
    /// Only listed products (the public catalogue); else every product not deleted.
    pub public: bool,
    pub status: Option<ProductStatus>,
    pub merchant_id: Option<Uuid>,
    /// The category or any of its descendants.
    pub category_id: Option<Uuid>,
    pub brand_id: Option<Uuid>,
    pub product_type: Option<ProductType>,
    pub currency: Option<Currency>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub sort: SortOrder,
    pub after: Option<ListAfter>,
    pub limit: u32,
}

/// One bound value of a dynamically built query.
#[derive(Debug, Clone)]
enum Arg {
    Id(Uuid),
    Int(i64),
    Text(String),
}

/// A product list query: `conditions` joined by AND over `p`, with `args` bound as $1.., in
/// `order`, at most `limit` rows.
struct ListQuery {
    conditions: Vec<String>,
    args: Vec<Arg>,
    order: &'static str,
    limit: u32,
}

impl ListQuery {
    fn of(filter: &ProductFilter) -> Self {
        let mut query = ListQuery {
            conditions: Vec::new(),
            args: Vec::new(),
            order: match filter.sort {
                SortOrder::Newest => "p.id DESC",
                SortOrder::PriceAsc => "p.min_price ASC, p.id ASC",
                SortOrder::PriceDesc => "p.min_price DESC, p.id DESC",
                SortOrder::Name => "p.name_sort ASC, p.id ASC",
            },
            limit: filter.limit,
        };
        query.conditions.push(
            if filter.public {
                "p.listed = TRUE"
            } else {
                "p.deleted_at IS NULL"
            }
            .into(),
        );
        if let Some(status) = filter.status {
            query.with("p.status = ?", Arg::Text(status.as_str().into()));
        }
        if let Some(m) = filter.merchant_id {
            query.with("p.merchant_id = ?", Arg::Id(m));
        }
        if let Some(c) = filter.category_id {
            query.with(
                "p.category_id IN (SELECT d.id FROM catalog_categories d WHERE d.path LIKE
                   (SELECT c.path FROM catalog_categories c WHERE c.id = ?) || '%')",
                Arg::Id(c),
            );
        }
        if let Some(b) = filter.brand_id {
            query.with("p.brand_id = ?", Arg::Id(b));
        }
        if let Some(t) = filter.product_type {
            query.with("p.product_type = ?", Arg::Text(t.as_str().into()));
        }
        if let Some(c) = filter.currency {
            query.with("p.currency = ?", Arg::Text(c.code().into()));
        }
        if let Some(min) = filter.min_price {
            query.with("p.min_price >= ?", Arg::Int(min));
        }
        if let Some(max) = filter.max_price {
            query.with("p.min_price <= ?", Arg::Int(max));
        }
        if matches!(filter.sort, SortOrder::PriceAsc | SortOrder::PriceDesc) {
            query.conditions.push("p.min_price IS NOT NULL".into());
        }
        match (&filter.after, filter.sort) {
            (None, _) => {}
            (Some(ListAfter::Newest(id)), _) => query.with("p.id < ?", Arg::Id(*id)),
            (Some(ListAfter::Price(price, id)), SortOrder::PriceDesc) => query.with_pair(
                "(p.min_price < ?1 OR (p.min_price = ?1 AND p.id < ?2))",
                Arg::Int(*price),
                Arg::Id(*id),
            ),
            (Some(ListAfter::Price(price, id)), _) => query.with_pair(
                "(p.min_price > ?1 OR (p.min_price = ?1 AND p.id > ?2))",
                Arg::Int(*price),
                Arg::Id(*id),
            ),
            (Some(ListAfter::Name(name, id)), _) => query.with_pair(
                "(p.name_sort > ?1 OR (p.name_sort = ?1 AND p.id > ?2))",
                Arg::Text(name.clone()),
                Arg::Id(*id),
            ),
        }
        query
    }

    /// Adds a condition whose `?` is the next placeholder bound to `arg`.
    fn with(&mut self, condition: &str, arg: Arg) {
        self.args.push(arg);
        let placeholder = format!("${}", self.args.len());
        self.conditions.push(condition.replace('?', &placeholder));
    }

    /// Like `with`, for conditions using two values (`?1`, `?2`).
    fn with_pair(&mut self, condition: &str, first: Arg, second: Arg) {
        self.args.push(first);
        let a = format!("${}", self.args.len());
        self.args.push(second);
        let b = format!("${}", self.args.len());
        self.conditions
            .push(condition.replace("?1", &a).replace("?2", &b));
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SummaryRow {
    pub id: Uuid,
    pub merchant_id: Uuid,
    pub merchant_name: Option<String>,
    pub slug: String,
    pub name: String,
    pub name_sort: String,
    pub category_id: Uuid,
    pub brand_id: Option<Uuid>,
    pub product_type: String,
    pub status: String,
    pub currency: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub rating_average: Option<f64>,
    pub rating_count: i32,
    pub created_at: i64,
}

pub async fn list_products(db: &Db, filter: &ProductFilter) -> Result<Vec<SummaryRow>> {
    let query = ListQuery::of(filter);
    let sql = format!(
        "SELECT p.id, p.merchant_id, m.business_name AS merchant_name, p.slug, p.name, p.name_sort,
           p.category_id, p.brand_id, p.product_type, p.status, p.currency, p.min_price, p.max_price,
           p.rating_average, p.rating_count, p.created_at
         FROM catalog_products p LEFT JOIN catalog_merchants m ON m.merchant_id = p.merchant_id
         WHERE {} ORDER BY {} LIMIT {}",
        if query.conditions.is_empty() { "TRUE".to_owned() } else { query.conditions.join(" AND ") },
        query.order,
        query.limit
    );
    on_db!(db, pool => {
        let mut q = sqlx::query_as(&sql);
        for arg in &query.args {
            q = match arg {
                Arg::Id(v) => q.bind(*v),
                Arg::Int(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_str()),
            };
        }
        q.fetch_all(pool).await
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VariantRow {
    pub id: Uuid,
    pub product_id: Uuid,
    pub merchant_id: Uuid,
    pub sku: String,
    pub options: String,
    pub price: i64,
    pub compare_at_price: Option<i64>,
    pub currency: String,
    pub position: i32,
}

pub(super) const VARIANT_COLUMNS: &str =
    "id, product_id, merchant_id, sku, options, price, compare_at_price, currency, position";

pub async fn insert_variant(tx: &mut Tx, v: &VariantRow, now: Timestamp) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO catalog_variants (id, product_id, merchant_id, sku, options, price, compare_at_price,
           currency, position, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)"
    ).bind(v.id).bind(v.product_id).bind(v.merchant_id).bind(&v.sku).bind(&v.options).bind(v.price)
     .bind(v.compare_at_price).bind(&v.currency).bind(v.position).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn variants_in(tx: &mut Tx, product_id: Uuid) -> Result<Vec<VariantRow>> {
    let sql = format!(
        "SELECT {VARIANT_COLUMNS} FROM catalog_variants WHERE product_id = $1 AND deleted_at IS NULL ORDER BY position, id"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(product_id).fetch_all(conn).await)
}

pub async fn update_variant(tx: &mut Tx, v: &VariantRow, now: Timestamp) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE catalog_variants SET options = $2, price = $3, compare_at_price = $4, position = $5, updated_at = $6
         WHERE id = $1"
    ).bind(v.id).bind(&v.options).bind(v.price).bind(v.compare_at_price).bind(v.position)
     .bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete_variant(
    tx: &mut Tx,
    product_id: Uuid,
    id: Uuid,
    now: Timestamp,
) -> Result<bool> {
    let changed = on_tx!(tx, conn => sqlx::query(
        "UPDATE catalog_variants SET deleted_at = $3 WHERE id = $1 AND product_id = $2 AND deleted_at IS NULL"
    ).bind(id).bind(product_id).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(changed == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuoteRow {
    pub id: Uuid,
    pub product_id: Uuid,
    pub merchant_id: Uuid,
    pub sku: String,
    pub price: i64,
    pub currency: String,
    pub name: String,
    pub product_type: String,
    pub listed: bool,
    pub path: String,
    pub brand_id: Option<Uuid>,
    pub weight_grams: Option<i32>,
    pub length_mm: Option<i32>,
    pub width_mm: Option<i32>,
    pub height_mm: Option<i32>,
}

pub async fn quotes(db: &Db, ids: &[Uuid]) -> Result<Vec<QuoteRow>> {
    let mut rows = Vec::with_capacity(ids.len());
    // Checkouts carry a handful of lines: one indexed point read each keeps the SQL static.
    for id in ids {
        let row: Option<QuoteRow> = on_db!(db, pool => sqlx::query_as(
            "SELECT v.id, v.product_id, v.merchant_id, v.sku, v.price, v.currency, p.name,
               p.product_type, p.listed, c.path, p.brand_id, p.weight_grams, p.length_mm,
               p.width_mm, p.height_mm
             FROM catalog_variants v JOIN catalog_products p ON p.id = v.product_id
             JOIN catalog_categories c ON c.id = p.category_id
             WHERE v.id = $1 AND v.deleted_at IS NULL AND p.deleted_at IS NULL"
        ).bind(*id).fetch_optional(pool).await)?;
        rows.extend(row);
    }
    Ok(rows)
}

pub async fn product_merchant(db: &Db, id: Uuid) -> Result<Option<Uuid>> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT merchant_id FROM catalog_products WHERE id = $1 AND deleted_at IS NULL"
    ).bind(id).fetch_optional(pool).await)
}
