//! Every SQL statement of loyalty, and nothing else. The balance moves in the transaction of
//! its entry; a debit that must be covered is one conditional update
//! (`... WHERE balance >= $1`), so concurrent redemptions never overdraw.

use platform::db::{Db, Tx};
use platform::{on_db, on_tx};
use uuid::Uuid;

type Result<T> = std::result::Result<T, sqlx::Error>;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub balance: i64,
    pub tier: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntryRow {
    pub id: Uuid,
    pub kind: String,
    pub points: i64,
    pub reference: Option<String>,
    pub reason: Option<String>,
    pub expires_at: Option<i64>,
    pub created_at: i64,
}

/// A new entry, before it is written.
pub struct NewEntry<'a> {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub kind: &'a str,
    pub points: i64,
    /// Credits only.
    pub expires_at: Option<i64>,
    pub qualifying: i64,
    pub reference: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub actor_id: Option<Uuid>,
}

/// The account, made on first use at the lowest tier.
pub async fn ensure_account(tx: &mut Tx, customer_id: Uuid, tier: &str, now: i64) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO loyalty_accounts (customer_id, balance, tier, created_at, updated_at)
         VALUES ($1, 0, $2, $3, $3) ON CONFLICT (customer_id) DO NOTHING"
    ).bind(customer_id).bind(tier).bind(now).execute(conn).await.map(|_| ()))
}

pub async fn account(db: &Db, customer_id: Uuid) -> Result<Option<AccountRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT balance, tier FROM loyalty_accounts WHERE customer_id = $1"
    ).bind(customer_id).fetch_optional(pool).await)
}

pub async fn account_in(tx: &mut Tx, customer_id: Uuid) -> Result<Option<AccountRow>> {
    on_tx!(tx, conn => sqlx::query_as(
        "SELECT balance, tier FROM loyalty_accounts WHERE customer_id = $1"
    ).bind(customer_id).fetch_optional(conn).await)
}

/// Writes the entry and moves the balance; false when a covered debit finds too few points,
/// or a once-only credit was already made (nothing written then). A credit onto a negative
/// balance (a reversal of points already spent) keeps only what lifts it above zero as
/// spendable, so the credits left always add up to the balance when it is positive.
pub async fn write_entry(
    tx: &mut Tx,
    entry: &NewEntry<'_>,
    covered: bool,
    now: i64,
) -> Result<bool> {
    let inserted = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO loyalty_entries (id, customer_id, kind, points, remaining, expires_at,
            qualifying, reference, reason, actor_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT DO NOTHING"
    ).bind(entry.id).bind(entry.customer_id).bind(entry.kind).bind(entry.points)
        .bind(entry.points.max(0)).bind(entry.expires_at).bind(entry.qualifying)
        .bind(entry.reference).bind(entry.reason).bind(entry.actor_id).bind(now)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    if inserted == 0 {
        return Ok(false);
    }
    let balance: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "UPDATE loyalty_accounts SET balance = balance + $1, updated_at = $2
         WHERE customer_id = $3 AND (NOT $4 OR balance + $1 >= 0)
         RETURNING balance"
    ).bind(entry.points).bind(now).bind(entry.customer_id).bind(covered)
        .fetch_optional(conn).await)?;
    let Some(balance) = balance else {
        return Ok(false);
    };
    if entry.points > 0 && balance < entry.points {
        on_tx!(tx, conn => sqlx::query("UPDATE loyalty_entries SET remaining = $1 WHERE id = $2")
            .bind(balance.max(0)).bind(entry.id).execute(conn).await.map(|_| ()))?;
    }
    Ok(true)
}

/// Spends `points` of the customer's credits, those expiring first first; returns the
/// earliest expiry among the credits it spent.
pub async fn consume_lots(tx: &mut Tx, customer_id: Uuid, points: i64) -> Result<Option<i64>> {
    let lots: Vec<(Uuid, i64, Option<i64>)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT id, remaining, expires_at FROM loyalty_entries
         WHERE customer_id = $1 AND remaining > 0 ORDER BY expires_at, created_at, id"
    ).bind(customer_id).fetch_all(conn).await)?;
    let mut left = points;
    let mut earliest = None;
    for (id, remaining, expires_at) in lots {
        if left == 0 {
            break;
        }
        let take = remaining.min(left);
        on_tx!(tx, conn => sqlx::query("UPDATE loyalty_entries SET remaining = remaining - $1 WHERE id = $2")
            .bind(take).bind(id).execute(conn).await.map(|_| ()))?;
        left -= take;
        earliest = earliest.or(expires_at);
    }
    Ok(earliest)
}

/// Claims a checkout for a redemption: Some(true) when new, Some(false) when it redeemed
/// already, None when it was undone first.
pub async fn claim_checkout(tx: &mut Tx, group_id: Uuid, now: i64) -> Result<Option<bool>> {
    let inserted = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO loyalty_checkouts (group_id, state, updated_at) VALUES ($1, 'TAKEN', $2)
         ON CONFLICT (group_id) DO NOTHING"
    ).bind(group_id).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
    if inserted == 1 {
        return Ok(Some(true));
    }
    let state: Option<String> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT state FROM loyalty_checkouts WHERE group_id = $1"
    ).bind(group_id).fetch_optional(conn).await)?;
    Ok(match state.as_deref() {
        Some("TAKEN") => Some(false),
        _ => None,
    })
}

pub async fn set_checkout_expiry(
    tx: &mut Tx,
    group_id: Uuid,
    expires_at: Option<i64>,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query("UPDATE loyalty_checkouts SET expires_at = $1 WHERE group_id = $2")
        .bind(expires_at).bind(group_id).execute(conn).await.map(|_| ()))
}

/// Marks a checkout undone (a redemption after this takes nothing); the earliest expiry of
/// what it spent, if it redeemed.
pub async fn release_checkout(tx: &mut Tx, group_id: Uuid, now: i64) -> Result<Option<i64>> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO loyalty_checkouts (group_id, state, updated_at) VALUES ($1, 'RELEASED', $2)
         ON CONFLICT (group_id) DO UPDATE SET state = 'RELEASED', updated_at = $2"
    ).bind(group_id).bind(now).execute(conn).await.map(|_| ()))?;
    checkout_expiry(tx, group_id).await
}

pub async fn checkout_expiry(tx: &mut Tx, group_id: Uuid) -> Result<Option<i64>> {
    let expiry: Option<Option<i64>> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT expires_at FROM loyalty_checkouts WHERE group_id = $1"
    ).bind(group_id).fetch_optional(conn).await)?;
    Ok(expiry.flatten())
}

pub async fn entry(db: &Db, id: Uuid) -> Result<Option<EntryRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, kind, points, reference, reason, expires_at, created_at FROM loyalty_entries WHERE id = $1"
    ).bind(id).fetch_optional(pool).await)
}

pub async fn entries(
    db: &Db,
    customer_id: Uuid,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<EntryRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, kind, points, reference, reason, expires_at, created_at FROM loyalty_entries
         WHERE customer_id = $1 AND ($2 IS NULL OR created_at < $2)
         ORDER BY created_at DESC, id DESC LIMIT $3"
    ).bind(customer_id).bind(before).bind(limit).fetch_all(pool).await)
}

pub async fn entry_created_at(db: &Db, customer_id: Uuid, id: Uuid) -> Result<Option<i64>> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT created_at FROM loyalty_entries WHERE customer_id = $1 AND id = $2"
    ).bind(customer_id).bind(id).fetch_optional(pool).await)
}

/// Purchase points credited since `since`, less what was taken back.
pub async fn qualifying(tx: &mut Tx, customer_id: Uuid, since: i64) -> Result<i64> {
    let sum: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT CAST(SUM(qualifying) AS BIGINT) FROM loyalty_entries
         WHERE customer_id = $1 AND created_at >= $2"
    ).bind(customer_id).bind(since).fetch_one(conn).await)?;
    Ok(sum.unwrap_or(0))
}

pub async fn qualifying_db(db: &Db, customer_id: Uuid, since: i64) -> Result<i64> {
    let sum: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT CAST(SUM(qualifying) AS BIGINT) FROM loyalty_entries
         WHERE customer_id = $1 AND created_at >= $2"
    ).bind(customer_id).bind(since).fetch_one(pool).await)?;
    Ok(sum.unwrap_or(0))
}

pub async fn set_tier(tx: &mut Tx, customer_id: Uuid, tier: &str, now: i64) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE loyalty_accounts SET tier = $1, updated_at = $2 WHERE customer_id = $3"
    ).bind(tier).bind(now).bind(customer_id).execute(conn).await.map(|_| ()))
}

/// Customers above the lowest tier: the nightly pass re-evaluates them (their purchase points
/// may have rolled out of the window).
pub async fn accounts_above(db: &Db, lowest: &str) -> Result<Vec<Uuid>> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT customer_id FROM loyalty_accounts WHERE tier <> $1"
    ).bind(lowest).fetch_all(pool).await)
}

/// The customer's credits not yet spent, those expiring first first.
pub async fn next_expiry(db: &Db, customer_id: Uuid) -> Result<Option<(i64, i64)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT CAST(SUM(remaining) AS BIGINT), expires_at FROM loyalty_entries
         WHERE customer_id = $1 AND remaining > 0 AND expires_at IS NOT NULL
         GROUP BY expires_at ORDER BY expires_at LIMIT 1"
    ).bind(customer_id).fetch_optional(pool).await)
}

pub const EXPIRY_BATCH: usize = 500;

/// Credits past their expiry with points left: (entry, customer, remaining).
pub async fn expired_lots(db: &Db, now: i64) -> Result<Vec<(Uuid, Uuid, i64)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, customer_id, remaining FROM loyalty_entries
         WHERE remaining > 0 AND expires_at <= $1 ORDER BY expires_at LIMIT $2"
    ).bind(now).bind(EXPIRY_BATCH as i64).fetch_all(pool).await)
}

/// Takes what is left of an expired credit; false when it was spent meanwhile.
pub async fn expire_lot(tx: &mut Tx, id: Uuid, remaining: i64) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE loyalty_entries SET remaining = 0 WHERE id = $1 AND remaining = $2"
    ).bind(id).bind(remaining).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Credits expiring before `before`, not yet reminded of, per customer: (customer, points,
/// first expiry).
pub async fn lots_to_remind(db: &Db, now: i64, before: i64) -> Result<Vec<(Uuid, i64, i64)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT customer_id, CAST(SUM(remaining) AS BIGINT), MIN(expires_at) FROM loyalty_entries
         WHERE remaining > 0 AND NOT reminded AND expires_at > $1 AND expires_at <= $2
         GROUP BY customer_id LIMIT 500"
    ).bind(now).bind(before).fetch_all(pool).await)
}

pub async fn mark_reminded(tx: &mut Tx, customer_id: Uuid, now: i64, before: i64) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE loyalty_entries SET reminded = TRUE
         WHERE customer_id = $1 AND remaining > 0 AND NOT reminded AND expires_at > $2 AND expires_at <= $3"
    ).bind(customer_id).bind(now).bind(before).execute(conn).await.map(|_| ()))
}

// ---- earnings ----

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EarningRow {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub total: i64,
    pub base_points: i64,
    pub points: i64,
    pub reversed: i64,
    pub state: String,
}

pub async fn insert_earning(tx: &mut Tx, row: &EarningRow, now: i64) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO loyalty_earnings (order_id, customer_id, total, base_points, points, reversed, state, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (order_id) DO NOTHING"
    ).bind(row.order_id).bind(row.customer_id).bind(row.total).bind(row.base_points)
        .bind(row.points).bind(row.reversed).bind(&row.state).bind(now)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn earning(tx: &mut Tx, order_id: Uuid) -> Result<Option<EarningRow>> {
    on_tx!(tx, conn => sqlx::query_as(
        "SELECT order_id, customer_id, total, base_points, points, reversed, state
         FROM loyalty_earnings WHERE order_id = $1"
    ).bind(order_id).fetch_optional(conn).await)
}

/// Moves an earning from `from`; false when it was not there.
pub async fn move_earning(
    tx: &mut Tx,
    order_id: Uuid,
    from: &str,
    to: &str,
    now: i64,
) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE loyalty_earnings SET state = $1, updated_at = $2 WHERE order_id = $3 AND state = $4"
    ).bind(to).bind(now).bind(order_id).bind(from).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn add_reversed(tx: &mut Tx, order_id: Uuid, points: i64, now: i64) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE loyalty_earnings SET reversed = reversed + $1, updated_at = $2 WHERE order_id = $3"
    ).bind(points).bind(now).bind(order_id).execute(conn).await.map(|_| ()))
}

pub async fn pending_points(db: &Db, customer_id: Uuid) -> Result<i64> {
    let sum: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT CAST(SUM(points - reversed) AS BIGINT) FROM loyalty_earnings
         WHERE customer_id = $1 AND state = 'PENDING'"
    ).bind(customer_id).fetch_one(pool).await)?;
    Ok(sum.unwrap_or(0))
}

// ---- redemptions ----

pub async fn insert_redemption(
    tx: &mut Tx,
    group_id: Uuid,
    order_id: Uuid,
    customer_id: Uuid,
    points: i64,
    now: i64,
) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO loyalty_redemptions (group_id, order_id, customer_id, points, state, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'TAKEN', $5, $5) ON CONFLICT (group_id, order_id) DO NOTHING"
    ).bind(group_id).bind(order_id).bind(customer_id).bind(points).bind(now)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Marks a checkout's taken points (of one order, or all) RETURNED; what was moved:
/// (customer, points).
pub async fn return_redemptions(
    tx: &mut Tx,
    group_id: Uuid,
    order_id: Option<Uuid>,
    now: i64,
) -> Result<Vec<(Uuid, i64)>> {
    on_tx!(tx, conn => sqlx::query_as(
        "UPDATE loyalty_redemptions SET state = 'RETURNED', updated_at = $1
         WHERE group_id = $2 AND ($3 IS NULL OR order_id = $3) AND state = 'TAKEN'
         RETURNING customer_id, points"
    ).bind(now).bind(group_id).bind(order_id).fetch_all(conn).await)
}

pub async fn redeemed_points(db: &Db, group_id: Uuid) -> Result<i64> {
    let sum: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT CAST(SUM(points) AS BIGINT) FROM loyalty_redemptions WHERE group_id = $1 AND state = 'TAKEN'"
    ).bind(group_id).fetch_one(pool).await)?;
    Ok(sum.unwrap_or(0))
}

// ---- achievements ----

/// Marks what `reference` names as counted toward `kind`; false when it was already.
pub async fn count_once(tx: &mut Tx, kind: &str, reference: &str, now: i64) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO loyalty_counted (kind, reference, counted_at) VALUES ($1, $2, $3)
         ON CONFLICT (kind, reference) DO NOTHING"
    ).bind(kind).bind(reference).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Counts one more of `kind` for the customer; the new count.
pub async fn count(tx: &mut Tx, customer_id: Uuid, kind: &str) -> Result<i64> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "INSERT INTO loyalty_counters (customer_id, kind, count) VALUES ($1, $2, 1)
         ON CONFLICT (customer_id, kind) DO UPDATE SET count = loyalty_counters.count + 1
         RETURNING count"
    ).bind(customer_id).bind(kind).fetch_one(conn).await)
}

pub async fn counters(db: &Db, customer_id: Uuid) -> Result<Vec<(String, i64)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT kind, count FROM loyalty_counters WHERE customer_id = $1"
    ).bind(customer_id).fetch_all(pool).await)
}

/// Records an award; false when the customer already has it.
pub async fn award(tx: &mut Tx, customer_id: Uuid, code: &str, now: i64) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO loyalty_achievements (customer_id, code, awarded_at) VALUES ($1, $2, $3)
         ON CONFLICT (customer_id, code) DO NOTHING"
    ).bind(customer_id).bind(code).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn awards(db: &Db, customer_id: Uuid) -> Result<Vec<(String, i64)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT code, awarded_at FROM loyalty_achievements WHERE customer_id = $1"
    ).bind(customer_id).fetch_all(pool).await)
}
