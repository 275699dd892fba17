//! Purchases that entitle a customer to a review, and authors' names.

use super::*;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PurchaseRow {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub subject_kind: String,
    pub subject_id: Uuid,
    pub merchant_id: Uuid,
    pub source_id: Uuid,
    pub purchased_at: i64,
}

const PURCHASE_COLUMNS: &str =
    "p.id, p.customer_id, p.subject_kind, p.subject_id, p.merchant_id, p.source_id, p.purchased_at";

/// Records a purchase once (redelivered events and partial redemptions add nothing).
pub async fn insert_purchase(tx: &mut Tx, p: &PurchaseRow) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO reviews_purchases (id, customer_id, subject_kind, subject_id, merchant_id, source_id, purchased_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (subject_kind, subject_id, source_id) DO NOTHING"
    ).bind(p.id).bind(p.customer_id).bind(&p.subject_kind).bind(p.subject_id).bind(p.merchant_id)
        .bind(p.source_id).bind(p.purchased_at)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// The customer's purchase of the subject from `source` (an order or a voucher), and whether
/// it has a review.
pub async fn purchase_from(
    tx: &mut Tx,
    customer_id: Uuid,
    subject_kind: &str,
    subject_id: Uuid,
    source_id: Uuid,
) -> Result<Option<(PurchaseRow, bool)>> {
    let sql = format!(
        "SELECT {PURCHASE_COLUMNS} FROM reviews_purchases p
         WHERE p.customer_id = $1 AND p.subject_kind = $2 AND p.subject_id = $3 AND p.source_id = $4"
    );
    let row: Option<PurchaseRow> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(customer_id).bind(subject_kind).bind(subject_id).bind(source_id)
        .fetch_optional(conn).await)?;
    let Some(row) = row else { return Ok(None) };
    let reviewed: Option<Uuid> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT id FROM reviews_reviews WHERE purchase_id = $1"
    ).bind(row.id).fetch_optional(conn).await)?;
    Ok(Some((row, reviewed.is_some())))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Candidate {
    #[sqlx(flatten)]
    pub purchase: PurchaseRow,
    pub reviewed: bool,
}

/// The customer's oldest purchase of the subject without a review, or else (reviewed: true)
/// any of its purchases; one statement, so a purchase arriving meanwhile is seen whole.
pub async fn oldest_unreviewed(
    tx: &mut Tx,
    customer_id: Uuid,
    subject_kind: &str,
    subject_id: Uuid,
) -> Result<Option<Candidate>> {
    let sql = format!(
        "SELECT {PURCHASE_COLUMNS},
            EXISTS (SELECT 1 FROM reviews_reviews r WHERE r.purchase_id = p.id) AS reviewed
         FROM reviews_purchases p
         WHERE p.customer_id = $1 AND p.subject_kind = $2 AND p.subject_id = $3
         ORDER BY reviewed, p.purchased_at, p.id LIMIT 1"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(customer_id).bind(subject_kind).bind(subject_id)
        .fetch_optional(conn).await)
}

pub async fn save_author(
    tx: &mut Tx,
    customer_id: Uuid,
    name: Option<&str>,
    now: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO reviews_authors (customer_id, display_name, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (customer_id) DO UPDATE SET display_name = excluded.display_name, updated_at = excluded.updated_at"
    ).bind(customer_id).bind(name).bind(now).execute(conn).await.map(|_| ()))
}

/// A deleted account: its name is forgotten and its reviews become anonymous.
pub async fn erase_author(tx: &mut Tx, customer_id: Uuid, now: i64) -> Result<()> {
    save_author(tx, customer_id, None, now).await?;
    on_tx!(tx, conn => sqlx::query(
        "UPDATE reviews_reviews SET anonymous = TRUE WHERE customer_id = $1"
    ).bind(customer_id).execute(conn).await.map(|_| ()))
}
