//! Every SQL statement of promotions, and nothing else. Limits and budgets are taken by
//! conditional updates (`... WHERE uses < usage_limit`), so concurrent checkouts can never
//! take more than there is; the tables' CHECKs are the last guard.

use platform::db::{Db, Tx};
use platform::{on_db, on_tx};
use uuid::Uuid;

type Result<T> = std::result::Result<T, sqlx::Error>;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignRow {
    pub id: Uuid,
    pub merchant_id: Option<Uuid>,
    pub title: String,
    pub description: Option<String>,
    pub status: String,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    pub budget_kind: Option<String>,
    pub budget_limit: Option<i64>,
    pub budget_currency: Option<String>,
    pub spent: i64,
    pub uses: i64,
    pub created_by: Uuid,
    pub created_at: i64,
    pub updated_at: i64,
}

const CAMPAIGN_COLUMNS: &str = "id, merchant_id, title, description, status, starts_at, ends_at, \
    budget_kind, budget_limit, budget_currency, spent, uses, created_by, created_at, updated_at";

pub async fn insert_campaign(tx: &mut Tx, row: &CampaignRow) -> Result<()> {
    let sql = format!(
        "INSERT INTO promotions_campaigns ({CAMPAIGN_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    );
    on_tx!(tx, conn => sqlx::query(&sql)
        .bind(row.id).bind(row.merchant_id).bind(&row.title).bind(&row.description)
        .bind(&row.status).bind(row.starts_at).bind(row.ends_at).bind(&row.budget_kind)
        .bind(row.budget_limit).bind(&row.budget_currency).bind(row.spent).bind(row.uses)
        .bind(row.created_by).bind(row.created_at).bind(row.updated_at)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Edits what a manager may edit; the counters and status stay. False when the campaign
/// ended or the new budget is below what was already used (checked in the statement, so a
/// checkout at the same moment cannot slip under it).
pub async fn update_campaign(tx: &mut Tx, row: &CampaignRow) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE promotions_campaigns SET title = $1, description = $2, starts_at = $3,
            ends_at = $4, budget_kind = $5, budget_limit = $6, budget_currency = $7,
            updated_at = $8
         WHERE id = $9 AND status <> 'ENDED'
           AND ($5 IS NULL OR ($5 = 'SPEND' AND spent <= $6) OR ($5 = 'USES' AND uses <= $6))"
    ).bind(&row.title).bind(&row.description).bind(row.starts_at).bind(row.ends_at)
        .bind(&row.budget_kind).bind(row.budget_limit).bind(&row.budget_currency)
        .bind(row.updated_at).bind(row.id)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn campaign(db: &Db, id: Uuid) -> Result<Option<CampaignRow>> {
    let sql = format!("SELECT {CAMPAIGN_COLUMNS} FROM promotions_campaigns WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn campaign_in(tx: &mut Tx, id: Uuid) -> Result<Option<CampaignRow>> {
    let sql = format!("SELECT {CAMPAIGN_COLUMNS} FROM promotions_campaigns WHERE id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

/// Campaigns of one merchant (`Some`), the platform's (`None` with `platform_only`), or all.
pub async fn campaigns(
    db: &Db,
    merchant_id: Option<Uuid>,
    platform_only: bool,
    status: Option<&str>,
) -> Result<Vec<CampaignRow>> {
    let sql = format!(
        "SELECT {CAMPAIGN_COLUMNS} FROM promotions_campaigns
         WHERE ($1 IS NULL OR merchant_id = $1)
           AND (NOT $2 OR merchant_id IS NULL)
           AND ($3 IS NULL OR status = $3)
         ORDER BY created_at DESC, id LIMIT 500"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(merchant_id).bind(platform_only).bind(status)
        .fetch_all(pool).await)
}

pub async fn move_campaign(tx: &mut Tx, id: Uuid, from: &str, to: &str, now: i64) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE promotions_campaigns SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4"
    ).bind(to).bind(now).bind(id).bind(from).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Campaigns the clock moves: SCHEDULED whose start passed, running ones whose end passed.
pub async fn campaigns_due(db: &Db, now: i64) -> Result<Vec<(Uuid, String, Option<i64>)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, status, ends_at FROM promotions_campaigns
         WHERE (status = 'SCHEDULED' AND starts_at <= $1)
            OR (status IN ('SCHEDULED', 'ACTIVE', 'PAUSED') AND ends_at IS NOT NULL AND ends_at <= $1)
         LIMIT 500"
    ).bind(now).fetch_all(pool).await)
}

/// Takes `amount` of a campaign's spend budget and one use; false when it would go over.
pub async fn take_budget(tx: &mut Tx, campaign_id: Uuid, amount: i64) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE promotions_campaigns SET spent = spent + $1, uses = uses + 1
         WHERE id = $2 AND status = 'ACTIVE'
           AND (budget_kind IS NULL
             OR (budget_kind = 'SPEND' AND spent + $1 <= budget_limit)
             OR (budget_kind = 'USES' AND uses + 1 <= budget_limit))"
    ).bind(amount).bind(campaign_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn give_back_budget(
    tx: &mut Tx,
    campaign_id: Uuid,
    amount: i64,
    uses: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE promotions_campaigns SET spent = spent - $1, uses = uses - $2 WHERE id = $3"
    ).bind(amount).bind(uses).bind(campaign_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Whether a campaign's budget is used up (nothing more can be given).
pub async fn budget_exhausted(tx: &mut Tx, campaign_id: Uuid) -> Result<bool> {
    let row: Option<(Option<String>, Option<i64>, i64, i64)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT budget_kind, budget_limit, spent, uses FROM promotions_campaigns WHERE id = $1"
    ).bind(campaign_id).fetch_optional(conn).await)?;
    Ok(match row {
        Some((Some(kind), Some(limit), spent, uses)) => {
            (kind == "SPEND" && spent >= limit) || (kind == "USES" && uses >= limit)
        }
        _ => false,
    })
}

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

// ---- codes ----

/// Adds a code; false when it exists already (any promotion).
pub async fn insert_code(
    tx: &mut Tx,
    code: &str,
    promotion_id: Uuid,
    generated: bool,
    usage_limit: Option<i64>,
    now: i64,
) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO promotions_codes (code, promotion_id, generated, usage_limit, uses, created_at)
         VALUES ($1, $2, $3, $4, 0, $5) ON CONFLICT (code) DO NOTHING"
    ).bind(code).bind(promotion_id).bind(generated).bind(usage_limit).bind(now)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// The public code of a promotion.
pub async fn public_code(db: &Db, promotion_id: Uuid) -> Result<Option<String>> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT code FROM promotions_codes WHERE promotion_id = $1 AND NOT generated"
    ).bind(promotion_id).fetch_optional(pool).await)
}

pub async fn public_code_in(tx: &mut Tx, promotion_id: Uuid) -> Result<Option<String>> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT code FROM promotions_codes WHERE promotion_id = $1 AND NOT generated"
    ).bind(promotion_id).fetch_optional(conn).await)
}

/// Removes a promotion's public code (it changed): the old code stops working at once. Its
/// uses keep their code text.
pub async fn drop_public_code(tx: &mut Tx, promotion_id: Uuid) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "DELETE FROM promotions_codes WHERE promotion_id = $1 AND NOT generated"
    ).bind(promotion_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn generated_count(db: &Db, promotion_id: Uuid) -> Result<i64> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM promotions_codes WHERE promotion_id = $1 AND generated"
    ).bind(promotion_id).fetch_one(pool).await)
}

pub async fn codes_of(db: &Db, promotion_id: Uuid) -> Result<Vec<(String, Option<i64>, i64)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT code, usage_limit, uses FROM promotions_codes WHERE promotion_id = $1
         ORDER BY generated, code"
    ).bind(promotion_id).fetch_all(pool).await)
}

// ---- reservations ----

/// One use of a promotion; false when its usage limit is reached.
pub async fn take_promotion_use(tx: &mut Tx, promotion_id: Uuid) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE promotions_promotions SET uses = uses + 1
         WHERE id = $1 AND deleted_at IS NULL AND (usage_limit IS NULL OR uses < usage_limit)"
    ).bind(promotion_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn take_code_use(tx: &mut Tx, code: &str, promotion_id: Uuid) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE promotions_codes SET uses = uses + 1
         WHERE code = $1 AND promotion_id = $2 AND (usage_limit IS NULL OR uses < usage_limit)"
    ).bind(code).bind(promotion_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// One use by a customer, within `limit` (none: counted only).
pub async fn take_customer_use(
    tx: &mut Tx,
    promotion_id: Uuid,
    customer_id: Uuid,
    limit: Option<i64>,
) -> Result<bool> {
    let limit = limit.unwrap_or(i64::MAX);
    let done = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO promotions_customer_uses (promotion_id, customer_id, uses)
         SELECT $1, $2, 1 WHERE $3 >= 1
         ON CONFLICT (promotion_id, customer_id) DO UPDATE
           SET uses = promotions_customer_uses.uses + 1
           WHERE promotions_customer_uses.uses < $3"
    ).bind(promotion_id).bind(customer_id).bind(limit).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Gives back the counted uses of a usage: of its promotion, its code, its customer.
pub async fn give_back_uses(tx: &mut Tx, usage: &UsageRow) -> Result<()> {
    if usage.took_promotion {
        on_tx!(tx, conn => sqlx::query(
            "UPDATE promotions_promotions SET uses = uses - 1 WHERE id = $1 AND uses > 0"
        ).bind(usage.promotion_id).execute(conn).await.map(|r| r.rows_affected()))?;
    }
    if let (true, Some(code)) = (usage.took_code, usage.code.as_deref()) {
        on_tx!(tx, conn => sqlx::query(
            "UPDATE promotions_codes SET uses = uses - 1 WHERE code = $1 AND uses > 0"
        ).bind(code).execute(conn).await.map(|r| r.rows_affected()))?;
    }
    if usage.took_customer {
        on_tx!(tx, conn => sqlx::query(
            "UPDATE promotions_customer_uses SET uses = uses - 1
             WHERE promotion_id = $1 AND customer_id = $2 AND uses > 0"
        ).bind(usage.promotion_id).bind(usage.customer_id).execute(conn).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// The per-code limit of a code of a promotion: `None` when the code is gone, `Some(None)`
/// when unlimited (the promotion's own limit, if any, counts).
pub async fn code_limit(
    tx: &mut Tx,
    code: &str,
    promotion_id: Uuid,
) -> Result<Option<Option<i64>>> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT usage_limit FROM promotions_codes WHERE code = $1 AND promotion_id = $2"
    ).bind(code).bind(promotion_id).fetch_optional(conn).await)
}

/// A campaign's status and whether it has a budget (read without a lock).
pub async fn campaign_state(tx: &mut Tx, campaign_id: Uuid) -> Result<Option<(String, bool)>> {
    let row: Option<(String, Option<String>)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT status, budget_kind FROM promotions_campaigns WHERE id = $1"
    ).bind(campaign_id).fetch_optional(conn).await)?;
    Ok(row.map(|(status, budget)| (status, budget.is_some())))
}

/// What live checkouts hold of a promotion (uses), counted from the usages.
pub async fn live_uses_of_promotion(db: &Db, promotion_id: Uuid) -> Result<i64> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM promotions_usages
         WHERE promotion_id = $1 AND state IN ('RESERVED', 'REDEEMED')"
    ).bind(promotion_id).fetch_one(pool).await)
}

/// What live checkouts hold of a campaign (spend, uses), counted from their open and paid
/// shares.
pub async fn live_figures_of_campaign(db: &Db, campaign_id: Uuid) -> Result<(i64, i64)> {
    let row: (Option<i64>, i64) = on_db!(db, pool => sqlx::query_as(
        "SELECT CAST(SUM(o.amount) AS BIGINT), COUNT(DISTINCT o.group_id)
         FROM promotions_usage_orders o
         JOIN promotions_usages u ON u.group_id = o.group_id AND u.promotion_id = o.promotion_id
         WHERE u.campaign_id = $1 AND o.state IN ('OPEN', 'PAID')"
    ).bind(campaign_id).fetch_one(pool).await)?;
    Ok((row.0.unwrap_or(0), row.1))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UsageRow {
    pub group_id: Uuid,
    pub promotion_id: Uuid,
    pub campaign_id: Uuid,
    pub code: Option<String>,
    pub customer_id: Uuid,
    pub currency: String,
    pub amount: i64,
    pub platform_funded: i64,
    pub state: String,
    pub took_promotion: bool,
    pub took_code: bool,
    pub took_customer: bool,
    pub took_campaign: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Records a usage; false when the group already has one for the promotion.
pub async fn insert_usage(tx: &mut Tx, row: &UsageRow) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO promotions_usages (group_id, promotion_id, campaign_id, code, customer_id,
            currency, amount, platform_funded, state, took_promotion, took_code, took_customer,
            took_campaign, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (group_id, promotion_id) DO NOTHING"
    ).bind(row.group_id).bind(row.promotion_id).bind(row.campaign_id).bind(&row.code)
        .bind(row.customer_id).bind(&row.currency).bind(row.amount).bind(row.platform_funded)
        .bind(&row.state).bind(row.took_promotion).bind(row.took_code).bind(row.took_customer)
        .bind(row.took_campaign).bind(row.created_at).bind(row.updated_at)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn insert_usage_order(
    tx: &mut Tx,
    order_id: Uuid,
    promotion_id: Uuid,
    group_id: Uuid,
    amount: i64,
    platform_funded: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO promotions_usage_orders (order_id, promotion_id, group_id, amount,
            platform_funded, state)
         VALUES ($1, $2, $3, $4, $5, 'OPEN') ON CONFLICT (order_id, promotion_id) DO NOTHING"
    ).bind(order_id).bind(promotion_id).bind(group_id).bind(amount).bind(platform_funded)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

const USAGE_COLUMNS: &str = "group_id, promotion_id, campaign_id, code, customer_id, currency, \
    amount, platform_funded, state, took_promotion, took_code, took_customer, took_campaign, \
    created_at, updated_at";

pub async fn usages_of_group(tx: &mut Tx, group_id: Uuid) -> Result<Vec<UsageRow>> {
    let sql = format!("SELECT {USAGE_COLUMNS} FROM promotions_usages WHERE group_id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(group_id).fetch_all(conn).await)
}

pub async fn move_usage(
    tx: &mut Tx,
    group_id: Uuid,
    promotion_id: Uuid,
    from: &str,
    to: &str,
    now: i64,
) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE promotions_usages SET state = $1, updated_at = $2
         WHERE group_id = $3 AND promotion_id = $4 AND state = $5"
    ).bind(to).bind(now).bind(group_id).bind(promotion_id).bind(from).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// One order's share of a promotion, moved by [`move_order_shares`].
#[derive(Debug, Clone)]
pub struct MovedShare {
    pub promotion_id: Uuid,
    pub amount: i64,
    pub platform_funded: i64,
    /// The state it was in.
    pub from: String,
}

/// An order's shares, each moved from one of `from` to `to`; returns the moved ones.
pub async fn move_order_shares(
    tx: &mut Tx,
    order_id: Uuid,
    from: &[&str],
    to: &str,
) -> Result<Vec<MovedShare>> {
    // One statement per state moved from: the order's event is handled with few round trips.
    let mut moved = Vec::new();
    for state in from {
        let rows: Vec<(Uuid, i64, i64)> = on_tx!(tx, conn => sqlx::query_as(
            "UPDATE promotions_usage_orders SET state = $1 WHERE order_id = $2 AND state = $3
             RETURNING promotion_id, amount, platform_funded"
        ).bind(to).bind(order_id).bind(*state).fetch_all(conn).await)?;
        moved.extend(
            rows.into_iter()
                .map(|(promotion_id, amount, platform_funded)| MovedShare {
                    promotion_id,
                    amount,
                    platform_funded,
                    from: (*state).to_owned(),
                }),
        );
    }
    Ok(moved)
}

/// Closes a checkout's open shares; returns what each promotion's closed shares held.
pub async fn close_open_shares_of_group(tx: &mut Tx, group_id: Uuid) -> Result<Vec<(Uuid, i64)>> {
    let open: Vec<(Uuid, i64)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT promotion_id, amount FROM promotions_usage_orders WHERE group_id = $1 AND state = 'OPEN'"
    ).bind(group_id).fetch_all(&mut *conn).await)?;
    on_tx!(tx, conn => sqlx::query(
        "UPDATE promotions_usage_orders SET state = 'CLOSED' WHERE group_id = $1 AND state = 'OPEN'"
    ).bind(group_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(open)
}

/// What a reservation found of its checkout.
pub enum CheckoutClaim {
    /// First: reserve.
    Claimed,
    /// Reserved before: nothing more to do.
    Reserved,
    /// Released (compensated) before: take nothing.
    Released,
}

/// The checkout's own row, taken first by reservation and release alike: whichever comes
/// second sees what the first did.
pub async fn claim_checkout(tx: &mut Tx, group_id: Uuid, now: i64) -> Result<CheckoutClaim> {
    let inserted = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO promotions_checkouts (group_id, state, updated_at) VALUES ($1, 'RESERVED', $2)
         ON CONFLICT (group_id) DO NOTHING"
    ).bind(group_id).bind(now).execute(&mut *conn).await.map(|r| r.rows_affected()))?;
    if inserted == 1 {
        return Ok(CheckoutClaim::Claimed);
    }
    let state: String = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT state FROM promotions_checkouts WHERE group_id = $1"
    ).bind(group_id).fetch_one(conn).await)?;
    Ok(if state == "RELEASED" {
        CheckoutClaim::Released
    } else {
        CheckoutClaim::Reserved
    })
}

pub async fn release_checkout(tx: &mut Tx, group_id: Uuid, now: i64) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO promotions_checkouts (group_id, state, updated_at) VALUES ($1, 'RELEASED', $2)
         ON CONFLICT (group_id) DO UPDATE SET state = 'RELEASED', updated_at = $2"
    ).bind(group_id).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Ends a live usage (RESERVED or REDEEMED) as `to`; the state it was in, if it moved.
pub async fn end_usage(
    tx: &mut Tx,
    group_id: Uuid,
    promotion_id: Uuid,
    to: &str,
    now: i64,
) -> Result<Option<String>> {
    let state: Option<String> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT state FROM promotions_usages WHERE group_id = $1 AND promotion_id = $2"
    ).bind(group_id).bind(promotion_id).fetch_optional(&mut *conn).await)?;
    let Some(state) = state.filter(|s| s == "RESERVED" || s == "REDEEMED") else {
        return Ok(None);
    };
    Ok(move_usage(tx, group_id, promotion_id, &state, to, now)
        .await?
        .then_some(state))
}

/// A checkout's usages of a campaign still RESERVED or REDEEMED.
pub async fn live_usages_of_campaign(
    tx: &mut Tx,
    group_id: Uuid,
    campaign_id: Uuid,
) -> Result<i64> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT COUNT(*) FROM promotions_usages
         WHERE group_id = $1 AND campaign_id = $2 AND state IN ('RESERVED', 'REDEEMED')"
    ).bind(group_id).bind(campaign_id).fetch_one(conn).await)
}

/// How many of a usage's order shares are in each state.
pub async fn share_states(tx: &mut Tx, group_id: Uuid, promotion_id: Uuid) -> Result<Vec<String>> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT state FROM promotions_usage_orders WHERE group_id = $1 AND promotion_id = $2"
    ).bind(group_id).bind(promotion_id).fetch_all(conn).await)
}

// ---- analytics ----

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatsRow {
    pub promotion_id: Uuid,
    pub campaign_id: Uuid,
    pub merchant_id: Option<Uuid>,
    pub currency: String,
    pub uses: i64,
    pub unique_customers: i64,
    pub discount_platform: i64,
    pub discount_merchant: i64,
    pub revenue: i64,
    pub name: String,
}

/// Adds to a promotion's figures (negative values take back).
#[allow(clippy::too_many_arguments)]
pub async fn add_stats(
    tx: &mut Tx,
    promotion_id: Uuid,
    campaign_id: Uuid,
    merchant_id: Option<Uuid>,
    currency: &str,
    uses: i64,
    discount_platform: i64,
    discount_merchant: i64,
    revenue: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO promotions_stats (promotion_id, campaign_id, merchant_id, currency, uses,
            unique_customers, discount_platform, discount_merchant, revenue)
         VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8)
         ON CONFLICT (promotion_id) DO UPDATE SET
            uses = promotions_stats.uses + $5,
            discount_platform = promotions_stats.discount_platform + $6,
            discount_merchant = promotions_stats.discount_merchant + $7,
            revenue = promotions_stats.revenue + $8"
    ).bind(promotion_id).bind(campaign_id).bind(merchant_id).bind(currency).bind(uses)
        .bind(discount_platform).bind(discount_merchant).bind(revenue)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn count_customer(tx: &mut Tx, promotion_id: Uuid, customer_id: Uuid) -> Result<()> {
    let done = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO promotions_stat_customers (promotion_id, customer_id) VALUES ($1, $2)
         ON CONFLICT (promotion_id, customer_id) DO NOTHING"
    ).bind(promotion_id).bind(customer_id).execute(&mut *conn).await.map(|r| r.rows_affected()))?;
    if done == 1 {
        on_tx!(tx, conn => sqlx::query(
            "UPDATE promotions_stats SET unique_customers = unique_customers + 1
             WHERE promotion_id = $1"
        ).bind(promotion_id).execute(conn).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Adds to a campaign's figures in one currency (negative values take back).
#[allow(clippy::too_many_arguments)]
pub async fn add_campaign_stats(
    tx: &mut Tx,
    campaign_id: Uuid,
    currency: &str,
    merchant_id: Option<Uuid>,
    uses: i64,
    unique_customers: i64,
    discount_platform: i64,
    discount_merchant: i64,
    revenue: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO promotions_campaign_stats (campaign_id, currency, merchant_id, uses,
            unique_customers, discount_platform, discount_merchant, revenue)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (campaign_id, currency) DO UPDATE SET
            uses = promotions_campaign_stats.uses + $4,
            unique_customers = promotions_campaign_stats.unique_customers + $5,
            discount_platform = promotions_campaign_stats.discount_platform + $6,
            discount_merchant = promotions_campaign_stats.discount_merchant + $7,
            revenue = promotions_campaign_stats.revenue + $8"
    ).bind(campaign_id).bind(currency).bind(merchant_id).bind(uses).bind(unique_customers)
        .bind(discount_platform).bind(discount_merchant).bind(revenue)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Marks a checkout, order and customer as counted for a campaign, in one statement; which
/// of them were new (`GROUP`, `ORDER`, `CUSTOMER`).
pub async fn mark_all(
    tx: &mut Tx,
    campaign_id: Uuid,
    group_id: Uuid,
    order_id: Uuid,
    customer_id: Uuid,
) -> Result<Vec<String>> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "INSERT INTO promotions_campaign_marks (campaign_id, kind, ref_id)
         VALUES ($1, 'GROUP', $2), ($1, 'ORDER', $3), ($1, 'CUSTOMER', $4)
         ON CONFLICT (campaign_id, kind, ref_id) DO NOTHING RETURNING kind"
    ).bind(campaign_id).bind(group_id).bind(order_id).bind(customer_id).fetch_all(conn).await)
}

/// Takes a mark back (a refund); false when there was none.
pub async fn unmark(tx: &mut Tx, campaign_id: Uuid, kind: &str, ref_id: Uuid) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "DELETE FROM promotions_campaign_marks WHERE campaign_id = $1 AND kind = $2 AND ref_id = $3"
    ).bind(campaign_id).bind(kind).bind(ref_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignStatsRow {
    pub campaign_id: Uuid,
    pub currency: String,
    pub merchant_id: Option<Uuid>,
    pub uses: i64,
    pub unique_customers: i64,
    pub discount_platform: i64,
    pub discount_merchant: i64,
    pub revenue: i64,
    pub title: String,
}

pub async fn campaign_stats(db: &Db, merchant_id: Option<Uuid>) -> Result<Vec<CampaignStatsRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT s.campaign_id, s.currency, s.merchant_id, s.uses, s.unique_customers,
            s.discount_platform, s.discount_merchant, s.revenue, c.title
         FROM promotions_campaign_stats s JOIN promotions_campaigns c ON c.id = s.campaign_id
         WHERE ($1 IS NULL OR s.merchant_id = $1)
         ORDER BY s.revenue DESC, s.campaign_id LIMIT 1000"
    ).bind(merchant_id).fetch_all(pool).await)
}

pub async fn stats(db: &Db, merchant_id: Option<Uuid>) -> Result<Vec<StatsRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT s.promotion_id, s.campaign_id, s.merchant_id, s.currency, s.uses,
            s.unique_customers, s.discount_platform, s.discount_merchant, s.revenue, p.name
         FROM promotions_stats s JOIN promotions_promotions p ON p.id = s.promotion_id
         WHERE ($1 IS NULL OR s.merchant_id = $1)
         ORDER BY s.revenue DESC, s.promotion_id LIMIT 1000"
    ).bind(merchant_id).fetch_all(pool).await)
}
