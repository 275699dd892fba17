//! Reviews: written, taken for a change, changed, listed.

use super::*;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReviewRow {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub subject_kind: String,
    pub subject_id: Uuid,
    pub merchant_id: Uuid,
    pub rating: i32,
    pub title: Option<String>,
    pub body: Option<String>,
    pub anonymous: bool,
    pub status: String,
    pub held_reason: Option<String>,
    pub moderation_note: Option<String>,
    pub helpful_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
    /// Joined (absent from a row taken for a change).
    #[sqlx(default)]
    pub author_name: Option<String>,
    #[sqlx(default)]
    pub response_merchant_id: Option<Uuid>,
    #[sqlx(default)]
    pub response_body: Option<String>,
    #[sqlx(default)]
    pub response_at: Option<i64>,
}

const BASE_COLUMNS: &str = "id, customer_id, subject_kind, subject_id, merchant_id, rating,
    title, body, anonymous, status, held_reason, moderation_note, helpful_count,
    created_at, updated_at, edited_at, deleted_at";

const VIEW_COLUMNS: &str = "r.id, r.customer_id, r.subject_kind, r.subject_id,
    r.merchant_id, r.rating, r.title, r.body, r.anonymous, r.status, r.held_reason,
    r.moderation_note, r.helpful_count, r.created_at, r.updated_at, r.edited_at,
    r.deleted_at, a.display_name AS author_name, s.merchant_id AS response_merchant_id,
    s.body AS response_body, s.created_at AS response_at";

const VIEW_FROM: &str = "reviews_reviews r
    LEFT JOIN reviews_authors a ON a.customer_id = r.customer_id
    LEFT JOIN reviews_responses s ON s.review_id = r.id";

/// A new review, before it is written.
pub struct NewReview<'a> {
    pub id: Uuid,
    pub purchase_id: Uuid,
    pub customer_id: Uuid,
    pub subject_kind: &'a str,
    pub subject_id: Uuid,
    pub merchant_id: Uuid,
    pub rating: i32,
    pub title: Option<&'a str>,
    pub body: Option<&'a str>,
    pub anonymous: bool,
    pub status: &'a str,
    pub held_reason: Option<&'a str>,
    pub now: i64,
}

/// Writes a review; a second review of one purchase is a unique violation.
pub async fn insert_review(tx: &mut Tx, r: &NewReview<'_>) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO reviews_reviews (id, purchase_id, customer_id, subject_kind, subject_id, merchant_id,
            rating, title, body, anonymous, status, held_reason, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)"
    ).bind(r.id).bind(r.purchase_id).bind(r.customer_id).bind(r.subject_kind).bind(r.subject_id)
        .bind(r.merchant_id).bind(r.rating).bind(r.title).bind(r.body).bind(r.anonymous)
        .bind(r.status).bind(r.held_reason).bind(r.now)
        .execute(conn).await.map(|_| ()))
}

/// Takes the review for a change: on PostgreSQL its row stays locked until the transaction
/// ends (SQLite's transaction holds the write lock already), so what is read here is what
/// the change applies to. None when there is no such review.
pub async fn take_review(tx: &mut Tx, id: Uuid) -> Result<Option<ReviewRow>> {
    let sql = format!(
        "UPDATE reviews_reviews SET version = version + 1 WHERE id = $1 RETURNING {BASE_COLUMNS}"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

/// The review with its author's name and the merchant's response.
pub async fn review(db: &Db, id: Uuid) -> Result<Option<ReviewRow>> {
    let sql = format!("SELECT {VIEW_COLUMNS} FROM {VIEW_FROM} WHERE r.id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn review_in(tx: &mut Tx, id: Uuid) -> Result<Option<ReviewRow>> {
    let sql = format!("SELECT {VIEW_COLUMNS} FROM {VIEW_FROM} WHERE r.id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

/// The author's new content and what moderation made of it.
#[allow(clippy::too_many_arguments)]
pub async fn write_content(
    tx: &mut Tx,
    id: Uuid,
    rating: i32,
    title: Option<&str>,
    body: Option<&str>,
    anonymous: bool,
    status: &str,
    held_reason: Option<&str>,
    now: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE reviews_reviews SET rating = $2, title = $3, body = $4, anonymous = $5, status = $6,
            held_reason = $7, updated_at = $8, edited_at = $8
         WHERE id = $1"
    ).bind(id).bind(rating).bind(title).bind(body).bind(anonymous).bind(status).bind(held_reason)
        .bind(now).execute(conn).await.map(|_| ()))
}

/// An admin's decision (approval clears the open reports; a rejection keeps its reason).
pub async fn decide(
    tx: &mut Tx,
    id: Uuid,
    status: &str,
    note: Option<&str>,
    admin: Uuid,
    now: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE reviews_reviews SET status = $2, moderation_note = $3, moderated_by = $4,
            moderated_at = $5, updated_at = $5, held_reason = NULL,
            open_reports = CASE WHEN $2 = 'APPROVED' THEN 0 ELSE open_reports END
         WHERE id = $1"
    ).bind(id).bind(status).bind(note).bind(admin).bind(now).execute(conn).await.map(|_| ()))
}

/// Holds an approved review for moderation; false when it was not approved.
pub async fn hold(tx: &mut Tx, id: Uuid, reason: &str, now: i64) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE reviews_reviews SET status = 'PENDING', held_reason = $2, updated_at = $3
         WHERE id = $1 AND status = 'APPROVED'"
    ).bind(id).bind(reason).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn mark_deleted(tx: &mut Tx, id: Uuid, now: i64) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE reviews_reviews SET deleted_at = $2, updated_at = $2 WHERE id = $1"
    ).bind(id).bind(now).execute(conn).await.map(|_| ()))
}

/// Which reviews a list is of.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// A product's or voucher offer's.
    Subject(&'static str, Uuid),
    /// Every review of a merchant's products and offers.
    Merchant(Uuid),
}

/// Sort keys of a list, best first; the cursor is (key, id) of the last item seen.
#[derive(Debug, Clone, Copy)]
pub enum Order {
    Newest,
    Helpful,
    RatingDesc,
    RatingAsc,
}

pub struct ListFilter {
    pub scope: Scope,
    /// Reviews of every status by this customer are in the list too.
    pub viewer: Option<Uuid>,
    pub rating: Option<i32>,
    pub order: Order,
    pub after: Option<(i64, Uuid)>,
    pub limit: i64,
}

/// Public reviews of a subject or merchant (and the viewer's own in any status).
pub async fn list(db: &Db, f: &ListFilter) -> Result<Vec<ReviewRow>> {
    let (kind, id, scope) = match f.scope {
        Scope::Subject(kind, id) => (kind, id, "r.subject_kind = $1 AND r.subject_id = $2"),
        Scope::Merchant(id) => ("MERCHANT", id, "$1 = 'MERCHANT' AND r.merchant_id = $2"),
    };
    // (key, whether the key goes down the list, order)
    let (key, descending) = match f.order {
        Order::Newest => ("0", true),
        Order::Helpful => ("r.helpful_count", true),
        Order::RatingDesc => ("r.rating", true),
        Order::RatingAsc => ("r.rating", false),
    };
    let (past, direction) = if descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    // Newest is by id alone (a constant key would be a column number to SQLite).
    let order_by = match f.order {
        Order::Newest => "r.id DESC".to_owned(),
        _ => format!("{key} {direction}, r.id DESC"),
    };
    let sql = format!(
        "SELECT {VIEW_COLUMNS} FROM {VIEW_FROM}
         WHERE {scope} AND r.deleted_at IS NULL
           AND (r.status = 'APPROVED' OR r.customer_id = $3)
           AND ($4 IS NULL OR r.rating = $4)
           AND ($5 IS NULL OR {key} {past} $6 OR ({key} = $6 AND r.id < $5))
         ORDER BY {order_by} LIMIT $7"
    );
    let (after_key, after_id) = match f.after {
        Some((key, id)) => (key, Some(id)),
        None => (0, None),
    };
    on_db!(db, pool => sqlx::query_as(&sql)
        .bind(kind).bind(id).bind(f.viewer.unwrap_or_else(Uuid::nil)).bind(f.rating)
        .bind(after_id).bind(after_key).bind(f.limit)
        .fetch_all(pool).await)
}

/// Reviews by status for admins, newest first.
pub async fn list_admin(
    db: &Db,
    status: Option<&str>,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<ReviewRow>> {
    let sql = format!(
        "SELECT {VIEW_COLUMNS} FROM {VIEW_FROM}
         WHERE r.deleted_at IS NULL AND ($1 IS NULL OR r.status = $1) AND ($2 IS NULL OR r.id < $2)
         ORDER BY r.id DESC LIMIT $3"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(status).bind(before).bind(limit)
        .fetch_all(pool).await)
}
