//! Every SQL statement of media: uploads, thumbnails, attachments, subjects' versions and the
//! trash of objects to remove from the store.

use platform::db::{Db, Tx};
use platform::{on_db, on_tx, on_write};
use uuid::Uuid;

type Result<T> = std::result::Result<T, sqlx::Error>;

const MEDIA_COLUMNS: &str = "id, owner_id, purpose, format, byte_size, width, height, sha256, etag, storage_key, attached, created_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MediaRow {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub purpose: String,
    pub format: String,
    pub byte_size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub sha256: String,
    pub etag: String,
    pub storage_key: String,
    pub attached: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttachmentRow {
    pub media_id: Uuid,
    pub subject: String,
    pub subject_id: Uuid,
    pub slot: String,
    pub position: i32,
    pub merchant_id: Option<Uuid>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ThumbnailRow {
    pub storage_key: String,
    pub byte_size: i64,
    pub etag: String,
}

// ---- uploads ----

pub async fn media(db: &Db, id: Uuid) -> Result<Option<MediaRow>> {
    let sql = format!("SELECT {MEDIA_COLUMNS} FROM media_objects WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn same_upload(
    db: &Db,
    owner_id: Uuid,
    purpose: &str,
    sha256: &str,
) -> Result<Option<MediaRow>> {
    let sql = format!(
        "SELECT {MEDIA_COLUMNS} FROM media_objects WHERE owner_id = $1 AND purpose = $2 AND sha256 = $3"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(owner_id).bind(purpose).bind(sha256)
        .fetch_optional(pool).await)
}

/// False when the same owner stored the same file for the same purpose meanwhile.
pub async fn insert_media(tx: &mut Tx, row: &MediaRow) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO media_objects (id, owner_id, purpose, format, byte_size, width, height, sha256, etag,
            storage_key, attached, created_at, unattached_since)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, $11)
         ON CONFLICT (owner_id, purpose, sha256) DO NOTHING"
    ).bind(row.id).bind(row.owner_id).bind(&row.purpose).bind(&row.format).bind(row.byte_size)
        .bind(row.width).bind(row.height).bind(&row.sha256).bind(&row.etag).bind(&row.storage_key)
        .bind(row.created_at).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Takes the media's row for the rest of the transaction and moves its attachment count; the
/// orphan clock starts when the count drops to 0.
pub async fn add_attached(tx: &mut Tx, id: Uuid, delta: i64, now: i64) -> Result<Option<MediaRow>> {
    let sql = format!(
        "UPDATE media_objects SET attached = attached + $2,
            unattached_since = CASE WHEN attached + $2 = 0 THEN $3 ELSE NULL END
         WHERE id = $1 RETURNING {MEDIA_COLUMNS}"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).bind(delta).bind(now).fetch_optional(conn).await)
}

/// Takes the media's row for the rest of the transaction (before reading what hangs off it).
pub async fn lock_media(tx: &mut Tx, id: Uuid) -> Result<Option<MediaRow>> {
    let sql = format!(
        "UPDATE media_objects SET attached = attached WHERE id = $1 RETURNING {MEDIA_COLUMNS}"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

/// An unattached upload uploaded again: its orphan clock starts over.
pub async fn touch_unattached(db: &Db, id: Uuid, now: i64) -> Result<()> {
    on_write!(db, conn => sqlx::query(
        "UPDATE media_objects SET unattached_since = $2 WHERE id = $1 AND attached = 0"
    ).bind(id).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete_media(tx: &mut Tx, id: Uuid) -> Result<Option<MediaRow>> {
    let sql = format!("DELETE FROM media_objects WHERE id = $1 RETURNING {MEDIA_COLUMNS}");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

/// Deletes the media if it is still unattached since before the cutoff (re-checked on the row
/// itself, which it holds: an attachment committed meanwhile keeps it).
pub async fn delete_orphan(
    tx: &mut Tx,
    id: Uuid,
    unattached_before: i64,
) -> Result<Option<MediaRow>> {
    let sql = format!(
        "DELETE FROM media_objects WHERE id = $1 AND attached = 0 AND unattached_since < $2
         RETURNING {MEDIA_COLUMNS}"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).bind(unattached_before).fetch_optional(conn).await)
}

pub async fn orphans(db: &Db, unattached_before: i64, limit: i64) -> Result<Vec<Uuid>> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT id FROM media_objects WHERE attached = 0 AND unattached_since < $1
         ORDER BY unattached_since LIMIT $2"
    ).bind(unattached_before).bind(limit).fetch_all(pool).await)
}

// ---- thumbnails ----

pub async fn thumbnail(db: &Db, media_id: Uuid, size: i32) -> Result<Option<ThumbnailRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT storage_key, byte_size, etag FROM media_thumbnails WHERE media_id = $1 AND size = $2"
    ).bind(media_id).bind(size).fetch_optional(pool).await)
}

/// Two first requests at once store the same bytes under the same key: the second row is
/// dropped. False when the media is gone.
pub async fn insert_thumbnail(
    db: &Db,
    media_id: Uuid,
    size: i32,
    row: &ThumbnailRow,
) -> Result<bool> {
    on_write!(db, conn => sqlx::query(
        "INSERT INTO media_thumbnails (media_id, size, storage_key, byte_size, etag)
         SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM media_objects WHERE id = $1)
         ON CONFLICT (media_id, size) DO NOTHING"
    ).bind(media_id).bind(size).bind(&row.storage_key).bind(row.byte_size).bind(&row.etag)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(media(db, media_id).await?.is_some())
}

pub async fn thumbnail_keys(tx: &mut Tx, media_id: Uuid) -> Result<Vec<String>> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT storage_key FROM media_thumbnails WHERE media_id = $1"
    ).bind(media_id).fetch_all(conn).await)
}

// ---- attachments ----

pub async fn attachments_of_media(db: &Db, media_id: Uuid) -> Result<Vec<AttachmentRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT media_id, subject, subject_id, slot, position, merchant_id FROM media_attachments
         WHERE media_id = $1"
    ).bind(media_id).fetch_all(pool).await)
}

pub async fn attachments_of_media_tx(tx: &mut Tx, media_id: Uuid) -> Result<Vec<AttachmentRow>> {
    on_tx!(tx, conn => sqlx::query_as(
        "SELECT media_id, subject, subject_id, slot, position, merchant_id FROM media_attachments
         WHERE media_id = $1"
    ).bind(media_id).fetch_all(conn).await)
}

/// An attachment with its media, read in one query.
#[derive(Debug, Clone, sqlx::FromRow)]
struct ItemRow {
    #[sqlx(flatten)]
    attachment: AttachmentRow,
    #[sqlx(flatten)]
    media: MediaRow,
}

/// A subject's attachments joined with their media, in slot and position order.
fn subject_items_sql() -> String {
    let media = MEDIA_COLUMNS
        .split(", ")
        .map(|c| format!("m.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT a.media_id, a.subject, a.subject_id, a.slot, a.position, a.merchant_id, {media}
         FROM media_attachments a JOIN media_objects m ON m.id = a.media_id
         WHERE a.subject = $1 AND a.subject_id = $2 ORDER BY a.slot, a.position, a.created_at"
    )
}

fn split_items(rows: Vec<ItemRow>) -> Vec<(AttachmentRow, MediaRow)> {
    rows.into_iter().map(|r| (r.attachment, r.media)).collect()
}

pub async fn subject_items(
    db: &Db,
    subject: &str,
    subject_id: Uuid,
) -> Result<Vec<(AttachmentRow, MediaRow)>> {
    let sql = subject_items_sql();
    let rows: Vec<ItemRow> = on_db!(db, pool => sqlx::query_as(&sql)
        .bind(subject).bind(subject_id).fetch_all(pool).await)?;
    Ok(split_items(rows))
}

pub async fn slot_items(
    tx: &mut Tx,
    subject: &str,
    subject_id: Uuid,
    slot: &str,
) -> Result<Vec<AttachmentRow>> {
    on_tx!(tx, conn => sqlx::query_as(
        "SELECT media_id, subject, subject_id, slot, position, merchant_id FROM media_attachments
         WHERE subject = $1 AND subject_id = $2 AND slot = $3 ORDER BY position, created_at"
    ).bind(subject).bind(subject_id).bind(slot).fetch_all(conn).await)
}

pub async fn insert_attachment(tx: &mut Tx, row: &AttachmentRow, now: i64) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO media_attachments (media_id, subject, subject_id, slot, position, merchant_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING"
    ).bind(row.media_id).bind(&row.subject).bind(row.subject_id).bind(&row.slot).bind(row.position)
        .bind(row.merchant_id).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn delete_attachment(
    tx: &mut Tx,
    subject: &str,
    subject_id: Uuid,
    media_id: Uuid,
) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "DELETE FROM media_attachments WHERE subject = $1 AND subject_id = $2 AND media_id = $3"
    ).bind(subject).bind(subject_id).bind(media_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn set_position(
    tx: &mut Tx,
    subject: &str,
    subject_id: Uuid,
    media_id: Uuid,
    position: i32,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE media_attachments SET position = $4 WHERE subject = $1 AND subject_id = $2 AND media_id = $3"
    ).bind(subject).bind(subject_id).bind(media_id).bind(position).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Takes the subject's row (made on first use) and returns its next version.
pub async fn bump_subject(tx: &mut Tx, subject: &str, subject_id: Uuid) -> Result<i64> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "INSERT INTO media_subjects (subject, subject_id, version) VALUES ($1, $2, 1)
         ON CONFLICT (subject, subject_id) DO UPDATE SET version = media_subjects.version + 1
         RETURNING version"
    ).bind(subject).bind(subject_id).fetch_one(conn).await)
}

/// The same, inside the transaction that changed them.
pub async fn subject_items_tx(
    tx: &mut Tx,
    subject: &str,
    subject_id: Uuid,
) -> Result<Vec<(AttachmentRow, MediaRow)>> {
    let sql = subject_items_sql();
    let rows: Vec<ItemRow> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(subject).bind(subject_id).fetch_all(conn).await)?;
    Ok(split_items(rows))
}

// ---- trash ----

pub async fn queue_trash(tx: &mut Tx, storage_key: &str, now: i64) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO media_trash (storage_key, queued_at) VALUES ($1, $2) ON CONFLICT DO NOTHING"
    ).bind(storage_key).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn trash(db: &Db, limit: i64) -> Result<Vec<String>> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT storage_key FROM media_trash ORDER BY queued_at LIMIT $1"
    ).bind(limit).fetch_all(pool).await)
}

pub async fn emptied(db: &Db, storage_key: &str) -> Result<()> {
    on_write!(db, conn => sqlx::query("DELETE FROM media_trash WHERE storage_key = $1")
        .bind(storage_key).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}
