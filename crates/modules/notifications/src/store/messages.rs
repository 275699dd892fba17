//! Deliveries (one per event, channel and destination) and the in-app inbox.

use kernel::Timestamp;
use platform::db::{Db, Tx};
use platform::{on_db, on_tx, on_write};
use uuid::Uuid;

use super::Result;

pub struct NewDelivery<'a> {
    pub id: Uuid,
    pub event_id: Uuid,
    pub user_id: Option<Uuid>,
    pub channel: &'a str,
    pub destination: &'a str,
    pub template: &'a str,
    pub locale: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub status: &'a str,
    pub now: Timestamp,
}

/// Records a delivery unless this (event, channel, destination) already has one. Returns
/// whether it was new.
pub async fn insert_delivery(tx: &mut Tx, d: &NewDelivery<'_>) -> Result<bool> {
    let inserted = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO notifications_deliveries (id, event_id, user_id, channel, destination, template, locale, title, body, status, created_at, sent_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, CASE WHEN $10 = 'SENT' THEN $11 ELSE NULL END)
         ON CONFLICT (event_id, channel, destination) DO NOTHING"
    )
    .bind(d.id)
    .bind(d.event_id)
    .bind(d.user_id)
    .bind(d.channel)
    .bind(d.destination)
    .bind(d.template)
    .bind(d.locale)
    .bind(d.title)
    .bind(d.body)
    .bind(d.status)
    .bind(d.now.millis())
    .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(inserted == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub event_id: Uuid,
    pub user_id: Option<Uuid>,
    pub channel: String,
    pub destination: String,
    pub template: String,
    pub locale: String,
    pub title: String,
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

const DELIVERY_COLUMNS: &str = "id, event_id, user_id, channel, destination, template, locale, title, body, status, attempts, last_error, created_at, sent_at";

pub async fn delivery(db: &Db, id: Uuid) -> Result<Option<DeliveryRow>> {
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM notifications_deliveries WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn deliveries(
    db: &Db,
    status: Option<&str>,
    before: Option<Uuid>,
    limit: u32,
) -> Result<Vec<DeliveryRow>> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM notifications_deliveries
         WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(status).bind(before).bind(i64::from(limit)).fetch_all(pool).await)
}

/// Records an attempt's outcome. `status` is SENT, PENDING (will retry) or FAILED (gave up).
pub async fn record_attempt(
    db: &Db,
    id: Uuid,
    status: &str,
    error: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    on_write!(db, conn => sqlx::query(
        "UPDATE notifications_deliveries SET status = $2, attempts = attempts + 1, last_error = $3,
           sent_at = CASE WHEN $2 = 'SENT' THEN $4 ELSE sent_at END
         WHERE id = $1 AND status = 'PENDING'"
    ).bind(id).bind(status).bind(error).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn insert_inbox(
    tx: &mut Tx,
    id: Uuid,
    user_id: Uuid,
    category: &str,
    title: &str,
    body: &str,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO notifications_inbox (id, user_id, category, title, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
    ).bind(id).bind(user_id).bind(category).bind(title).bind(body).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InboxRow {
    pub id: Uuid,
    pub category: String,
    pub title: String,
    pub body: String,
    pub read_at: Option<i64>,
    pub created_at: i64,
}

pub async fn inbox(
    db: &Db,
    user_id: Uuid,
    before: Option<Uuid>,
    limit: u32,
) -> Result<Vec<InboxRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, category, title, body, read_at, created_at FROM notifications_inbox
         WHERE user_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
    ).bind(user_id).bind(before).bind(i64::from(limit)).fetch_all(pool).await)
}

pub async fn unread_count(db: &Db, user_id: Uuid) -> Result<i64> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications_inbox WHERE user_id = $1 AND read_at IS NULL"
    ).bind(user_id).fetch_one(pool).await)
}

/// Marks one message read; None when the user has no such message.
pub async fn mark_read(
    db: &Db,
    user_id: Uuid,
    id: Uuid,
    now: Timestamp,
) -> Result<Option<InboxRow>> {
    on_db!(db, pool => sqlx::query_as(
        "UPDATE notifications_inbox SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND user_id = $2
         RETURNING id, category, title, body, read_at, created_at"
    ).bind(id).bind(user_id).bind(now.millis()).fetch_optional(pool).await)
}

pub async fn mark_all_read(db: &Db, user_id: Uuid, now: Timestamp) -> Result<u64> {
    on_write!(db, conn => sqlx::query(
        "UPDATE notifications_inbox SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL"
    ).bind(user_id).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))
}
