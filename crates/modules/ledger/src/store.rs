//! Every SQL statement of ledger, and nothing else.

use kernel::Timestamp;
use platform::db::{Db, Dialect, Tx};
use platform::{on_db, on_tx};
use uuid::Uuid;

type Result<T> = std::result::Result<T, sqlx::Error>;

/// Records a transaction header; false when this (kind, reference) was already posted.
pub async fn insert_transaction(
    tx: &mut Tx,
    id: Uuid,
    kind: &str,
    reference: &str,
    currency: &str,
    memo: &str,
    now: Timestamp,
) -> Result<bool> {
    let inserted = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO ledger_transactions (id, kind, reference, currency, memo, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, reference) DO NOTHING"
    ).bind(id).bind(kind).bind(reference).bind(currency).bind(memo).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(inserted == 1)
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_transfer(
    tx: &mut Tx,
    transaction_id: Uuid,
    seq: i32,
    debit: &str,
    credit: &str,
    amount: i64,
    currency: &str,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO ledger_transfers (transaction_id, seq, debit_account, credit_account, amount, currency, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ).bind(transaction_id).bind(seq).bind(debit).bind(credit).bind(amount).bind(currency).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Adds `delta` (credits minus debits) to an account's running balance.
pub async fn add_to_balance(
    tx: &mut Tx,
    account: &str,
    currency: &str,
    delta: i64,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO ledger_accounts (account, currency, balance, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (account, currency) DO UPDATE
         SET balance = ledger_accounts.balance + excluded.balance, updated_at = excluded.updated_at"
    ).bind(account).bind(currency).bind(delta).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Balances of accounts whose code starts with `prefix`, locked for update on PostgreSQL
/// (SQLite has one writer), as (account, currency, balance).
pub async fn balances_for_update(tx: &mut Tx, prefix: &str) -> Result<Vec<(String, String, i64)>> {
    let lock = if tx.dialect() == Dialect::Postgres {
        " ORDER BY account, currency FOR UPDATE"
    } else {
        " ORDER BY account, currency"
    };
    let sql = format!(
        "SELECT account, currency, balance FROM ledger_accounts WHERE account LIKE $1{lock}"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(format!("{prefix}%")).fetch_all(conn).await)
}

/// The balances of two accounts, as (account, currency, balance), in one query.
pub async fn balances_of(db: &Db, first: &str, second: &str) -> Result<Vec<(String, String, i64)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT account, currency, balance FROM ledger_accounts WHERE account IN ($1, $2)"
    ).bind(first).bind(second).fetch_all(pool).await)
}

pub async fn all_balances(db: &Db) -> Result<Vec<(String, String, i64)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT account, currency, balance FROM ledger_accounts ORDER BY currency, account"
    ).fetch_all(pool).await)
}

#[derive(Debug, sqlx::FromRow)]
pub struct EntryRow {
    pub transaction_id: Uuid,
    pub kind: String,
    pub memo: String,
    pub currency: String,
    pub amount: i64,
    pub created_at: i64,
}

/// The signed movements of one account (credit positive) from `from` until `to`.
pub async fn entries(
    db: &Db,
    account: &str,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<EntryRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT t.transaction_id, x.kind, x.memo, t.currency,
                CASE WHEN t.credit_account = $1 THEN t.amount ELSE -t.amount END AS amount, t.created_at
         FROM ledger_transfers t JOIN ledger_transactions x ON x.id = t.transaction_id
         WHERE (t.credit_account = $1 OR t.debit_account = $1) AND t.created_at >= $2 AND t.created_at < $3
         ORDER BY t.created_at, t.transaction_id, t.seq"
    ).bind(account).bind(from.millis()).bind(to.millis()).fetch_all(pool).await)
}

/// An account's balance per currency just before `at`.
pub async fn balance_before(db: &Db, account: &str, at: Timestamp) -> Result<Vec<(String, i64)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT currency, CAST(SUM(CASE WHEN credit_account = $1 THEN amount ELSE -amount END) AS BIGINT)
         FROM ledger_transfers WHERE (credit_account = $1 OR debit_account = $1) AND created_at < $2
         GROUP BY currency"
    ).bind(account).bind(at.millis()).fetch_all(pool).await)
}

// --- earnings on delivered goods ---

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EarningRow {
    pub order_id: Uuid,
    pub merchant_id: Uuid,
    pub currency: String,
    pub amount: i64,
    pub commission: i64,
    pub credit_at: i64,
    /// The platform-funded discount of the goods, paid to the merchant with the earning.
    pub promotion_funded: i64,
}

const EARNING_SELECT: &str =
    "SELECT order_id, merchant_id, currency, amount, commission, credit_at,
    promotion_funded FROM ledger_earnings";

/// Records a delivery's earning as HELD; false if the order already has one.
pub async fn insert_earning(tx: &mut Tx, row: &EarningRow, now: Timestamp) -> Result<bool> {
    let inserted = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO ledger_earnings (order_id, merchant_id, currency, amount, commission, status, credit_at, updated_at,
           promotion_funded)
         VALUES ($1, $2, $3, $4, $5, 'HELD', $6, $7, $8) ON CONFLICT (order_id) DO NOTHING"
    ).bind(row.order_id).bind(row.merchant_id).bind(&row.currency).bind(row.amount).bind(row.commission)
     .bind(row.credit_at).bind(now.millis()).bind(row.promotion_funded).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(inserted == 1)
}

pub async fn earning(tx: &mut Tx, order_id: Uuid) -> Result<Option<EarningRow>> {
    let sql = format!("{EARNING_SELECT} WHERE order_id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(order_id).fetch_optional(conn).await)
}

/// Moves an earning from one status to another; false if it was not in `from`.
pub async fn move_earning(
    tx: &mut Tx,
    order_id: Uuid,
    from: &str,
    to: &str,
    now: Timestamp,
) -> Result<bool> {
    let moved = on_tx!(tx, conn => sqlx::query(
        "UPDATE ledger_earnings SET status = $3, updated_at = $4 WHERE order_id = $1 AND status = $2"
    ).bind(order_id).bind(from).bind(to).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(moved == 1)
}

pub async fn due_earnings(db: &Db, now: Timestamp, limit: i64) -> Result<Vec<EarningRow>> {
    let sql = format!(
        "{EARNING_SELECT} WHERE status = 'HELD' AND credit_at <= $1 ORDER BY credit_at LIMIT $2"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(now.millis()).bind(limit).fetch_all(pool).await)
}

pub async fn held_of(db: &Db, merchant_id: Uuid) -> Result<Vec<(String, i64)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT currency, CAST(SUM(amount - commission) AS BIGINT) FROM ledger_earnings
         WHERE merchant_id = $1 AND status = 'HELD' GROUP BY currency"
    ).bind(merchant_id).fetch_all(pool).await)
}

// --- payouts ---

/// Opens the run of `period`; false if it already exists.
pub async fn insert_run(
    tx: &mut Tx,
    period: &str,
    started_by: &str,
    now: Timestamp,
) -> Result<bool> {
    let inserted = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO ledger_payout_runs (period, started_by, payouts, started_at) VALUES ($1, $2, 0, $3)
         ON CONFLICT (period) DO NOTHING"
    ).bind(period).bind(started_by).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(inserted == 1)
}

pub async fn set_run_count(tx: &mut Tx, period: &str, payouts: i32) -> Result<()> {
    on_tx!(tx, conn => sqlx::query("UPDATE ledger_payout_runs SET payouts = $2 WHERE period = $1")
        .bind(period).bind(payouts).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
pub struct RunRow {
    pub period: String,
    pub started_by: String,
    pub started_at: i64,
}

pub async fn run(db: &Db, period: &str) -> Result<Option<RunRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT period, started_by, started_at FROM ledger_payout_runs WHERE period = $1"
    ).bind(period).fetch_optional(pool).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PayoutRow {
    pub id: Uuid,
    pub period: String,
    pub merchant_id: Uuid,
    pub currency: String,
    pub amount: i64,
    pub status: String,
    pub attempts: i32,
    pub provider_reference: Option<String>,
    pub failure_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const PAYOUT_SELECT: &str = "SELECT id, period, merchant_id, currency, amount, status, attempts,
    provider_reference, failure_reason, created_at, updated_at FROM ledger_payouts";

pub async fn insert_payout(tx: &mut Tx, row: &PayoutRow) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO ledger_payouts (id, period, merchant_id, currency, amount, status, attempts, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'PENDING', 0, $6, $6)"
    ).bind(row.id).bind(&row.period).bind(row.merchant_id).bind(&row.currency).bind(row.amount)
     .bind(row.created_at).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn payout(db: &Db, id: Uuid) -> Result<Option<PayoutRow>> {
    let sql = format!("{PAYOUT_SELECT} WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn payouts_of_run(db: &Db, period: &str) -> Result<Vec<PayoutRow>> {
    let sql = format!("{PAYOUT_SELECT} WHERE period = $1 ORDER BY merchant_id, currency");
    on_db!(db, pool => sqlx::query_as(&sql).bind(period).fetch_all(pool).await)
}

pub async fn list_payouts(
    db: &Db,
    merchant_id: Option<Uuid>,
    period: Option<&str>,
    status: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<PayoutRow>> {
    let sql = format!(
        "{PAYOUT_SELECT} WHERE ($1 IS NULL OR merchant_id = $1) AND ($2 IS NULL OR period = $2)
         AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR id < $4) ORDER BY id DESC LIMIT $5"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(merchant_id).bind(period).bind(status).bind(after)
        .bind(limit).fetch_all(pool).await)
}

/// Counts an attempt at the bank.
pub async fn count_attempt(db: &Db, id: Uuid, now: Timestamp) -> Result<()> {
    platform::on_write!(db, conn => sqlx::query(
        "UPDATE ledger_payouts SET attempts = attempts + 1, updated_at = $2 WHERE id = $1 AND status = 'PENDING'"
    ).bind(id).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Settles a pending payout; false if it was no longer pending.
pub async fn settle_payout(
    tx: &mut Tx,
    id: Uuid,
    status: &str,
    reference: Option<&str>,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<bool> {
    let moved = on_tx!(tx, conn => sqlx::query(
        "UPDATE ledger_payouts SET status = $2, provider_reference = $3, failure_reason = $4, updated_at = $5
         WHERE id = $1 AND status = 'PENDING'"
    ).bind(id).bind(status).bind(reference).bind(reason).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(moved == 1)
}
