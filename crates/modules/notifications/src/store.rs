//! Every SQL statement of notifications, and nothing else.

use kernel::Timestamp;
use platform::db::{Db, Tx};
use platform::{on_db, on_tx, on_write};
use uuid::Uuid;

type Result<T> = std::result::Result<T, sqlx::Error>;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecipientRow {
    pub email: Option<String>,
    pub locale: String,
}

pub async fn upsert_contact(
    tx: &mut Tx,
    user_id: Uuid,
    email: Option<&str>,
    phone: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO notifications_recipients (user_id, email, phone, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, phone = excluded.phone, updated_at = excluded.updated_at"
    ).bind(user_id).bind(email).bind(phone).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn recipient(tx: &mut Tx, user_id: Uuid) -> Result<Option<RecipientRow>> {
    on_tx!(tx, conn => sqlx::query_as(
        "SELECT email, locale FROM notifications_recipients WHERE user_id = $1"
    ).bind(user_id).fetch_optional(conn).await)
}

pub async fn locale_of(db: &Db, user_id: Uuid) -> Result<Option<String>> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT locale FROM notifications_recipients WHERE user_id = $1"
    ).bind(user_id).fetch_optional(pool).await)
}

pub async fn set_locale(tx: &mut Tx, user_id: Uuid, locale: &str, now: Timestamp) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO notifications_recipients (user_id, locale, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET locale = excluded.locale, updated_at = excluded.updated_at"
    ).bind(user_id).bind(locale).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// `(category, channel, enabled)` choices of a user.
pub async fn choices(tx: &mut Tx, user_id: Uuid) -> Result<Vec<(String, String, bool)>> {
    on_tx!(tx, conn => sqlx::query_as(
        "SELECT category, channel, enabled FROM notifications_preferences WHERE user_id = $1"
    ).bind(user_id).fetch_all(conn).await)
}

pub async fn choices_of(db: &Db, user_id: Uuid) -> Result<Vec<(String, String, bool)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT category, channel, enabled FROM notifications_preferences WHERE user_id = $1"
    ).bind(user_id).fetch_all(pool).await)
}

pub async fn set_choice(
    tx: &mut Tx,
    user_id: Uuid,
    category: &str,
    channel: &str,
    enabled: bool,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO notifications_preferences (user_id, category, channel, enabled) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, category, channel) DO UPDATE SET enabled = excluded.enabled"
    ).bind(user_id).bind(category).bind(channel).bind(enabled).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn device_tokens(tx: &mut Tx, user_id: Uuid) -> Result<Vec<String>> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT token FROM notifications_devices WHERE user_id = $1 ORDER BY created_at"
    ).bind(user_id).fetch_all(conn).await)
}

/// A device token belongs to the last user who registered it (phones change hands).
pub async fn register_device(
    db: &Db,
    user_id: Uuid,
    token: &str,
    platform: &str,
    now: Timestamp,
) -> Result<()> {
    on_write!(db, conn => sqlx::query(
        "INSERT INTO notifications_devices (token, user_id, platform, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (token) DO UPDATE SET user_id = excluded.user_id, platform = excluded.platform, created_at = excluded.created_at"
    ).bind(token).bind(user_id).bind(platform).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn remove_device(db: &Db, user_id: Uuid, token: &str) -> Result<u64> {
    on_write!(db, conn => sqlx::query(
        "DELETE FROM notifications_devices WHERE token = $1 AND user_id = $2"
    ).bind(token).bind(user_id).execute(conn).await.map(|r| r.rows_affected()))
}

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

/// Erases everything held about a deleted user, delivery records included.
pub async fn erase_user(tx: &mut Tx, user_id: Uuid) -> Result<()> {
    for sql in [
        "DELETE FROM notifications_recipients WHERE user_id = $1",
        "DELETE FROM notifications_preferences WHERE user_id = $1",
        "DELETE FROM notifications_devices WHERE user_id = $1",
        "DELETE FROM notifications_inbox WHERE user_id = $1",
        "DELETE FROM notifications_deliveries WHERE user_id = $1",
    ] {
        on_tx!(tx, conn => sqlx::query(sql).bind(user_id).execute(conn).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

pub async fn upsert_merchant_owner(
    tx: &mut Tx,
    merchant_id: Uuid,
    owner: Uuid,
    name: &str,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO notifications_merchant_owners (merchant_id, owner_user_id, business_name) VALUES ($1, $2, $3)
         ON CONFLICT (merchant_id) DO UPDATE SET owner_user_id = excluded.owner_user_id, business_name = excluded.business_name"
    ).bind(merchant_id).bind(owner).bind(name).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// `(owner, business name)` of a merchant.
pub async fn merchant_owner(tx: &mut Tx, merchant_id: Uuid) -> Result<Option<(Uuid, String)>> {
    on_tx!(tx, conn => sqlx::query_as(
        "SELECT owner_user_id, business_name FROM notifications_merchant_owners WHERE merchant_id = $1"
    ).bind(merchant_id).fetch_optional(conn).await)
}
