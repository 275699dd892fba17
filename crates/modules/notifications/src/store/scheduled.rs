//! Messages scheduled by admins, and the recipients an EVERYONE message goes to.

use platform::db::{Db, Tx};
use platform::{on_db, on_tx};
use uuid::Uuid;

use super::Result;

const COLUMNS: &str = "id, category, audience, user_ids, title, body, send_at, status, cursor_user_id, recipients, created_by, created_at, sent_at, cancelled_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScheduledRow {
    pub id: Uuid,
    pub category: String,
    pub audience: String,
    /// JSON array of user ids.
    pub user_ids: String,
    /// JSON `LocalizedText`.
    pub title: String,
    /// JSON `LocalizedText`.
    pub body: String,
    pub send_at: i64,
    pub status: String,
    pub cursor_user_id: Option<Uuid>,
    pub recipients: i64,
    pub created_by: Uuid,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub cancelled_at: Option<i64>,
}

pub async fn insert_scheduled(tx: &mut Tx, row: &ScheduledRow) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO notifications_scheduled (id, category, audience, user_ids, title, body, send_at, status, recipients, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10)"
    ).bind(row.id).bind(&row.category).bind(&row.audience).bind(&row.user_ids).bind(&row.title)
     .bind(&row.body).bind(row.send_at).bind(&row.status).bind(row.created_by).bind(row.created_at)
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn scheduled(db: &Db, id: Uuid) -> Result<Option<ScheduledRow>> {
    let sql = format!("SELECT {COLUMNS} FROM notifications_scheduled WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn scheduled_list(
    db: &Db,
    status: Option<&str>,
    before: Option<Uuid>,
    limit: u32,
) -> Result<Vec<ScheduledRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM notifications_scheduled
         WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(status).bind(before).bind(i64::from(limit)).fetch_all(pool).await)
}

/// SCHEDULED → CANCELLED; None when the message is not (or no longer) SCHEDULED.
pub async fn cancel_scheduled(tx: &mut Tx, id: Uuid, now: i64) -> Result<Option<ScheduledRow>> {
    let sql = format!(
        "UPDATE notifications_scheduled SET status = 'CANCELLED', cancelled_at = $2
         WHERE id = $1 AND status = 'SCHEDULED' RETURNING {COLUMNS}"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).bind(now).fetch_optional(conn).await)
}

/// SCHEDULED → SENDING, or the row as it is when sending had started (a retried job).
/// None for a message that was cancelled, sent or erased.
pub async fn claim_scheduled(tx: &mut Tx, id: Uuid) -> Result<Option<ScheduledRow>> {
    let sql = format!(
        "UPDATE notifications_scheduled SET status = 'SENDING'
         WHERE id = $1 AND status IN ('SCHEDULED', 'SENDING') RETURNING {COLUMNS}"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

/// Records how far sending got, if it was still at `from` (a second runner of the same message
/// finds it moved on). Returns whether it was.
pub async fn advance_scheduled(
    tx: &mut Tx,
    id: Uuid,
    from: Option<Uuid>,
    cursor: Uuid,
    planned: i64,
) -> Result<bool> {
    let moved = on_tx!(tx, conn => sqlx::query(
        "UPDATE notifications_scheduled SET cursor_user_id = $3, recipients = recipients + $4
         WHERE id = $1 AND status = 'SENDING'
           AND (cursor_user_id = $2 OR (cursor_user_id IS NULL AND $2 IS NULL))"
    ).bind(id).bind(from).bind(cursor).bind(planned).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(moved == 1)
}

pub async fn finish_scheduled(tx: &mut Tx, id: Uuid, now: i64) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE notifications_scheduled SET status = 'SENT', sent_at = $2 WHERE id = $1 AND status = 'SENDING'"
    ).bind(id).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A page of reachable users after `after`, in id order.
pub async fn recipients_after(tx: &mut Tx, after: Option<Uuid>, limit: i64) -> Result<Vec<Uuid>> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT user_id FROM notifications_recipients WHERE ($1 IS NULL OR user_id > $1) ORDER BY user_id LIMIT $2"
    ).bind(after).bind(limit).fetch_all(conn).await)
}

/// Which of `ids` are reachable users.
pub async fn known_recipients(tx: &mut Tx, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    let mut known = Vec::with_capacity(ids.len());
    for id in ids {
        let found: Option<Uuid> = on_tx!(tx, conn => sqlx::query_scalar(
            "SELECT user_id FROM notifications_recipients WHERE user_id = $1"
        ).bind(id).fetch_optional(conn).await)?;
        known.extend(found);
    }
    Ok(known)
}
