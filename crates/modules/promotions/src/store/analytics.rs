//! Figures per promotion and per campaign.

use super::*;

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
