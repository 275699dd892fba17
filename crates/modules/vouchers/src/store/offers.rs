//! Offers, and the listing facts (product status, merchant status, outlets) they are shown by.

use super::*;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OfferRow {
    pub id: Uuid,
    pub merchant_id: Uuid,
    pub product_id: Uuid,
    pub variant_id: Uuid,
    pub category_id: Uuid,
    pub kind: String,
    pub title: String,
    pub description: Option<String>,
    pub terms: Option<String>,
    pub price: i64,
    pub face_value: i64,
    pub currency: String,
    pub discount_bps: Option<i32>,
    pub valid_from: Option<i64>,
    pub valid_until: Option<i64>,
    pub valid_days: Option<i32>,
    pub total_cap: Option<i32>,
    pub per_customer_cap: Option<i32>,
    pub issued: i32,
    pub claimable: bool,
    pub outlets: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub product_status: String,
    pub merchant_active: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// From reviews' aggregates.
    pub rating_average: Option<f64>,
    pub rating_count: i32,
}

const OFFER_COLUMNS: &str = "id, merchant_id, product_id, variant_id, category_id, kind, title, description,
    terms, price, face_value, currency, discount_bps, valid_from, valid_until, valid_days, total_cap,
    per_customer_cap, issued, claimable, outlets, latitude, longitude, product_status, merchant_active,
    created_at, updated_at, rating_average, rating_count";

pub async fn insert_offer(tx: &mut Tx, o: &OfferRow) -> Result<bool> {
    let sql = format!(
        "INSERT INTO vouchers_offers ({OFFER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
         $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29)
         ON CONFLICT (variant_id) DO NOTHING"
    );
    let inserted = on_tx!(tx, conn => sqlx::query(&sql)
        .bind(o.id).bind(o.merchant_id).bind(o.product_id).bind(o.variant_id).bind(o.category_id)
        .bind(&o.kind).bind(&o.title).bind(&o.description).bind(&o.terms).bind(o.price)
        .bind(o.face_value).bind(&o.currency).bind(o.discount_bps).bind(o.valid_from).bind(o.valid_until)
        .bind(o.valid_days).bind(o.total_cap).bind(o.per_customer_cap).bind(o.issued).bind(o.claimable)
        .bind(&o.outlets).bind(o.latitude).bind(o.longitude).bind(&o.product_status).bind(o.merchant_active)
        .bind(o.created_at).bind(o.updated_at).bind(o.rating_average).bind(o.rating_count)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(inserted == 1)
}

/// Writes the editable terms of an offer; the cap may not fall below what was issued.
pub async fn update_offer(tx: &mut Tx, o: &OfferRow) -> Result<bool> {
    let updated = on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_offers SET valid_until = $2, valid_days = $3, total_cap = $4, per_customer_cap = $5,
           description = $6, terms = $7, outlets = $8, latitude = $9, longitude = $10, updated_at = $11
         WHERE id = $1 AND ($4 IS NULL OR issued <= $4)"
    ).bind(o.id).bind(o.valid_until).bind(o.valid_days).bind(o.total_cap).bind(o.per_customer_cap)
     .bind(&o.description).bind(&o.terms).bind(&o.outlets).bind(o.latitude).bind(o.longitude).bind(o.updated_at)
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

pub async fn offer(db: &Db, id: Uuid) -> Result<Option<OfferRow>> {
    let sql = format!("SELECT {OFFER_COLUMNS} FROM vouchers_offers WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn offer_in(tx: &mut Tx, id: Uuid) -> Result<Option<OfferRow>> {
    let sql = format!("SELECT {OFFER_COLUMNS} FROM vouchers_offers WHERE id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

pub async fn offer_by_variant(tx: &mut Tx, variant_id: Uuid) -> Result<Option<OfferRow>> {
    let sql = format!("SELECT {OFFER_COLUMNS} FROM vouchers_offers WHERE variant_id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(variant_id).fetch_optional(conn).await)
}

/// Filters evaluated in SQL; distance and sorting by it are applied by the caller.
pub struct OfferFilter {
    pub visible_only: bool,
    pub now: i64,
    pub category_id: Option<Uuid>,
    pub merchant_id: Option<Uuid>,
    pub kind: Option<String>,
    pub claimable: Option<bool>,
    pub currency: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub valid_until_before: Option<i64>,
    /// Bounding box (min lat, max lat, min lon, max lon) around a point.
    pub bbox: Option<(f64, f64, f64, f64)>,
    /// Distance sorts are done by the caller, over the rows the box gives (newest first).
    pub sort: OfferSort,
    pub limit: i64,
    pub offset: i64,
}

pub async fn offers(db: &Db, f: &OfferFilter) -> Result<Vec<OfferRow>> {
    let bbox = f.bbox.unwrap_or((0.0, 0.0, 0.0, 0.0));
    let sql = format!(
        "SELECT {OFFER_COLUMNS} FROM vouchers_offers
         WHERE ($1 = FALSE OR (product_status = 'ACTIVE' AND merchant_active = TRUE
                AND (valid_until IS NULL OR valid_until > $2) AND (valid_from IS NULL OR valid_from <= $2)
                AND (total_cap IS NULL OR issued < total_cap)))
           AND ($3 IS NULL OR category_id = $3) AND ($4 IS NULL OR merchant_id = $4)
           AND ($5 IS NULL OR kind = $5) AND ($6 IS NULL OR claimable = $6) AND ($7 IS NULL OR currency = $7)
           AND ($8 IS NULL OR price >= $8) AND ($9 IS NULL OR price <= $9)
           AND ($10 IS NULL OR (valid_until IS NOT NULL AND valid_until <= $10))
           AND ($11 = FALSE OR (latitude BETWEEN $12 AND $13 AND longitude BETWEEN $14 AND $15))
         ORDER BY {} LIMIT $16 OFFSET $17",
        match f.sort {
            OfferSort::Newest | OfferSort::Distance => "created_at DESC, id DESC",
            OfferSort::PriceAsc => "price ASC, id ASC",
            OfferSort::PriceDesc => "price DESC, id ASC",
            OfferSort::Expiring => {
                "CASE WHEN valid_until IS NULL THEN 1 ELSE 0 END, valid_until ASC, id ASC"
            }
        }
    );
    on_db!(db, pool => sqlx::query_as(&sql)
        .bind(f.visible_only).bind(f.now).bind(f.category_id).bind(f.merchant_id).bind(&f.kind)
        .bind(f.claimable).bind(&f.currency).bind(f.min_price).bind(f.max_price).bind(f.valid_until_before)
        .bind(f.bbox.is_some()).bind(bbox.0).bind(bbox.1).bind(bbox.2).bind(bbox.3)
        .bind(f.limit).bind(f.offset)
        .fetch_all(pool).await)
}

pub async fn set_product_status(
    tx: &mut Tx,
    product_id: Uuid,
    status: &str,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_offers SET product_status = $2, updated_at = $3 WHERE product_id = $1"
    ).bind(product_id).bind(status).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// An offer's rating, as reviews last published it, unless a newer version of it was applied
/// already.
pub async fn set_rating(
    tx: &mut Tx,
    offer_id: Uuid,
    average: Option<f64>,
    count: i32,
    version: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_offers SET rating_average = $2, rating_count = $3, rating_version = $4
         WHERE id = $1 AND rating_version < $4"
    ).bind(offer_id).bind(average).bind(count).bind(version).execute(conn).await.map(|_| ()))
}

pub async fn set_merchant_active(
    tx: &mut Tx,
    merchant_id: Uuid,
    active: bool,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_offers SET merchant_active = $2, updated_at = $3 WHERE merchant_id = $1"
    ).bind(merchant_id).bind(active).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Counts `n` more issued; for claimable offers only while under the total cap.
pub async fn count_issued(tx: &mut Tx, offer_id: Uuid, n: i32, capped: bool) -> Result<bool> {
    let sql = if capped {
        "UPDATE vouchers_offers SET issued = issued + $2
         WHERE id = $1 AND (total_cap IS NULL OR issued + $2 <= total_cap)"
    } else {
        "UPDATE vouchers_offers SET issued = issued + $2 WHERE id = $1"
    };
    let updated = on_tx!(tx, conn => sqlx::query(sql).bind(offer_id).bind(n)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

/// Counts one more held by the customer; false when that would pass `cap`.
pub async fn count_holding(
    tx: &mut Tx,
    offer_id: Uuid,
    customer_id: Uuid,
    n: i32,
    cap: Option<i32>,
) -> Result<bool> {
    let updated = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO vouchers_holdings (offer_id, customer_id, count) SELECT $1, $2, $3 WHERE $4 IS NULL OR $3 <= $4
         ON CONFLICT (offer_id, customer_id) DO UPDATE SET count = vouchers_holdings.count + excluded.count
         WHERE $4 IS NULL OR vouchers_holdings.count + excluded.count <= $4"
    ).bind(offer_id).bind(customer_id).bind(n).bind(cap).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

pub async fn holding(db: &Db, offer_id: Uuid, customer_id: Uuid) -> Result<i64> {
    let count: Option<i32> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT count FROM vouchers_holdings WHERE offer_id = $1 AND customer_id = $2"
    ).bind(offer_id).bind(customer_id).fetch_optional(pool).await)?;
    Ok(count.map_or(0, i64::from))
}

pub async fn offer_of_variant(db: &Db, variant_id: Uuid) -> Result<Option<OfferRow>> {
    let sql = format!("SELECT {OFFER_COLUMNS} FROM vouchers_offers WHERE variant_id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(variant_id).fetch_optional(pool).await)
}

pub async fn save_outlet(
    tx: &mut Tx,
    outlet_id: Uuid,
    merchant_id: Uuid,
    latitude: f64,
    longitude: f64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO vouchers_outlets (outlet_id, merchant_id, latitude, longitude) VALUES ($1, $2, $3, $4)
         ON CONFLICT (outlet_id) DO UPDATE SET latitude = excluded.latitude, longitude = excluded.longitude"
    ).bind(outlet_id).bind(merchant_id).bind(latitude).bind(longitude).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn remove_outlet(tx: &mut Tx, outlet_id: Uuid) -> Result<()> {
    on_tx!(tx, conn => sqlx::query("DELETE FROM vouchers_outlets WHERE outlet_id = $1")
        .bind(outlet_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The outlet's merchant and location.
pub async fn outlet(db: &Db, outlet_id: Uuid) -> Result<Option<(Uuid, f64, f64)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT merchant_id, latitude, longitude FROM vouchers_outlets WHERE outlet_id = $1"
    ).bind(outlet_id).fetch_optional(pool).await)
}

/// Offers in id order after `after` (search's rebuild), or of the given products.
pub async fn offers_page(db: &Db, after: Option<Uuid>, limit: i64) -> Result<Vec<OfferRow>> {
    let sql = format!(
        "SELECT {OFFER_COLUMNS} FROM vouchers_offers WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(after).bind(limit).fetch_all(pool).await)
}

pub async fn offers_of_product(db: &Db, product_id: Uuid) -> Result<Vec<OfferRow>> {
    let sql =
        format!("SELECT {OFFER_COLUMNS} FROM vouchers_offers WHERE product_id = $1 ORDER BY id");
    on_db!(db, pool => sqlx::query_as(&sql).bind(product_id).fetch_all(pool).await)
}
