//! Fraud cases and their log.

use super::*;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseRow {
    pub id: Uuid,
    pub redemption_id: Uuid,
    pub status: String,
    pub score: i32,
    pub created_at: i64,
    pub decided_at: Option<i64>,
}

pub async fn insert_case(
    tx: &mut Tx,
    id: Uuid,
    redemption: &RedemptionRow,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO vouchers_fraud_cases (id, redemption_id, instance_id, merchant_id, score, status, created_at)
         VALUES ($1, $2, $3, $4, $5, 'OPEN', $6)"
    ).bind(id).bind(redemption.id).bind(redemption.instance_id).bind(redemption.merchant_id)
     .bind(redemption.score).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

const CASE_COLUMNS: &str = "id, redemption_id, status, score, created_at, decided_at";

pub async fn case_in(tx: &mut Tx, id: Uuid) -> Result<Option<CaseRow>> {
    let sql = format!("SELECT {CASE_COLUMNS} FROM vouchers_fraud_cases WHERE id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

pub async fn case(db: &Db, id: Uuid) -> Result<Option<CaseRow>> {
    let sql = format!("SELECT {CASE_COLUMNS} FROM vouchers_fraud_cases WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn case_of_redemption(db: &Db, redemption_id: Uuid) -> Result<Option<Uuid>> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT id FROM vouchers_fraud_cases WHERE redemption_id = $1"
    ).bind(redemption_id).fetch_optional(pool).await)
}

pub async fn cases(
    db: &Db,
    status: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<CaseRow>> {
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM vouchers_fraud_cases WHERE ($1 IS NULL OR status = $1)
         AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(status).bind(after).bind(limit).fetch_all(pool).await)
}

pub async fn decide_case(tx: &mut Tx, id: Uuid, status: &str, now: Timestamp) -> Result<bool> {
    let updated = on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_fraud_cases SET status = $2, decided_at = $3 WHERE id = $1 AND status = 'OPEN'"
    ).bind(id).bind(status).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

pub async fn log_case(
    tx: &mut Tx,
    case_id: Uuid,
    actor: Option<Uuid>,
    action: &str,
    note: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO vouchers_case_log (case_id, seq, actor_id, action, note, created_at)
         SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5 FROM vouchers_case_log WHERE case_id = $1"
    ).bind(case_id).bind(actor).bind(action).bind(note).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn case_log(
    db: &Db,
    case_id: Uuid,
) -> Result<Vec<(Option<Uuid>, String, Option<String>, i64)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT actor_id, action, note, created_at FROM vouchers_case_log WHERE case_id = $1 ORDER BY seq"
    ).bind(case_id).fetch_all(pool).await)
}
