//! Promotions, and what a quote reads of them (the live ones, a code's, a customer's uses).

use super::*;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PromotionRow {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub merchant_id: Option<Uuid>,
    pub name: String,
    pub kind: String,
    pub currency: String,
    pub priority: i32,
    pub exclusive: bool,
    pub rules: String,
    pub bearer: String,
    pub merchant_share_bps: i64,
    pub usage_limit: Option<i64>,
    pub per_customer_limit: Option<i64>,
    pub uses: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const PROMOTION_COLUMNS: &str = "p.id, p.campaign_id, p.merchant_id, p.name, p.kind, p.currency, \
    p.priority, p.exclusive, p.rules, p.bearer, p.merchant_share_bps, p.usage_limit, \
    p.per_customer_limit, p.uses, p.created_at, p.updated_at";

pub async fn insert_promotion(tx: &mut Tx, row: &PromotionRow) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO promotions_promotions (id, campaign_id, merchant_id, name, kind, currency,
            priority, exclusive, rules, bearer, merchant_share_bps, usage_limit,
            per_customer_limit, uses, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    ).bind(row.id).bind(row.campaign_id).bind(row.merchant_id).bind(&row.name).bind(&row.kind)
        .bind(&row.currency).bind(row.priority).bind(row.exclusive).bind(&row.rules)
        .bind(&row.bearer).bind(row.merchant_share_bps).bind(row.usage_limit)
        .bind(row.per_customer_limit).bind(row.uses).bind(row.created_at).bind(row.updated_at)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Rewrites a promotion's definition; a usage limit below the uses taken is refused by the
/// table (the caller checks first and answers 422).
pub async fn update_promotion(tx: &mut Tx, row: &PromotionRow) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE promotions_promotions SET name = $1, kind = $2, currency = $3, priority = $4,
            exclusive = $5, rules = $6, bearer = $7, merchant_share_bps = $8, usage_limit = $9,
            per_customer_limit = $10, updated_at = $11
         WHERE id = $12 AND deleted_at IS NULL
           AND ($9 IS NULL OR uses <= $9)"
    ).bind(&row.name).bind(&row.kind).bind(&row.currency).bind(row.priority)
        .bind(row.exclusive).bind(&row.rules).bind(&row.bearer).bind(row.merchant_share_bps)
        .bind(row.usage_limit).bind(row.per_customer_limit).bind(row.updated_at).bind(row.id)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn delete_promotion(tx: &mut Tx, id: Uuid, now: i64) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE promotions_promotions SET deleted_at = $1, updated_at = $1
         WHERE id = $2 AND deleted_at IS NULL"
    ).bind(now).bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn promotion(db: &Db, id: Uuid) -> Result<Option<PromotionRow>> {
    let sql = format!(
        "SELECT {PROMOTION_COLUMNS} FROM promotions_promotions p
         WHERE p.id = $1 AND p.deleted_at IS NULL"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

/// A promotion not deleted, in the caller's transaction.
pub async fn live_promotion_in(tx: &mut Tx, id: Uuid) -> Result<Option<PromotionRow>> {
    let sql = format!(
        "SELECT {PROMOTION_COLUMNS} FROM promotions_promotions p WHERE p.id = $1 AND p.deleted_at IS NULL"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

pub async fn promotion_in(tx: &mut Tx, id: Uuid) -> Result<Option<PromotionRow>> {
    let sql = format!("SELECT {PROMOTION_COLUMNS} FROM promotions_promotions p WHERE p.id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

/// The currencies of a campaign's promotions.
pub async fn currencies_of_campaign(tx: &mut Tx, campaign_id: Uuid) -> Result<Vec<String>> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT DISTINCT currency FROM promotions_promotions WHERE campaign_id = $1 AND deleted_at IS NULL"
    ).bind(campaign_id).fetch_all(conn).await)
}

pub async fn promotions(
    db: &Db,
    campaign_id: Option<Uuid>,
    merchant_id: Option<Uuid>,
    platform_only: bool,
) -> Result<Vec<PromotionRow>> {
    let sql = format!(
        "SELECT {PROMOTION_COLUMNS} FROM promotions_promotions p
         WHERE p.deleted_at IS NULL
           AND ($1 IS NULL OR p.campaign_id = $1)
           AND ($2 IS NULL OR p.merchant_id = $2)
           AND (NOT $3 OR p.merchant_id IS NULL)
         ORDER BY p.created_at DESC, p.id LIMIT 500"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(campaign_id).bind(merchant_id)
        .bind(platform_only).fetch_all(pool).await)
}

/// A promotion that may apply now, with its campaign's state and budget.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LiveRow {
    #[sqlx(flatten)]
    pub promotion: PromotionRow,
    pub campaign_status: String,
    pub campaign_starts_at: i64,
    pub campaign_ends_at: Option<i64>,
    pub budget_kind: Option<String>,
    pub budget_limit: Option<i64>,
    pub spent: i64,
    pub campaign_uses: i64,
    /// The code that selected it (code lookups only).
    pub code: Option<String>,
    pub code_limit: Option<i64>,
    pub code_uses: Option<i64>,
}

const LIVE_COLUMNS: &str = "c.status AS campaign_status, c.starts_at AS campaign_starts_at, \
    c.ends_at AS campaign_ends_at, c.budget_kind, c.budget_limit, c.spent, \
    c.uses AS campaign_uses";

/// Automatic promotions of running campaigns in a currency.
pub async fn live_automatic(db: &Db, currency: &str, now: i64) -> Result<Vec<LiveRow>> {
    let sql = format!(
        "SELECT {PROMOTION_COLUMNS}, {LIVE_COLUMNS},
            NULL AS code, NULL AS code_limit, NULL AS code_uses
         FROM promotions_promotions p JOIN promotions_campaigns c ON c.id = p.campaign_id
         WHERE p.kind = 'AUTOMATIC' AND p.deleted_at IS NULL AND p.currency = $1
           AND c.status = 'ACTIVE' AND c.starts_at <= $2 AND (c.ends_at IS NULL OR c.ends_at > $2)"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(currency).bind(now).fetch_all(pool).await)
}

/// The promotion behind a code, whatever its state (to say why it does not apply).
pub async fn by_code(db: &Db, code: &str) -> Result<Option<LiveRow>> {
    let sql = format!(
        "SELECT {PROMOTION_COLUMNS}, {LIVE_COLUMNS},
            k.code, k.usage_limit AS code_limit, k.uses AS code_uses
         FROM promotions_codes k
         JOIN promotions_promotions p ON p.id = k.promotion_id
         JOIN promotions_campaigns c ON c.id = p.campaign_id
         WHERE k.code = $1 AND p.deleted_at IS NULL"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(code).fetch_optional(pool).await)
}

pub async fn customer_uses(
    db: &Db,
    customer_id: Uuid,
    promotion_ids: &[Uuid],
) -> Result<Vec<(Uuid, i64)>> {
    let mut out = Vec::new();
    // A cart sees a handful of limited promotions: one point read each keeps the SQL static.
    for id in promotion_ids {
        let uses: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
            "SELECT uses FROM promotions_customer_uses WHERE promotion_id = $1 AND customer_id = $2"
        ).bind(*id).bind(customer_id).fetch_optional(pool).await)?;
        out.push((*id, uses.unwrap_or(0)));
    }
    Ok(out)
}

pub async fn has_paid_order(db: &Db, customer_id: Uuid) -> Result<bool> {
    let n: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT paid_orders FROM promotions_customers WHERE customer_id = $1"
    ).bind(customer_id).fetch_optional(pool).await)?;
    Ok(n.unwrap_or(0) > 0)
}

pub async fn count_paid_order(tx: &mut Tx, customer_id: Uuid) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO promotions_customers (customer_id, paid_orders) VALUES ($1, 1)
         ON CONFLICT (customer_id) DO UPDATE SET paid_orders = promotions_customers.paid_orders + 1"
    ).bind(customer_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}
