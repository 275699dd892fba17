//! Shipments: created once per order, taken for a change, moved, read.

use super::*;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShipmentRow {
    pub id: Uuid,
    pub order_id: Uuid,
    pub order_number: String,
    pub merchant_id: Uuid,
    pub customer_id: Uuid,
    pub courier_code: String,
    pub service: String,
    pub tracking_number: String,
    pub status: String,
    pub status_at: i64,
    pub weight_grams: i64,
    pub chargeable_weight_grams: Option<i64>,
    pub shipping_amount: Option<i64>,
    pub currency: Option<String>,
    /// JSON.
    pub sender: String,
    /// JSON.
    pub recipient: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub delivered_at: Option<i64>,
}

const COLUMNS: &str = "id, order_id, order_number, merchant_id, customer_id, courier_code, service,
    tracking_number, status, status_at, weight_grams, chargeable_weight_grams, shipping_amount,
    currency, sender, recipient, created_at, updated_at, delivered_at";

/// Writes a new shipment; false (nothing written) when the order has one already or the
/// courier's tracking number is taken: the caller tells which.
pub async fn insert_shipment(tx: &mut Tx, s: &ShipmentRow) -> Result<bool> {
    let sql = format!(
        "INSERT INTO shipping_shipments ({COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
         ON CONFLICT DO NOTHING"
    );
    let done = on_tx!(tx, conn => sqlx::query(&sql)
        .bind(s.id).bind(s.order_id).bind(&s.order_number).bind(s.merchant_id).bind(s.customer_id)
        .bind(&s.courier_code).bind(&s.service).bind(&s.tracking_number).bind(&s.status)
        .bind(s.status_at).bind(s.weight_grams).bind(s.chargeable_weight_grams)
        .bind(s.shipping_amount).bind(&s.currency).bind(&s.sender).bind(&s.recipient)
        .bind(s.created_at).bind(s.updated_at).bind(s.delivered_at)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn shipment(db: &Db, id: Uuid) -> Result<Option<ShipmentRow>> {
    let sql = format!("SELECT {COLUMNS} FROM shipping_shipments WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn shipment_of_order(db: &Db, order_id: Uuid) -> Result<Option<ShipmentRow>> {
    let sql = format!("SELECT {COLUMNS} FROM shipping_shipments WHERE order_id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(order_id).fetch_optional(pool).await)
}

pub async fn order_has_shipment(tx: &mut Tx, order_id: Uuid) -> Result<bool> {
    let found: Option<Uuid> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT id FROM shipping_shipments WHERE order_id = $1"
    ).bind(order_id).fetch_optional(conn).await)?;
    Ok(found.is_some())
}

/// Takes the courier's shipment with this tracking number for a change: on PostgreSQL its row
/// stays locked until the transaction ends (SQLite's transaction holds the write lock
/// already), so concurrent reports of one shipment apply one after the other.
pub async fn take_by_tracking(
    tx: &mut Tx,
    courier: &str,
    tracking_number: &str,
) -> Result<Option<ShipmentRow>> {
    let sql = format!(
        "UPDATE shipping_shipments SET version = version + 1
         WHERE courier_code = $1 AND tracking_number = $2 RETURNING {COLUMNS}"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(courier).bind(tracking_number)
        .fetch_optional(conn).await)
}

/// The shipment's new status (taken first with [`take_by_tracking`]).
pub async fn move_shipment(
    tx: &mut Tx,
    id: Uuid,
    status: &str,
    status_at: i64,
    delivered_at: Option<i64>,
    now: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE shipping_shipments SET status = $2, status_at = $3,
            delivered_at = COALESCE($4, delivered_at), updated_at = $5
         WHERE id = $1"
    ).bind(id).bind(status).bind(status_at).bind(delivered_at).bind(now)
        .execute(conn).await.map(|_| ()))
}
