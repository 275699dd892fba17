//! What waits for an operator, and the audit of what operators did.

use super::*;

/// Marks a payment or refund as waiting for an operator (once).
pub async fn await_operator(
    tx: &mut Tx,
    payment_id: Uuid,
    kind: &str,
    reference: &str,
    amount: i64,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO payments_awaiting (payment_id, kind, reference, amount, since) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (payment_id, kind, reference) DO NOTHING"
    ).bind(payment_id).bind(kind).bind(reference).bind(amount).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn done_awaiting(
    tx: &mut Tx,
    payment_id: Uuid,
    kind: &str,
    reference: &str,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "DELETE FROM payments_awaiting WHERE payment_id = $1 AND kind = $2 AND reference = $3"
    ).bind(payment_id).bind(kind).bind(reference).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AwaitingRow {
    pub payment_id: Uuid,
    pub kind: String,
    pub reference: String,
    pub amount: i64,
    pub since: i64,
    pub reminded_at: Option<i64>,
    pub order_group_id: Uuid,
    pub customer_id: Uuid,
    pub provider: String,
    pub currency: String,
    pub provider_reference: String,
}

/// Oldest first, after the (since, payment id) position `after`.
pub async fn awaiting(
    db: &Db,
    kind: Option<&str>,
    after: Option<(i64, Uuid)>,
    limit: i64,
) -> Result<Vec<AwaitingRow>> {
    let (after_since, after_id) = after.map_or((None, None), |(s, id)| (Some(s), Some(id)));
    on_db!(db, pool => sqlx::query_as(
        "SELECT a.payment_id, a.kind, a.reference, a.amount, a.since, a.reminded_at, p.order_group_id,
                p.customer_id, p.provider, p.currency, p.provider_reference
         FROM payments_awaiting a JOIN payments_payments p ON p.id = a.payment_id
         WHERE ($1 IS NULL OR a.kind = $1)
           AND ($2 IS NULL OR a.since > $2 OR (a.since = $2 AND a.payment_id > $3))
         ORDER BY a.since, a.payment_id LIMIT $4"
    ).bind(kind).bind(after_since).bind(after_id).bind(limit).fetch_all(pool).await)
}

/// What is due a reminder: waiting since before `waited_since` and not reminded since
/// `reminded_since`. Returns (kind, count, oldest since) and marks them reminded.
pub async fn take_due_reminders(
    tx: &mut Tx,
    waited_since: Timestamp,
    reminded_since: Timestamp,
    now: Timestamp,
) -> Result<Vec<(String, i64, i64)>> {
    // One statement marks and returns: two runs at once cannot both take the same item.
    let taken: Vec<(String, i64)> = on_tx!(tx, conn => sqlx::query_as(
        "UPDATE payments_awaiting SET reminded_at = $3
         WHERE since <= $1 AND (reminded_at IS NULL OR reminded_at <= $2) RETURNING kind, since"
    ).bind(waited_since.millis()).bind(reminded_since.millis()).bind(now.millis())
     .fetch_all(conn).await)?;
    let mut due: Vec<(String, i64, i64)> = Vec::new();
    for (kind, since) in taken {
        match due.iter_mut().find(|(k, _, _)| *k == kind) {
            Some((_, count, oldest)) => {
                *count += 1;
                *oldest = (*oldest).min(since);
            }
            None => due.push((kind, 1, since)),
        }
    }
    Ok(due)
}

pub async fn audit(
    tx: &mut Tx,
    payment_id: Uuid,
    actor_id: Uuid,
    action: &str,
    detail: &str,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO payments_audit (id, payment_id, actor_id, action, detail, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)"
    ).bind(kernel::new_id()).bind(payment_id).bind(actor_id).bind(action).bind(detail)
     .bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: Uuid,
    pub payment_id: Uuid,
    pub actor_id: Uuid,
    pub action: String,
    pub detail: String,
    pub created_at: i64,
}

pub async fn audit_trail(db: &Db, payment_id: Uuid) -> Result<Vec<AuditRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, payment_id, actor_id, action, detail, created_at FROM payments_audit
         WHERE payment_id = $1 ORDER BY id"
    ).bind(payment_id).fetch_all(pool).await)
}

/// The payment a provider event (a webhook, a verified transfer) was recorded for.
pub async fn webhook_payment(
    tx: &mut Tx,
    provider: &str,
    event_id: &str,
) -> Result<Option<Option<Uuid>>> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT payment_id FROM payments_webhooks WHERE provider = $1 AND event_id = $2"
    ).bind(provider).bind(event_id).fetch_optional(conn).await)
}
