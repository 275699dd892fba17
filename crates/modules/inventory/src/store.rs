//! Every SQL statement of inventory, and nothing else.

use kernel::Timestamp;
use platform::db::{Db, Tx};
use platform::{on_db, on_tx, Dialect};
use uuid::Uuid;

type Result<T> = std::result::Result<T, sqlx::Error>;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub id: Uuid,
    pub merchant_id: Uuid,
    pub sku: String,
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub low_stock_threshold: i64,
}

const ITEM_COLUMNS: &str = "id, merchant_id, sku, variant_id, product_id, CAST(low_stock_threshold AS BIGINT) AS low_stock_threshold";

/// Registers a SKU (idempotent; a SKU reused after deletion points at its new variant).
pub async fn upsert_item(
    tx: &mut Tx,
    merchant_id: Uuid,
    sku: &str,
    variant_id: Uuid,
    product_id: Uuid,
    threshold: i64,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO inventory_items (id, merchant_id, sku, variant_id, product_id, low_stock_threshold, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         ON CONFLICT (merchant_id, sku) DO UPDATE SET variant_id = excluded.variant_id,
           product_id = excluded.product_id, updated_at = excluded.updated_at"
    ).bind(kernel::new_id()).bind(merchant_id).bind(sku).bind(variant_id).bind(product_id)
     .bind(threshold).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn item(db: &Db, merchant_id: Uuid, sku: &str) -> Result<Option<ItemRow>> {
    let sql =
        format!("SELECT {ITEM_COLUMNS} FROM inventory_items WHERE merchant_id = $1 AND sku = $2");
    on_db!(db, pool => sqlx::query_as(&sql).bind(merchant_id).bind(sku).fetch_optional(pool).await)
}

pub async fn item_in(tx: &mut Tx, merchant_id: Uuid, sku: &str) -> Result<Option<ItemRow>> {
    let sql =
        format!("SELECT {ITEM_COLUMNS} FROM inventory_items WHERE merchant_id = $1 AND sku = $2");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(merchant_id).bind(sku).fetch_optional(conn).await)
}

pub async fn set_threshold(
    tx: &mut Tx,
    item_id: Uuid,
    threshold: i64,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE inventory_items SET low_stock_threshold = $2, updated_at = $3 WHERE id = $1"
    ).bind(item_id).bind(threshold).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn upsert_location(
    tx: &mut Tx,
    id: Uuid,
    merchant_id: Uuid,
    name: &str,
    active: bool,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO inventory_locations (id, merchant_id, name, active, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, active = excluded.active, updated_at = excluded.updated_at"
    ).bind(id).bind(merchant_id).bind(name).bind(active).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn deactivate_location(tx: &mut Tx, id: Uuid, now: Timestamp) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE inventory_locations SET active = FALSE, updated_at = $2 WHERE id = $1"
    ).bind(id).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn location_active(tx: &mut Tx, merchant_id: Uuid, id: Uuid) -> Result<bool> {
    let found: Option<bool> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT active FROM inventory_locations WHERE id = $1 AND merchant_id = $2"
    ).bind(id).bind(merchant_id).fetch_optional(conn).await)?;
    Ok(found == Some(true))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StockRow {
    pub location_id: Uuid,
    pub name: Option<String>,
    pub on_hand: i64,
    pub reserved: i64,
}

pub async fn stock(db: &Db, item_id: Uuid) -> Result<Vec<StockRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT s.location_id, l.name, s.on_hand, s.reserved FROM inventory_stock s
         LEFT JOIN inventory_locations l ON l.id = s.location_id
         WHERE s.item_id = $1 ORDER BY s.location_id"
    ).bind(item_id).fetch_all(pool).await)
}

/// Total available of an item over its locations.
pub async fn available(tx: &mut Tx, item_id: Uuid) -> Result<i64> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(on_hand - reserved), 0) AS BIGINT) FROM inventory_stock WHERE item_id = $1"
    ).bind(item_id).fetch_one(conn).await)
}

/// Locks (PostgreSQL) and reads one stock row, creating it empty if missing.
pub async fn stock_row_for_update(
    tx: &mut Tx,
    item_id: Uuid,
    location_id: Uuid,
    now: Timestamp,
) -> Result<(i64, i64)> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO inventory_stock (item_id, location_id, on_hand, reserved, updated_at) VALUES ($1, $2, 0, 0, $3)
         ON CONFLICT (item_id, location_id) DO NOTHING"
    ).bind(item_id).bind(location_id).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    let lock = if tx.dialect() == Dialect::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let sql = format!("SELECT on_hand, reserved FROM inventory_stock WHERE item_id = $1 AND location_id = $2{lock}");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(item_id).bind(location_id).fetch_one(conn).await)
}

/// Adds to on hand and reserved of one row; the CHECK constraints refuse any negative result.
/// Returns the row after the change.
pub async fn shift(
    tx: &mut Tx,
    item_id: Uuid,
    location_id: Uuid,
    on_hand: i64,
    reserved: i64,
    now: Timestamp,
) -> Result<(i64, i64)> {
    on_tx!(tx, conn => sqlx::query_as(
        "UPDATE inventory_stock SET on_hand = on_hand + $3, reserved = reserved + $4, updated_at = $5
         WHERE item_id = $1 AND location_id = $2 RETURNING on_hand, reserved"
    ).bind(item_id).bind(location_id).bind(on_hand).bind(reserved).bind(now.millis())
     .fetch_one(conn).await)
}

/// Reserves `quantity` at the first location (main location first) that has it available, in
/// one conditional statement. None when no single location has enough (or a concurrent
/// reservation took it between the choice and the update: the caller retries).
pub async fn reserve_at_any(
    tx: &mut Tx,
    item_id: Uuid,
    main: Uuid,
    quantity: i64,
    now: Timestamp,
) -> Result<Option<(Uuid, i64, i64)>> {
    on_tx!(tx, conn => sqlx::query_as(
        "UPDATE inventory_stock SET reserved = reserved + $2, updated_at = $4
         WHERE item_id = $1 AND on_hand - reserved >= $2 AND location_id = (
           SELECT location_id FROM inventory_stock WHERE item_id = $1 AND on_hand - reserved >= $2
           ORDER BY CASE WHEN location_id = $3 THEN 0 ELSE 1 END, location_id LIMIT 1)
         RETURNING location_id, on_hand, reserved"
    ).bind(item_id).bind(quantity).bind(main).bind(now.millis()).fetch_optional(conn).await)
}

/// The most one location of the item can give now.
pub async fn best_available(tx: &mut Tx, item_id: Uuid) -> Result<i64> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(on_hand - reserved), 0) AS BIGINT) FROM inventory_stock WHERE item_id = $1"
    ).bind(item_id).fetch_one(conn).await)
}

/// The most one location of each SKU can give now, for the SKUs inventory knows (one query).
pub async fn best_available_of(
    db: &Db,
    skus: &[(Uuid, String)],
) -> Result<Vec<(Uuid, String, i64)>> {
    if skus.is_empty() {
        return Ok(Vec::new());
    }
    let pairs: Vec<String> = (0..skus.len())
        .map(|i| {
            format!(
                "(i.merchant_id = ${} AND i.sku = ${})",
                2 * i + 1,
                2 * i + 2
            )
        })
        .collect();
    let sql = format!(
        "SELECT i.merchant_id, i.sku, CAST(COALESCE(MAX(s.on_hand - s.reserved), 0) AS BIGINT)
         FROM inventory_items i LEFT JOIN inventory_stock s ON s.item_id = i.id
         WHERE {} GROUP BY i.id, i.merchant_id, i.sku",
        pairs.join(" OR ")
    );
    on_db!(db, pool => {
        let mut query = sqlx::query_as(&sql);
        for (merchant_id, sku) in skus {
            query = query.bind(*merchant_id).bind(sku.as_str());
        }
        query.fetch_all(pool).await
    })
}

#[allow(clippy::too_many_arguments)]
pub async fn movement(
    tx: &mut Tx,
    item_id: Uuid,
    location_id: Uuid,
    kind: &str,
    deltas: (i64, i64),
    after: (i64, i64),
    reason: Option<&str>,
    reference: Option<&str>,
    actor_id: Option<Uuid>,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO inventory_movements (id, item_id, location_id, kind, on_hand_delta, reserved_delta,
           on_hand_after, reserved_after, reason, reference, actor_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ).bind(kernel::new_id()).bind(item_id).bind(location_id).bind(kind).bind(deltas.0).bind(deltas.1)
     .bind(after.0).bind(after.1).bind(reason).bind(reference).bind(actor_id).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MovementRow {
    pub id: Uuid,
    pub location_id: Uuid,
    pub kind: String,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub on_hand_after: i64,
    pub reserved_after: i64,
    pub reason: Option<String>,
    pub reference: Option<String>,
    pub actor_id: Option<Uuid>,
    pub created_at: i64,
}

pub async fn movements(
    db: &Db,
    item_id: Uuid,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<MovementRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, location_id, kind, on_hand_delta, reserved_delta, on_hand_after, reserved_after,
           reason, reference, actor_id, created_at
         FROM inventory_movements WHERE item_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
    ).bind(item_id).bind(after).bind(i64::from(limit)).fetch_all(pool).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AlertRow {
    pub merchant_id: Uuid,
    pub sku: String,
    pub available: i64,
    pub low_stock_threshold: i64,
}

/// SKUs whose available stock is under their threshold, of one merchant or all.
pub async fn alerts(db: &Db, merchant_id: Option<Uuid>, limit: u32) -> Result<Vec<AlertRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT i.merchant_id, i.sku,
           CAST(COALESCE(SUM(s.on_hand - s.reserved), 0) AS BIGINT) AS available,
           CAST(i.low_stock_threshold AS BIGINT) AS low_stock_threshold
         FROM inventory_items i LEFT JOIN inventory_stock s ON s.item_id = i.id
         WHERE ($1 IS NULL OR i.merchant_id = $1)
         GROUP BY i.id, i.merchant_id, i.sku, i.low_stock_threshold
         HAVING COALESCE(SUM(s.on_hand - s.reserved), 0) < i.low_stock_threshold
         ORDER BY i.merchant_id, i.sku LIMIT $2"
    ).bind(merchant_id).bind(i64::from(limit)).fetch_all(pool).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReservationRow {
    pub id: Uuid,
    pub reference: Option<String>,
    pub status: String,
    pub request: String,
    pub expires_at: i64,
}

/// Creates the reservation; false when the id exists already.
pub async fn insert_reservation(tx: &mut Tx, r: &ReservationRow, now: Timestamp) -> Result<bool> {
    let inserted = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO inventory_reservations (id, reference, status, request, expires_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (id) DO NOTHING"
    ).bind(r.id).bind(&r.reference).bind(&r.status).bind(&r.request).bind(r.expires_at).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(inserted == 1)
}

pub async fn reservation_in(tx: &mut Tx, id: Uuid) -> Result<Option<ReservationRow>> {
    on_tx!(tx, conn => sqlx::query_as(
        "SELECT id, reference, status, request, expires_at FROM inventory_reservations WHERE id = $1"
    ).bind(id).fetch_optional(conn).await)
}

/// Moves a reservation from `from` to `to` (a concurrent step makes this affect nothing).
pub async fn set_reservation_status(
    tx: &mut Tx,
    id: Uuid,
    from: &str,
    to: &str,
    now: Timestamp,
) -> Result<bool> {
    let changed = on_tx!(tx, conn => sqlx::query(
        "UPDATE inventory_reservations SET status = $3, updated_at = $4 WHERE id = $1 AND status = $2"
    ).bind(id).bind(from).bind(to).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(changed == 1)
}

pub async fn insert_line(
    tx: &mut Tx,
    reservation_id: Uuid,
    item_id: Uuid,
    location_id: Uuid,
    quantity: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO inventory_reservation_lines (reservation_id, item_id, location_id, quantity) VALUES ($1, $2, $3, $4)"
    ).bind(reservation_id).bind(item_id).bind(location_id).bind(quantity)
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LineRow {
    pub item_id: Uuid,
    pub merchant_id: Uuid,
    pub sku: String,
    pub variant_id: Uuid,
    pub low_stock_threshold: i64,
    pub location_id: Uuid,
    pub quantity: i64,
}

pub async fn lines(tx: &mut Tx, reservation_id: Uuid) -> Result<Vec<LineRow>> {
    on_tx!(tx, conn => sqlx::query_as(
        "SELECT l.item_id, i.merchant_id, i.sku, i.variant_id, CAST(i.low_stock_threshold AS BIGINT) AS low_stock_threshold,
           l.location_id, l.quantity
         FROM inventory_reservation_lines l JOIN inventory_items i ON i.id = l.item_id
         WHERE l.reservation_id = $1 ORDER BY i.merchant_id, i.sku, l.location_id"
    ).bind(reservation_id).fetch_all(conn).await)
}

pub async fn expired_reservations(db: &Db, now: Timestamp, limit: i64) -> Result<Vec<Uuid>> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT id FROM inventory_reservations WHERE status = 'ACTIVE' AND expires_at <= $1 ORDER BY expires_at LIMIT $2"
    ).bind(now.millis()).bind(limit).fetch_all(pool).await)
}
