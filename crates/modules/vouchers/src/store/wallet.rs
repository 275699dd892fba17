//! Voucher instances in wallets: issue, balance, PINs, expiry, reminders; gifts; voided orders.

use super::*;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InstanceRow {
    pub id: Uuid,
    pub offer_id: Uuid,
    pub merchant_id: Uuid,
    pub owner_id: Uuid,
    pub kind: String,
    pub code: String,
    pub pin: String,
    pub status: String,
    pub version: i64,
    pub face_value: i64,
    pub balance: i64,
    pub currency: String,
    pub paid_amount: i64,
    pub commission: i64,
    pub earned: i64,
    pub commission_earned: i64,
    pub source: String,
    pub issue_key: Option<String>,
    pub order_id: Option<Uuid>,
    pub group_id: Option<Uuid>,
    pub payment_id: Option<Uuid>,
    pub gifted_from: Option<Uuid>,
    pub received_at: i64,
    pub expires_at: i64,
    pub failed_pins: i32,
    pub locked: bool,
    pub created_at: i64,
    /// The platform-funded discount of the unit: paid to the merchant as the value is
    /// redeemed, on top of what the customer paid (`paid_amount`).
    pub platform_funded: i64,
}

const INSTANCE_COLUMNS: &str = "id, offer_id, merchant_id, owner_id, kind, code, pin, status, version,
    face_value, balance, currency, paid_amount, commission, earned, commission_earned, source, issue_key,
    order_id, group_id, payment_id, gifted_from, received_at, expires_at, failed_pins, locked, created_at,
    platform_funded";

/// Inserts an instance; false when its issue key was already used (a redelivered payment).
pub async fn insert_instance(tx: &mut Tx, i: &InstanceRow) -> Result<bool> {
    let sql = format!(
        "INSERT INTO vouchers_instances ({INSTANCE_COLUMNS}, reminded, updated_at) VALUES ($1, $2, $3, $4,
         $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25,
         $26, $27, $28, FALSE, $27) ON CONFLICT (issue_key) DO NOTHING"
    );
    let inserted = on_tx!(tx, conn => sqlx::query(&sql)
        .bind(i.id).bind(i.offer_id).bind(i.merchant_id).bind(i.owner_id).bind(&i.kind).bind(&i.code)
        .bind(&i.pin).bind(&i.status).bind(i.version).bind(i.face_value).bind(i.balance).bind(&i.currency)
        .bind(i.paid_amount).bind(i.commission).bind(i.earned).bind(i.commission_earned).bind(&i.source)
        .bind(&i.issue_key).bind(i.order_id).bind(i.group_id).bind(i.payment_id).bind(i.gifted_from)
        .bind(i.received_at).bind(i.expires_at).bind(i.failed_pins).bind(i.locked).bind(i.created_at)
        .bind(i.platform_funded)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(inserted == 1)
}

/// The instance issued under `issue_key`, if any (printed vouchers are issued once per key).
pub async fn instance_by_issue_key(tx: &mut Tx, issue_key: &str) -> Result<Option<InstanceRow>> {
    let sql = format!("SELECT {INSTANCE_COLUMNS} FROM vouchers_instances WHERE issue_key = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(issue_key).fetch_optional(conn).await)
}

pub async fn instance(db: &Db, id: Uuid) -> Result<Option<InstanceRow>> {
    let sql = format!("SELECT {INSTANCE_COLUMNS} FROM vouchers_instances WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn instance_in(tx: &mut Tx, id: Uuid) -> Result<Option<InstanceRow>> {
    let sql = format!("SELECT {INSTANCE_COLUMNS} FROM vouchers_instances WHERE id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

pub async fn instance_by_code(db: &Db, code: &str) -> Result<Option<InstanceRow>> {
    let sql = format!("SELECT {INSTANCE_COLUMNS} FROM vouchers_instances WHERE code = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(code).fetch_optional(pool).await)
}

pub async fn instances_of_order(tx: &mut Tx, order_id: Uuid) -> Result<Vec<InstanceRow>> {
    let sql = format!("SELECT {INSTANCE_COLUMNS} FROM vouchers_instances WHERE order_id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(order_id).fetch_all(conn).await)
}

pub async fn wallet(
    db: &Db,
    owner_id: Uuid,
    status: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<InstanceRow>> {
    let sql = format!(
        "SELECT {INSTANCE_COLUMNS} FROM vouchers_instances WHERE owner_id = $1 AND ($2 IS NULL OR status = $2)
         AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(owner_id).bind(status).bind(after).bind(limit)
        .fetch_all(pool).await)
}

/// The redemption itself: takes `amount` from the balance only if the instance is still live,
/// at `version`, and at the balance the checks saw (so what it earns is computed on the right
/// state). One statement, so parallel redeems of one
/// voucher cannot both pass.
#[allow(clippy::too_many_arguments)]
pub async fn take_balance(
    tx: &mut Tx,
    id: Uuid,
    version: i64,
    expected_balance: i64,
    amount: i64,
    earned: i64,
    commission: i64,
    now: Timestamp,
) -> Result<bool> {
    let updated = on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_instances SET balance = balance - $3,
           status = CASE WHEN balance - $3 = 0 THEN 'REDEEMED' ELSE 'PARTIALLY_REDEEMED' END,
           earned = earned + $4, commission_earned = commission_earned + $5, updated_at = $6
         WHERE id = $1 AND version = $2 AND status IN ('ACTIVE', 'PARTIALLY_REDEEMED') AND balance >= $3
           AND expires_at > $6 AND balance = $7"
    ).bind(id).bind(version).bind(amount).bind(earned).bind(commission).bind(now.millis()).bind(expected_balance)
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

/// Gives back a held amount (a redemption rejected in review).
pub async fn restore_balance(
    tx: &mut Tx,
    id: Uuid,
    amount: i64,
    earned: i64,
    commission: i64,
    now: Timestamp,
) -> Result<bool> {
    let updated = on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_instances SET balance = balance + $2,
           status = CASE WHEN balance + $2 = face_value THEN 'ACTIVE' ELSE 'PARTIALLY_REDEEMED' END,
           earned = earned - $3, commission_earned = commission_earned - $4, updated_at = $5
         WHERE id = $1 AND status IN ('PARTIALLY_REDEEMED', 'REDEEMED') AND balance + $2 <= face_value"
    ).bind(id).bind(amount).bind(earned).bind(commission).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

/// Moves a live instance at `version` to `status` and bumps its version (its QR codes stop
/// working); false if it changed meanwhile.
pub async fn close_instance(
    tx: &mut Tx,
    id: Uuid,
    version: i64,
    from: &[&str],
    status: &str,
    now: Timestamp,
) -> Result<bool> {
    let list = from
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE vouchers_instances SET status = $3, version = version + 1, updated_at = $4
         WHERE id = $1 AND version = $2 AND status IN ({list})"
    );
    let updated = on_tx!(tx, conn => sqlx::query(&sql).bind(id).bind(version).bind(status)
        .bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

/// What a PIN guess found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinCheck {
    Right,
    /// Wrong; the count of wrong guesses in a row, this one included.
    Wrong(i32),
    /// Locked before this guess: it was not compared.
    Locked,
}

/// Compares `guess` with the instance's PIN and counts it when wrong, locking at `limit`, in
/// one statement on a voucher that is not locked: guesses sent in one burst are compared one
/// after the other, and none is compared once a wrong one locked the voucher.
pub async fn check_pin(
    db: &Db,
    id: Uuid,
    guess: &str,
    limit: i32,
    now: Timestamp,
) -> Result<PinCheck> {
    let row: Option<(bool, i32)> = on_write!(db, conn => sqlx::query_as(
        "UPDATE vouchers_instances SET
           failed_pins = CASE WHEN pin = $2 THEN failed_pins ELSE failed_pins + 1 END,
           locked = CASE WHEN pin = $2 THEN locked ELSE failed_pins + 1 >= $3 END,
           updated_at = $4
         WHERE id = $1 AND NOT locked
         RETURNING pin = $2, failed_pins"
    ).bind(id).bind(guess).bind(limit).bind(now.millis()).fetch_optional(conn).await)?;
    Ok(match row {
        None => PinCheck::Locked,
        Some((true, _)) => PinCheck::Right,
        Some((false, failed)) => PinCheck::Wrong(failed),
    })
}

pub async fn reset_wrong_pins(tx: &mut Tx, id: Uuid) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_instances SET failed_pins = 0 WHERE id = $1 AND failed_pins > 0 AND NOT locked"
    ).bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn expired_candidates(db: &Db, now: Timestamp, limit: i64) -> Result<Vec<InstanceRow>> {
    let sql = format!(
        "SELECT {INSTANCE_COLUMNS} FROM vouchers_instances
         WHERE status IN ('ACTIVE', 'PARTIALLY_REDEEMED') AND expires_at <= $1 ORDER BY expires_at LIMIT $2"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(now.millis()).bind(limit).fetch_all(pool).await)
}

pub async fn expire(tx: &mut Tx, id: Uuid, now: Timestamp) -> Result<bool> {
    let updated = on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_instances SET status = 'EXPIRED', version = version + 1, updated_at = $2
         WHERE id = $1 AND status IN ('ACTIVE', 'PARTIALLY_REDEEMED') AND expires_at <= $2"
    ).bind(id).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

pub async fn reminder_candidates(
    db: &Db,
    horizon: Timestamp,
    limit: i64,
) -> Result<Vec<InstanceRow>> {
    let sql = format!(
        "SELECT {INSTANCE_COLUMNS} FROM vouchers_instances
         WHERE status IN ('ACTIVE', 'PARTIALLY_REDEEMED') AND reminded = FALSE AND expires_at <= $1
         ORDER BY expires_at LIMIT $2"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(horizon.millis()).bind(limit).fetch_all(pool).await)
}

pub async fn mark_reminded(tx: &mut Tx, id: Uuid) -> Result<bool> {
    let updated = on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_instances SET reminded = TRUE WHERE id = $1 AND reminded = FALSE"
    ).bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GiftRow {
    pub id: Uuid,
    pub instance_id: Uuid,
    pub from_customer: Uuid,
    pub to_email: Option<String>,
    pub to_phone: Option<String>,
    pub message: Option<String>,
    pub status: String,
    pub new_instance_id: Option<Uuid>,
    pub created_at: i64,
}

const GIFT_COLUMNS: &str =
    "id, instance_id, from_customer, to_email, to_phone, message, status, new_instance_id, created_at";

pub async fn insert_gift(tx: &mut Tx, g: &GiftRow, token_hash: &str) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO vouchers_gifts (id, instance_id, from_customer, to_email, to_phone, message, token_hash,
           status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'PENDING', $8)"
    ).bind(g.id).bind(g.instance_id).bind(g.from_customer).bind(&g.to_email).bind(&g.to_phone)
     .bind(&g.message).bind(token_hash).bind(g.created_at).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn gift_by_token(tx: &mut Tx, token_hash: &str) -> Result<Option<GiftRow>> {
    let sql = format!("SELECT {GIFT_COLUMNS} FROM vouchers_gifts WHERE token_hash = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(token_hash).fetch_optional(conn).await)
}

pub async fn gift_in(tx: &mut Tx, id: Uuid) -> Result<Option<GiftRow>> {
    let sql = format!("SELECT {GIFT_COLUMNS} FROM vouchers_gifts WHERE id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

pub async fn gifts_from(db: &Db, customer: Uuid) -> Result<Vec<GiftRow>> {
    let sql = format!(
        "SELECT {GIFT_COLUMNS} FROM vouchers_gifts WHERE from_customer = $1 ORDER BY created_at DESC LIMIT 100"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(customer).fetch_all(pool).await)
}

/// The gift of `instance_id` still waiting for its recipient, if any.
pub async fn pending_gift_of(tx: &mut Tx, instance_id: Uuid) -> Result<Option<GiftRow>> {
    let sql = format!(
        "SELECT {GIFT_COLUMNS} FROM vouchers_gifts WHERE instance_id = $1 AND status = 'PENDING'"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(instance_id).fetch_optional(conn).await)
}

/// Remembers that `order_id`'s vouchers were voided; false if it already was.
pub async fn mark_order_voided(tx: &mut Tx, order_id: Uuid, now: Timestamp) -> Result<bool> {
    let inserted = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO vouchers_voided_orders (order_id, voided_at) VALUES ($1, $2)
         ON CONFLICT (order_id) DO NOTHING"
    ).bind(order_id).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(inserted == 1)
}

pub async fn order_voided(tx: &mut Tx, order_id: Uuid) -> Result<bool> {
    let found: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT voided_at FROM vouchers_voided_orders WHERE order_id = $1"
    ).bind(order_id).fetch_optional(conn).await)?;
    Ok(found.is_some())
}

pub async fn decide_gift(
    tx: &mut Tx,
    id: Uuid,
    status: &str,
    accepted_by: Option<Uuid>,
    new_instance: Option<Uuid>,
    now: Timestamp,
) -> Result<bool> {
    let updated = on_tx!(tx, conn => sqlx::query(
        "UPDATE vouchers_gifts SET status = $2, accepted_by = $3, new_instance_id = $4, decided_at = $5
         WHERE id = $1 AND status = 'PENDING'"
    ).bind(id).bind(status).bind(accepted_by).bind(new_instance).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}
