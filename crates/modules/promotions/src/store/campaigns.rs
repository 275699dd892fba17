//! Campaigns, their clock and their budgets.

use super::*;

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
