//! Every SQL statement of vouchers, and nothing else.

use kernel::Timestamp;
use platform::db::{Db, Tx};
use platform::{on_db, on_tx, on_write};
use uuid::Uuid;

use crate::api::OfferSort;

type Result<T> = std::result::Result<T, sqlx::Error>;

// --- offers ---

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
}

const OFFER_COLUMNS: &str = "id, merchant_id, product_id, variant_id, category_id, kind, title, description,
    terms, price, face_value, currency, discount_bps, valid_from, valid_until, valid_days, total_cap,
    per_customer_cap, issued, claimable, outlets, latitude, longitude, product_status, merchant_active,
    created_at, updated_at";

pub async fn insert_offer(db: &Db, o: &OfferRow) -> Result<bool> {
    let sql = format!(
        "INSERT INTO vouchers_offers ({OFFER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
         $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)
         ON CONFLICT (variant_id) DO NOTHING"
    );
    let inserted = on_write!(db, conn => sqlx::query(&sql)
        .bind(o.id).bind(o.merchant_id).bind(o.product_id).bind(o.variant_id).bind(o.category_id)
        .bind(&o.kind).bind(&o.title).bind(&o.description).bind(&o.terms).bind(o.price)
        .bind(o.face_value).bind(&o.currency).bind(o.discount_bps).bind(o.valid_from).bind(o.valid_until)
        .bind(o.valid_days).bind(o.total_cap).bind(o.per_customer_cap).bind(o.issued).bind(o.claimable)
        .bind(&o.outlets).bind(o.latitude).bind(o.longitude).bind(&o.product_status).bind(o.merchant_active)
        .bind(o.created_at).bind(o.updated_at)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(inserted == 1)
}

/// Writes the editable terms of an offer; the cap may not fall below what was issued.
pub async fn update_offer(db: &Db, o: &OfferRow) -> Result<bool> {
    let updated = on_write!(db, conn => sqlx::query(
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

// --- outlets ---

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

// --- instances ---

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InstanceRow {
    pub id: Uuid,
    pub offer_id: Uuid,
    pub merchant_id: Uuid,
    pub owner_id: Uuid,
    pub kind: String,
    pub code: String,
    pub pin: String,
    pub status: String,
    pub version: i64,
    pub face_value: i64,
    pub balance: i64,
    pub currency: String,
    pub paid_amount: i64,
    pub commission: i64,
    pub earned: i64,
    pub commission_earned: i64,
    pub source: String,
    pub issue_key: Option<String>,
    pub order_id: Option<Uuid>,
    pub group_id: Option<Uuid>,
    pub payment_id: Option<Uuid>,
    pub gifted_from: Option<Uuid>,
    pub received_at: i64,
    pub expires_at: i64,
    pub failed_pins: i32,
    pub locked: bool,
    pub created_at: i64,
}

const INSTANCE_COLUMNS: &str = "id, offer_id, merchant_id, owner_id, kind, code, pin, status, version,
    face_value, balance, currency, paid_amount, commission, earned, commission_earned, source, issue_key,
    order_id, group_id, payment_id, gifted_from, received_at, expires_at, failed_pins, locked, created_at";

/// Inserts an instance; false when its issue key was already used (a redelivered payment).
pub async fn insert_instance(tx: &mut Tx, i: &InstanceRow) -> Result<bool> {
    let sql = format!(
        "INSERT INTO vouchers_instances ({INSTANCE_COLUMNS}, reminded, updated_at) VALUES ($1, $2, $3, $4,
         $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25,
         $26, $27, FALSE, $27) ON CONFLICT (issue_key) DO NOTHING"
    );
    let inserted = on_tx!(tx, conn => sqlx::query(&sql)
        .bind(i.id).bind(i.offer_id).bind(i.merchant_id).bind(i.owner_id).bind(&i.kind).bind(&i.code)
        .bind(&i.pin).bind(&i.status).bind(i.version).bind(i.face_value).bind(i.balance).bind(&i.currency)
        .bind(i.paid_amount).bind(i.commission).bind(i.earned).bind(i.commission_earned).bind(&i.source)
        .bind(&i.issue_key).bind(i.order_id).bind(i.group_id).bind(i.payment_id).bind(i.gifted_from)
        .bind(i.received_at).bind(i.expires_at).bind(i.failed_pins).bind(i.locked).bind(i.created_at)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(inserted == 1)
}

pub async fn instance(db: &Db, id: Uuid) -> Result<Option<InstanceRow>> {
    let sql = format!("SELECT {INSTANCE_COLUMNS} FROM vouchers_instances WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn instance_in(tx: &mut Tx, id: Uuid) -> Result<Option<InstanceRow>> {
    let sql = format!("SELECT {INSTANCE_COLUMNS} FROM vouchers_instances WHERE id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

pub async fn instance_by_code(db: &Db, code: &str) -> Result<Option<InstanceRow>> {
    let sql = format!("SELECT {INSTANCE_COLUMNS} FROM vouchers_instances WHERE code = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(code).fetch_optional(pool).await)
}

pub async fn instances_of_order(tx: &mut Tx, order_id: Uuid) -> Result<Vec<InstanceRow>> {
    let sql = format!("SELECT {INSTANCE_COLUMNS} FROM vouchers_instances WHERE order_id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(order_id).fetch_all(conn).await)
}

pub async fn wallet(
    db: &Db,
    owner_id: Uuid,
    status: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<InstanceRow>> {
    let sql = format!(
        "SELECT {INSTANCE_COLUMNS} FROM vouchers_instances WHERE owner_id = $1 AND ($2 IS NULL OR status = $2)
         AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(owner_id).bind(status).bind(after).bind(limit)
        .fetch_all(pool).await)
}

/// The redemption itself: takes `amount` from the balance only if the instance is still live,
/// at `version`, and at the balance the checks saw (so what it earns is computed on the right
/// state). One statement, so parallel redeems of one
/// voucher cannot both pass.
#[allow(clippy::too_many_arguments)]
pub async fn take_balance(
    tx: &mut Tx,
    id: Uuid,
    version: i64,
    expected_balance: i64,
    amount: i64,
    earned: i64,
    commission: i64,
    now: Timestamp,
) -> Result<bool> {
    let updated = on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_instances SET balance = balance - $3,
           status = CASE WHEN balance - $3 = 0 THEN 'REDEEMED' ELSE 'PARTIALLY_REDEEMED' END,
           earned = earned + $4, commission_earned = commission_earned + $5, updated_at = $6
         WHERE id = $1 AND version = $2 AND status IN ('ACTIVE', 'PARTIALLY_REDEEMED') AND balance >= $3
           AND expires_at > $6 AND balance = $7"
    ).bind(id).bind(version).bind(amount).bind(earned).bind(commission).bind(now.millis()).bind(expected_balance)
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

/// Gives back a held amount (a redemption rejected in review).
pub async fn restore_balance(
    tx: &mut Tx,
    id: Uuid,
    amount: i64,
    earned: i64,
    commission: i64,
    now: Timestamp,
) -> Result<bool> {
    let updated = on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_instances SET balance = balance + $2,
           status = CASE WHEN balance + $2 = face_value THEN 'ACTIVE' ELSE 'PARTIALLY_REDEEMED' END,
           earned = earned - $3, commission_earned = commission_earned - $4, updated_at = $5
         WHERE id = $1 AND status IN ('PARTIALLY_REDEEMED', 'REDEEMED') AND balance + $2 <= face_value"
    ).bind(id).bind(amount).bind(earned).bind(commission).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

/// Moves a live instance at `version` to `status` and bumps its version (its QR codes stop
/// working); false if it changed meanwhile.
pub async fn close_instance(
    tx: &mut Tx,
    id: Uuid,
    version: i64,
    from: &[&str],
    status: &str,
    now: Timestamp,
) -> Result<bool> {
    let list = from
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE vouchers_instances SET status = $3, version = version + 1, updated_at = $4
         WHERE id = $1 AND version = $2 AND status IN ({list})"
    );
    let updated = on_tx!(tx, conn => sqlx::query(&sql).bind(id).bind(version).bind(status)
        .bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

/// What a PIN guess found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinCheck {
    Right,
    /// Wrong; the count of wrong guesses in a row, this one included.
    Wrong(i32),
    /// Locked before this guess: it was not compared.
    Locked,
}

/// Compares `guess` with the instance's PIN and counts it when wrong, locking at `limit`, in
/// one statement on a voucher that is not locked: guesses sent in one burst are compared one
/// after the other, and none is compared once a wrong one locked the voucher.
pub async fn check_pin(
    db: &Db,
    id: Uuid,
    guess: &str,
    limit: i32,
    now: Timestamp,
) -> Result<PinCheck> {
    let row: Option<(bool, i32)> = on_write!(db, conn => sqlx::query_as(
        "UPDATE vouchers_instances SET
           failed_pins = CASE WHEN pin = $2 THEN failed_pins ELSE failed_pins + 1 END,
           locked = CASE WHEN pin = $2 THEN locked ELSE failed_pins + 1 >= $3 END,
           updated_at = $4
         WHERE id = $1 AND NOT locked
         RETURNING pin = $2, failed_pins"
    ).bind(id).bind(guess).bind(limit).bind(now.millis()).fetch_optional(conn).await)?;
    Ok(match row {
        None => PinCheck::Locked,
        Some((true, _)) => PinCheck::Right,
        Some((false, failed)) => PinCheck::Wrong(failed),
    })
}

pub async fn reset_wrong_pins(tx: &mut Tx, id: Uuid) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_instances SET failed_pins = 0 WHERE id = $1 AND failed_pins > 0 AND NOT locked"
    ).bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn expired_candidates(db: &Db, now: Timestamp, limit: i64) -> Result<Vec<InstanceRow>> {
    let sql = format!(
        "SELECT {INSTANCE_COLUMNS} FROM vouchers_instances
         WHERE status IN ('ACTIVE', 'PARTIALLY_REDEEMED') AND expires_at <= $1 ORDER BY expires_at LIMIT $2"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(now.millis()).bind(limit).fetch_all(pool).await)
}

pub async fn expire(tx: &mut Tx, id: Uuid, now: Timestamp) -> Result<bool> {
    let updated = on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_instances SET status = 'EXPIRED', version = version + 1, updated_at = $2
         WHERE id = $1 AND status IN ('ACTIVE', 'PARTIALLY_REDEEMED') AND expires_at <= $2"
    ).bind(id).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

pub async fn reminder_candidates(
    db: &Db,
    horizon: Timestamp,
    limit: i64,
) -> Result<Vec<InstanceRow>> {
    let sql = format!(
        "SELECT {INSTANCE_COLUMNS} FROM vouchers_instances
         WHERE status IN ('ACTIVE', 'PARTIALLY_REDEEMED') AND reminded = FALSE AND expires_at <= $1
         ORDER BY expires_at LIMIT $2"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(horizon.millis()).bind(limit).fetch_all(pool).await)
}

pub async fn mark_reminded(tx: &mut Tx, id: Uuid) -> Result<bool> {
    let updated = on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_instances SET reminded = TRUE WHERE id = $1 AND reminded = FALSE"
    ).bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

// --- gifts ---

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GiftRow {
    pub id: Uuid,
    pub instance_id: Uuid,
    pub from_customer: Uuid,
    pub to_email: Option<String>,
    pub to_phone: Option<String>,
    pub message: Option<String>,
    pub status: String,
    pub new_instance_id: Option<Uuid>,
    pub created_at: i64,
}

const GIFT_COLUMNS: &str =
    "id, instance_id, from_customer, to_email, to_phone, message, status, new_instance_id, created_at";

pub async fn insert_gift(tx: &mut Tx, g: &GiftRow, token_hash: &str) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO vouchers_gifts (id, instance_id, from_customer, to_email, to_phone, message, token_hash,
           status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'PENDING', $8)"
    ).bind(g.id).bind(g.instance_id).bind(g.from_customer).bind(&g.to_email).bind(&g.to_phone)
     .bind(&g.message).bind(token_hash).bind(g.created_at).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn gift_by_token(tx: &mut Tx, token_hash: &str) -> Result<Option<GiftRow>> {
    let sql = format!("SELECT {GIFT_COLUMNS} FROM vouchers_gifts WHERE token_hash = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(token_hash).fetch_optional(conn).await)
}

pub async fn gift_in(tx: &mut Tx, id: Uuid) -> Result<Option<GiftRow>> {
    let sql = format!("SELECT {GIFT_COLUMNS} FROM vouchers_gifts WHERE id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

pub async fn gifts_from(db: &Db, customer: Uuid) -> Result<Vec<GiftRow>> {
    let sql = format!(
        "SELECT {GIFT_COLUMNS} FROM vouchers_gifts WHERE from_customer = $1 ORDER BY created_at DESC LIMIT 100"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(customer).fetch_all(pool).await)
}

/// The gift of `instance_id` still waiting for its recipient, if any.
pub async fn pending_gift_of(tx: &mut Tx, instance_id: Uuid) -> Result<Option<GiftRow>> {
    let sql = format!(
        "SELECT {GIFT_COLUMNS} FROM vouchers_gifts WHERE instance_id = $1 AND status = 'PENDING'"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(instance_id).fetch_optional(conn).await)
}

/// Remembers that `order_id`'s vouchers were voided; false if it already was.
pub async fn mark_order_voided(tx: &mut Tx, order_id: Uuid, now: Timestamp) -> Result<bool> {
    let inserted = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO vouchers_voided_orders (order_id, voided_at) VALUES ($1, $2)
         ON CONFLICT (order_id) DO NOTHING"
    ).bind(order_id).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(inserted == 1)
}

pub async fn order_voided(tx: &mut Tx, order_id: Uuid) -> Result<bool> {
    let found: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT voided_at FROM vouchers_voided_orders WHERE order_id = $1"
    ).bind(order_id).fetch_optional(conn).await)?;
    Ok(found.is_some())
}

pub async fn decide_gift(
    tx: &mut Tx,
    id: Uuid,
    status: &str,
    accepted_by: Option<Uuid>,
    new_instance: Option<Uuid>,
    now: Timestamp,
) -> Result<bool> {
    let updated = on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_gifts SET status = $2, accepted_by = $3, new_instance_id = $4, decided_at = $5
         WHERE id = $1 AND status = 'PENDING'"
    ).bind(id).bind(status).bind(accepted_by).bind(new_instance).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

// --- redemptions and fraud ---

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RedemptionRow {
    pub id: Uuid,
    pub instance_id: Uuid,
    pub merchant_id: Uuid,
    pub outlet_id: Uuid,
    pub owner_id: Uuid,
    pub cashier_id: Uuid,
    pub device_id: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub method: String,
    pub amount: i64,
    pub earned: i64,
    pub commission: i64,
    pub status: String,
    pub score: i32,
    pub hits: String,
    pub rule_version: i64,
    pub created_at: i64,
    pub decided_at: Option<i64>,
}

const REDEMPTION_COLUMNS: &str = "id, instance_id, merchant_id, outlet_id, owner_id, cashier_id, device_id,
    latitude, longitude, method, amount, earned, commission, status, score, hits, rule_version, created_at, decided_at";

pub async fn insert_redemption(tx: &mut Tx, r: &RedemptionRow) -> Result<()> {
    let sql = format!(
        "INSERT INTO vouchers_redemptions ({REDEMPTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
         $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    );
    on_tx!(tx, conn => sqlx::query(&sql)
        .bind(r.id).bind(r.instance_id).bind(r.merchant_id).bind(r.outlet_id).bind(r.owner_id)
        .bind(r.cashier_id).bind(&r.device_id).bind(r.latitude).bind(r.longitude).bind(&r.method)
        .bind(r.amount).bind(r.earned).bind(r.commission).bind(&r.status).bind(r.score).bind(&r.hits)
        .bind(r.rule_version).bind(r.created_at).bind(r.decided_at)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn redemption_in(tx: &mut Tx, id: Uuid) -> Result<Option<RedemptionRow>> {
    let sql = format!("SELECT {REDEMPTION_COLUMNS} FROM vouchers_redemptions WHERE id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

pub async fn redemptions(
    db: &Db,
    merchant_id: Option<Uuid>,
    owner_id: Option<Uuid>,
    status: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<RedemptionRow>> {
    let sql = format!(
        "SELECT {REDEMPTION_COLUMNS} FROM vouchers_redemptions WHERE ($1 IS NULL OR merchant_id = $1)
         AND ($2 IS NULL OR owner_id = $2) AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR id < $4)
         ORDER BY id DESC LIMIT $5"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(merchant_id).bind(owner_id).bind(status).bind(after)
        .bind(limit).fetch_all(pool).await)
}

pub async fn has_pending_review(db: &Db, instance_id: Uuid) -> Result<bool> {
    let n: i64 = on_db!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM vouchers_redemptions WHERE instance_id = $1 AND status = 'PENDING_REVIEW'"
    ).bind(instance_id).fetch_one(pool).await)?;
    Ok(n > 0)
}

/// The owner's vouchers with a redemption waiting for review (one query for a wallet page).
pub async fn pending_reviews_of(db: &Db, owner_id: Uuid) -> Result<Vec<Uuid>> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT DISTINCT instance_id FROM vouchers_redemptions WHERE owner_id = $1 AND status = 'PENDING_REVIEW'"
    ).bind(owner_id).fetch_all(pool).await)
}

pub async fn decide_redemption(
    tx: &mut Tx,
    id: Uuid,
    from: &str,
    to: &str,
    now: Timestamp,
) -> Result<bool> {
    let updated = on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_redemptions SET status = $3, decided_at = $4 WHERE id = $1 AND status = $2"
    ).bind(id).bind(from).bind(to).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

/// Sets what an approved-after-block redemption earned.
pub async fn set_redemption_earning(
    tx: &mut Tx,
    id: Uuid,
    earned: i64,
    commission: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_redemptions SET earned = $2, commission = $3 WHERE id = $1"
    ).bind(id).bind(earned).bind(commission).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The counts the fraud rules need, in one round trip. Each count stops at its cap (a rule
/// only asks "more than max?"), so the cost per redemption stays bounded however busy a
/// device, outlet or merchant is.
#[derive(Debug, sqlx::FromRow)]
pub struct SignalCounts {
    pub device_recent: i64,
    pub device_known: i64,
    pub outlet_recent: i64,
    pub owner_recent: i64,
    pub failed_recent: i64,
    pub history: i64,
    pub average: Option<f64>,
}

/// Since when, and up to how many, each windowed count looks.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub since: i64,
    pub cap: i64,
}

#[allow(clippy::too_many_arguments)]
pub async fn signal_counts(
    db: &Db,
    merchant_id: Uuid,
    device_id: &str,
    outlet_id: Uuid,
    owner_id: Uuid,
    instance_id: Uuid,
    device: Window,
    outlet: Window,
    owner: Window,
    failed: Window,
    history_cap: i64,
) -> Result<SignalCounts> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT
           (SELECT COUNT(*) FROM (SELECT 1 FROM vouchers_redemptions WHERE merchant_id = $1 AND device_id = $2
              AND created_at >= $6 LIMIT $7) d) AS device_recent,
           (SELECT COUNT(*) FROM (SELECT 1 FROM vouchers_redemptions WHERE merchant_id = $1 AND device_id = $2
              LIMIT 1) k) AS device_known,
           (SELECT COUNT(*) FROM (SELECT 1 FROM vouchers_redemptions WHERE outlet_id = $3 AND created_at >= $8
              LIMIT $9) o) AS outlet_recent,
           (SELECT COUNT(*) FROM (SELECT 1 FROM vouchers_redemptions WHERE owner_id = $4 AND created_at >= $10
              LIMIT $11) c) AS owner_recent,
           (SELECT COUNT(*) FROM (SELECT 1 FROM vouchers_attempts WHERE (instance_id = $5
              OR (merchant_id = $1 AND device_id = $2)) AND created_at >= $12 LIMIT $13) f) AS failed_recent,
           (SELECT COUNT(*) FROM (SELECT 1 FROM vouchers_redemptions WHERE merchant_id = $1 AND status = 'APPROVED'
              LIMIT $14) h) AS history,
           (SELECT CAST(AVG(amount) AS DOUBLE PRECISION) FROM (SELECT amount FROM vouchers_redemptions
              WHERE merchant_id = $1 AND status = 'APPROVED' ORDER BY created_at DESC LIMIT 200) recent) AS average"
    ).bind(merchant_id).bind(device_id).bind(outlet_id).bind(owner_id).bind(instance_id)
     .bind(device.since).bind(device.cap).bind(outlet.since).bind(outlet.cap).bind(owner.since).bind(owner.cap)
     .bind(failed.since).bind(failed.cap).bind(history_cap)
     .fetch_one(pool).await)
}

pub async fn record_attempt(
    db: &Db,
    merchant_id: Uuid,
    device_id: &str,
    instance_id: Option<Uuid>,
    reason: &str,
    now: Timestamp,
) -> Result<()> {
    on_write!(db, conn => sqlx::query(
        "INSERT INTO vouchers_attempts (id, merchant_id, device_id, instance_id, reason, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)"
    ).bind(kernel::new_id()).bind(merchant_id).bind(device_id).bind(instance_id).bind(reason)
     .bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn latest_rules(db: &Db) -> Result<Option<(i64, String, i64)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT version, rules, created_at FROM vouchers_fraud_rules ORDER BY version DESC LIMIT 1"
    ).fetch_optional(pool).await)
}

/// Stores the next rule version; false if another admin stored it first.
pub async fn insert_rules(
    db: &Db,
    version: i64,
    rules: &str,
    by: Uuid,
    now: Timestamp,
) -> Result<bool> {
    let inserted = on_write!(db, conn => sqlx::query(
        "INSERT INTO vouchers_fraud_rules (version, rules, created_by, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (version) DO NOTHING"
    ).bind(version).bind(rules).bind(by).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(inserted == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseRow {
    pub id: Uuid,
    pub redemption_id: Uuid,
    pub status: String,
    pub score: i32,
    pub created_at: i64,
    pub decided_at: Option<i64>,
}

pub async fn insert_case(
    tx: &mut Tx,
    id: Uuid,
    redemption: &RedemptionRow,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO vouchers_fraud_cases (id, redemption_id, instance_id, merchant_id, score, status, created_at)
         VALUES ($1, $2, $3, $4, $5, 'OPEN', $6)"
    ).bind(id).bind(redemption.id).bind(redemption.instance_id).bind(redemption.merchant_id)
     .bind(redemption.score).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

const CASE_COLUMNS: &str = "id, redemption_id, status, score, created_at, decided_at";

pub async fn case_in(tx: &mut Tx, id: Uuid) -> Result<Option<CaseRow>> {
    let sql = format!("SELECT {CASE_COLUMNS} FROM vouchers_fraud_cases WHERE id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

pub async fn case(db: &Db, id: Uuid) -> Result<Option<CaseRow>> {
    let sql = format!("SELECT {CASE_COLUMNS} FROM vouchers_fraud_cases WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn case_of_redemption(db: &Db, redemption_id: Uuid) -> Result<Option<Uuid>> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT id FROM vouchers_fraud_cases WHERE redemption_id = $1"
    ).bind(redemption_id).fetch_optional(pool).await)
}

pub async fn cases(
    db: &Db,
    status: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<CaseRow>> {
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM vouchers_fraud_cases WHERE ($1 IS NULL OR status = $1)
         AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(status).bind(after).bind(limit).fetch_all(pool).await)
}

pub async fn decide_case(tx: &mut Tx, id: Uuid, status: &str, now: Timestamp) -> Result<bool> {
    let updated = on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_fraud_cases SET status = $2, decided_at = $3 WHERE id = $1 AND status = 'OPEN'"
    ).bind(id).bind(status).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

pub async fn log_case(
    tx: &mut Tx,
    case_id: Uuid,
    actor: Option<Uuid>,
    action: &str,
    note: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO vouchers_case_log (case_id, seq, actor_id, action, note, created_at)
         SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5 FROM vouchers_case_log WHERE case_id = $1"
    ).bind(case_id).bind(actor).bind(action).bind(note).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn case_log(
    db: &Db,
    case_id: Uuid,
) -> Result<Vec<(Option<Uuid>, String, Option<String>, i64)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT actor_id, action, note, created_at FROM vouchers_case_log WHERE case_id = $1 ORDER BY seq"
    ).bind(case_id).fetch_all(pool).await)
}

pub async fn redemption(db: &Db, id: Uuid) -> Result<Option<RedemptionRow>> {
    let sql = format!("SELECT {REDEMPTION_COLUMNS} FROM vouchers_redemptions WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}
