//! Every SQL statement of payments, and nothing else.

use kernel::Timestamp;
use platform::db::{Db, Tx};
use platform::{on_db, on_tx, on_write};
use uuid::Uuid;

mod manual;
pub use manual::*;

type Result<T> = std::result::Result<T, sqlx::Error>;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaymentRow {
    pub id: Uuid,
    pub order_group_id: Uuid,
    pub customer_id: Uuid,
    pub provider: String,
    pub amount: i64,
    pub currency: String,
    pub orders: String,
    pub provider_reference: String,
    pub instructions: String,
    pub created_at: i64,
}

const PAYMENT_SELECT: &str =
    "SELECT id, order_group_id, customer_id, provider, amount, currency, orders,
    provider_reference, instructions, created_at FROM payments_payments";

pub async fn insert_payment(tx: &mut Tx, row: &PaymentRow) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO payments_payments (id, order_group_id, customer_id, provider, amount, currency, orders,
           provider_reference, instructions, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ).bind(row.id).bind(row.order_group_id).bind(row.customer_id).bind(&row.provider).bind(row.amount)
     .bind(&row.currency).bind(&row.orders).bind(&row.provider_reference).bind(&row.instructions)
     .bind(row.created_at).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn payment(db: &Db, id: Uuid) -> Result<Option<PaymentRow>> {
    let sql = format!("{PAYMENT_SELECT} WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn payment_in(tx: &mut Tx, id: Uuid) -> Result<Option<PaymentRow>> {
    let sql = format!("{PAYMENT_SELECT} WHERE id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

pub async fn payment_by_reference(
    tx: &mut Tx,
    provider: &str,
    reference: &str,
) -> Result<Option<PaymentRow>> {
    let sql = format!("{PAYMENT_SELECT} WHERE provider = $1 AND provider_reference = $2");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(provider).bind(reference).fetch_optional(conn).await)
}

pub async fn payments_of_group(db: &Db, group_id: Uuid) -> Result<Vec<PaymentRow>> {
    let sql = format!("{PAYMENT_SELECT} WHERE order_group_id = $1 ORDER BY created_at, id");
    on_db!(db, pool => sqlx::query_as(&sql).bind(group_id).fetch_all(pool).await)
}

/// Payments of a polling provider created since `since` that have not succeeded (a failed one
/// too: the payer may still pay, and a success after a failure counts), newest first: a
/// backlog of abandoned ones must not keep the payments being paid now from being asked.
pub async fn open_payments(
    db: &Db,
    provider: &str,
    since: Timestamp,
    limit: i64,
) -> Result<Vec<PaymentRow>> {
    let sql = format!(
        "{PAYMENT_SELECT} WHERE provider = $1 AND created_at >= $2 AND NOT EXISTS (
           SELECT 1 FROM payments_transactions t WHERE t.payment_id = payments_payments.id
             AND t.kind IN ('SUCCEEDED', 'FLAGGED'))
         ORDER BY created_at DESC LIMIT $3"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(provider).bind(since.millis()).bind(limit).fetch_all(pool).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TxRow {
    pub seq: i64,
    pub kind: String,
    pub amount: i64,
    pub currency: String,
    pub reference: Option<String>,
    pub detail: Option<String>,
    pub created_at: i64,
}

const TX_SELECT: &str =
    "SELECT CAST(seq AS BIGINT) AS seq, kind, amount, currency, reference, detail, created_at
    FROM payments_transactions WHERE payment_id = $1 ORDER BY seq";

pub async fn transactions(db: &Db, payment_id: Uuid) -> Result<Vec<TxRow>> {
    on_db!(db, pool => sqlx::query_as(TX_SELECT).bind(payment_id).fetch_all(pool).await)
}

pub async fn transactions_in(tx: &mut Tx, payment_id: Uuid) -> Result<Vec<TxRow>> {
    on_tx!(tx, conn => sqlx::query_as(TX_SELECT).bind(payment_id).fetch_all(conn).await)
}

/// Appends entry `seq`; a concurrent append of the same seq fails (unique violation), so the
/// caller re-reads and decides again.
#[allow(clippy::too_many_arguments)]
pub async fn append(
    tx: &mut Tx,
    payment_id: Uuid,
    seq: i64,
    kind: &str,
    amount: i64,
    currency: &str,
    reference: Option<&str>,
    detail: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO payments_transactions (payment_id, seq, kind, amount, currency, reference, detail, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ).bind(payment_id).bind(seq).bind(kind).bind(amount).bind(currency).bind(reference).bind(detail)
     .bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records a webhook once; false when this provider event was seen before.
pub async fn record_webhook(
    tx: &mut Tx,
    provider: &str,
    event_id: &str,
    payment_id: Option<Uuid>,
    outcome: &str,
    payload: &str,
    now: Timestamp,
) -> Result<bool> {
    let inserted = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO payments_webhooks (provider, event_id, payment_id, outcome, payload, received_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (provider, event_id) DO NOTHING"
    ).bind(provider).bind(event_id).bind(payment_id).bind(outcome).bind(payload).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(inserted == 1)
}

pub async fn webhook_outcome(db: &Db, provider: &str, event_id: &str) -> Result<Option<String>> {
    on_db!(db, pool => sqlx::query_scalar("SELECT outcome FROM payments_webhooks WHERE provider = $1 AND event_id = $2")
        .bind(provider).bind(event_id).fetch_optional(pool).await)
}

// ---- the simulator's Bakong stand-in ----

pub async fn simulator_mark_paid(
    db: &Db,
    md5: &str,
    hash: &str,
    amount: i64,
    currency: &str,
    now: Timestamp,
) -> Result<()> {
    on_write!(db, conn => sqlx::query(
        "INSERT INTO payments_simulator_khqr (md5, hash, amount, currency, paid_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (md5) DO NOTHING"
    ).bind(md5).bind(hash).bind(amount).bind(currency).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SimulatedKhqr {
    pub hash: String,
    pub amount: i64,
    pub currency: String,
    pub paid_at: i64,
}

pub async fn simulator_khqr(db: &Db, md5: &str) -> Result<Option<SimulatedKhqr>> {
    on_db!(db, pool => sqlx::query_as("SELECT hash, amount, currency, paid_at FROM payments_simulator_khqr WHERE md5 = $1")
        .bind(md5).fetch_optional(pool).await)
}
