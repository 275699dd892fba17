//! Checkouts' reservations of limits and budgets, and the usages orders' events move.

use super::*;

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
