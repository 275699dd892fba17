//! Redemptions, the signals fraud rules read, and the rule sets.

use super::*;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RedemptionRow {
    pub id: Uuid,
    pub instance_id: Uuid,
    pub merchant_id: Uuid,
    pub outlet_id: Uuid,
    pub owner_id: Uuid,
    pub cashier_id: Uuid,
    pub device_id: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub method: String,
    pub amount: i64,
    pub earned: i64,
    pub commission: i64,
    pub status: String,
    pub score: i32,
    pub hits: String,
    pub rule_version: i64,
    pub created_at: i64,
    pub decided_at: Option<i64>,
    /// The platform-funded part of the instance's value this redemption delivers.
    pub promotion_funded: i64,
}

const REDEMPTION_COLUMNS: &str = "id, instance_id, merchant_id, outlet_id, owner_id, cashier_id, device_id,
    latitude, longitude, method, amount, earned, commission, status, score, hits, rule_version, created_at, decided_at,
    promotion_funded";

pub async fn insert_redemption(tx: &mut Tx, r: &RedemptionRow) -> Result<()> {
    let sql = format!(
        "INSERT INTO vouchers_redemptions ({REDEMPTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
         $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
    );
    on_tx!(tx, conn => sqlx::query(&sql)
        .bind(r.id).bind(r.instance_id).bind(r.merchant_id).bind(r.outlet_id).bind(r.owner_id)
        .bind(r.cashier_id).bind(&r.device_id).bind(r.latitude).bind(r.longitude).bind(&r.method)
        .bind(r.amount).bind(r.earned).bind(r.commission).bind(&r.status).bind(r.score).bind(&r.hits)
        .bind(r.rule_version).bind(r.created_at).bind(r.decided_at).bind(r.promotion_funded)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn redemption_in(tx: &mut Tx, id: Uuid) -> Result<Option<RedemptionRow>> {
    let sql = format!("SELECT {REDEMPTION_COLUMNS} FROM vouchers_redemptions WHERE id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

pub async fn redemptions(
    db: &Db,
    merchant_id: Option<Uuid>,
    owner_id: Option<Uuid>,
    status: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<RedemptionRow>> {
    let sql = format!(
        "SELECT {REDEMPTION_COLUMNS} FROM vouchers_redemptions WHERE ($1 IS NULL OR merchant_id = $1)
         AND ($2 IS NULL OR owner_id = $2) AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR id < $4)
         ORDER BY id DESC LIMIT $5"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(merchant_id).bind(owner_id).bind(status).bind(after)
        .bind(limit).fetch_all(pool).await)
}

pub async fn has_pending_review(db: &Db, instance_id: Uuid) -> Result<bool> {
    let n: i64 = on_db!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM vouchers_redemptions WHERE instance_id = $1 AND status = 'PENDING_REVIEW'"
    ).bind(instance_id).fetch_one(pool).await)?;
    Ok(n > 0)
}

/// The owner's vouchers with a redemption waiting for review (one query for a wallet page).
pub async fn pending_reviews_of(db: &Db, owner_id: Uuid) -> Result<Vec<Uuid>> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT DISTINCT instance_id FROM vouchers_redemptions WHERE owner_id = $1 AND status = 'PENDING_REVIEW'"
    ).bind(owner_id).fetch_all(pool).await)
}

pub async fn decide_redemption(
    tx: &mut Tx,
    id: Uuid,
    from: &str,
    to: &str,
    now: Timestamp,
) -> Result<bool> {
    let updated = on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_redemptions SET status = $3, decided_at = $4 WHERE id = $1 AND status = $2"
    ).bind(id).bind(from).bind(to).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

/// Sets what an approved-after-block redemption earned.
pub async fn set_redemption_earning(
    tx: &mut Tx,
    id: Uuid,
    earned: i64,
    commission: i64,
    promotion_funded: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_redemptions SET earned = $2, commission = $3, promotion_funded = $4 WHERE id = $1"
    ).bind(id).bind(earned).bind(commission).bind(promotion_funded).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The counts the fraud rules need, in one round trip. Each count stops at its cap (a rule
/// only asks "more than max?"), so the cost per redemption stays bounded however busy a
/// device, outlet or merchant is.
#[derive(Debug, sqlx::FromRow)]
pub struct SignalCounts {
    pub device_recent: i64,
    pub device_known: i64,
    pub outlet_recent: i64,
    pub owner_recent: i64,
    pub failed_recent: i64,
    pub history: i64,
    pub average: Option<f64>,
}

/// Since when, and up to how many, each windowed count looks.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub since: i64,
    pub cap: i64,
}

#[allow(clippy::too_many_arguments)]
pub async fn signal_counts(
    db: &Db,
    merchant_id: Uuid,
    device_id: &str,
    outlet_id: Uuid,
    owner_id: Uuid,
    instance_id: Uuid,
    device: Window,
    outlet: Window,
    owner: Window,
    failed: Window,
    history_cap: i64,
) -> Result<SignalCounts> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT
           (SELECT COUNT(*) FROM (SELECT 1 FROM vouchers_redemptions WHERE merchant_id = $1 AND device_id = $2
              AND created_at >= $6 LIMIT $7) d) AS device_recent,
           (SELECT COUNT(*) FROM (SELECT 1 FROM vouchers_redemptions WHERE merchant_id = $1 AND device_id = $2
              LIMIT 1) k) AS device_known,
           (SELECT COUNT(*) FROM (SELECT 1 FROM vouchers_redemptions WHERE outlet_id = $3 AND created_at >= $8
              LIMIT $9) o) AS outlet_recent,
           (SELECT COUNT(*) FROM (SELECT 1 FROM vouchers_redemptions WHERE owner_id = $4 AND created_at >= $10
              LIMIT $11) c) AS owner_recent,
           (SELECT COUNT(*) FROM (SELECT 1 FROM vouchers_attempts WHERE (instance_id = $5
              OR (merchant_id = $1 AND device_id = $2)) AND created_at >= $12 LIMIT $13) f) AS failed_recent,
           (SELECT COUNT(*) FROM (SELECT 1 FROM vouchers_redemptions WHERE merchant_id = $1 AND status = 'APPROVED'
              LIMIT $14) h) AS history,
           (SELECT CAST(AVG(amount) AS DOUBLE PRECISION) FROM (SELECT amount FROM vouchers_redemptions
              WHERE merchant_id = $1 AND status = 'APPROVED' ORDER BY created_at DESC LIMIT 200) recent) AS average"
    ).bind(merchant_id).bind(device_id).bind(outlet_id).bind(owner_id).bind(instance_id)
     .bind(device.since).bind(device.cap).bind(outlet.since).bind(outlet.cap).bind(owner.since).bind(owner.cap)
     .bind(failed.since).bind(failed.cap).bind(history_cap)
     .fetch_one(pool).await)
}

pub async fn record_attempt(
    db: &Db,
    merchant_id: Uuid,
    device_id: &str,
    instance_id: Option<Uuid>,
    reason: &str,
    now: Timestamp,
) -> Result<()> {
    on_write!(db, conn => sqlx::query(
        "INSERT INTO vouchers_attempts (id, merchant_id, device_id, instance_id, reason, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)"
    ).bind(kernel::new_id()).bind(merchant_id).bind(device_id).bind(instance_id).bind(reason)
     .bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn latest_rules(db: &Db) -> Result<Option<(i64, String, i64)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT version, rules, created_at FROM vouchers_fraud_rules ORDER BY version DESC LIMIT 1"
    ).fetch_optional(pool).await)
}

/// Stores the next rule version; false if another admin stored it first.
pub async fn insert_rules(
    db: &Db,
    version: i64,
    rules: &str,
    by: Uuid,
    now: Timestamp,
) -> Result<bool> {
    let inserted = on_write!(db, conn => sqlx::query(
        "INSERT INTO vouchers_fraud_rules (version, rules, created_by, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (version) DO NOTHING"
    ).bind(version).bind(rules).bind(by).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(inserted == 1)
}

pub async fn redemption(db: &Db, id: Uuid) -> Result<Option<RedemptionRow>> {
    let sql = format!("SELECT {REDEMPTION_COLUMNS} FROM vouchers_redemptions WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}
