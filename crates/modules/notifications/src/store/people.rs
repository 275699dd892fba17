//! Who can be reached, how, and in which language; and erasing all of it.

use kernel::Timestamp;
use platform::db::{Db, Tx};
use platform::{on_db, on_tx, on_write};
use uuid::Uuid;

use super::Result;

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

/// Erases everything held about a deleted user, delivery records included.
pub async fn erase_user(tx: &mut Tx, user_id: Uuid) -> Result<()> {
    for sql in [
        "DELETE FROM notifications_recipients WHERE user_id = $1",
        "DELETE FROM notifications_preferences WHERE user_id = $1",
        "DELETE FROM notifications_devices WHERE user_id = $1",
        "DELETE FROM notifications_inbox WHERE user_id = $1",
        "DELETE FROM notifications_deliveries WHERE user_id = $1",
        "DELETE FROM notifications_merchant_members WHERE user_id = $1",
        "DELETE FROM notifications_admins WHERE user_id = $1",
    ] {
        on_tx!(tx, conn => sqlx::query(sql).bind(user_id).execute(conn).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Records whether a user is one of the platform's admins.
pub async fn set_admin(tx: &mut Tx, user_id: Uuid, admin: bool) -> Result<()> {
    let sql = if admin {
        "INSERT INTO notifications_admins (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING"
    } else {
        "DELETE FROM notifications_admins WHERE user_id = $1"
    };
    on_tx!(tx, conn => sqlx::query(sql).bind(user_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn admins(tx: &mut Tx) -> Result<Vec<Uuid>> {
    on_tx!(tx, conn => sqlx::query_scalar("SELECT user_id FROM notifications_admins ORDER BY user_id")
        .fetch_all(conn).await)
}
