//! Every SQL statement of merchants, and nothing else.

use kernel::Timestamp;
use platform::db::{Db, Tx};
use platform::{on_db, on_tx};
use uuid::Uuid;

type Result<T> = std::result::Result<T, sqlx::Error>;

const MERCHANT_COLUMNS: &str = "id, owner_user_id, business_name, legal_name, business_type, \
    tax_id, contact_email, contact_phone, description, address, latitude, longitude, category, \
    documents, status, status_reason, commission_bps, bank_account, created_at, updated_at";

/// A merchant as stored; JSON columns (address, documents, bank account) are text.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MerchantRow {
    pub id: Uuid,
    pub owner_user_id: Uuid,
    pub business_name: String,
    pub legal_name: String,
    pub business_type: String,
    pub tax_id: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub description: Option<String>,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub category: String,
    pub documents: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub commission_bps: Option<i32>,
    pub bank_account: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn insert_merchant(tx: &mut Tx, m: &MerchantRow) -> Result<()> {
    let sql = format!(
        "INSERT INTO merchants_merchants ({MERCHANT_COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
    );
    on_tx!(tx, conn => sqlx::query(&sql)
        .bind(m.id).bind(m.owner_user_id).bind(&m.business_name).bind(&m.legal_name)
        .bind(&m.business_type).bind(&m.tax_id).bind(&m.contact_email).bind(&m.contact_phone)
        .bind(&m.description).bind(&m.address).bind(m.latitude).bind(m.longitude)
        .bind(&m.category).bind(&m.documents).bind(&m.status).bind(&m.status_reason)
        .bind(m.commission_bps).bind(&m.bank_account).bind(m.created_at).bind(m.updated_at)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn merchant(db: &Db, id: Uuid) -> Result<Option<MerchantRow>> {
    let sql = format!("SELECT {MERCHANT_COLUMNS} FROM merchants_merchants WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn merchant_in(tx: &mut Tx, id: Uuid) -> Result<Option<MerchantRow>> {
    let sql = format!("SELECT {MERCHANT_COLUMNS} FROM merchants_merchants WHERE id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

/// Merchants in `status` (any when None), by id, after the cursor.
pub async fn list(
    db: &Db,
    status: Option<&str>,
    category: Option<&str>,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<MerchantRow>> {
    let sql = format!(
        "SELECT {MERCHANT_COLUMNS} FROM merchants_merchants
         WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR category = $2) AND ($3 IS NULL OR id > $3)
         ORDER BY id LIMIT $4"
    );
    on_db!(db, pool => sqlx::query_as(&sql)
        .bind(status).bind(category).bind(after).bind(i64::from(limit))
        .fetch_all(pool).await)
}

pub async fn update_profile(tx: &mut Tx, m: &MerchantRow) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE merchants_merchants SET business_name = $2, description = $3, contact_email = $4,
           contact_phone = $5, address = $6, latitude = $7, longitude = $8, category = $9,
           documents = $10, updated_at = $11
         WHERE id = $1"
    ).bind(m.id).bind(&m.business_name).bind(&m.description).bind(&m.contact_email)
     .bind(&m.contact_phone).bind(&m.address).bind(m.latitude).bind(m.longitude)
     .bind(&m.category).bind(&m.documents).bind(m.updated_at)
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Moves the status only from `from`: a concurrent change makes this affect no row.
pub async fn set_status(
    tx: &mut Tx,
    id: Uuid,
    from: &str,
    to: &str,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<bool> {
    let changed = on_tx!(tx, conn => sqlx::query(
        "UPDATE merchants_merchants SET status = $3, status_reason = $4, updated_at = $5
         WHERE id = $1 AND status = $2"
    ).bind(id).bind(from).bind(to).bind(reason).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(changed == 1)
}

pub async fn set_commission(
    tx: &mut Tx,
    id: Uuid,
    rate: Option<i32>,
    now: Timestamp,
) -> Result<bool> {
    let changed = on_tx!(tx, conn => sqlx::query(
        "UPDATE merchants_merchants SET commission_bps = $2, updated_at = $3 WHERE id = $1"
    ).bind(id).bind(rate).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(changed == 1)
}

pub async fn set_bank_account(tx: &mut Tx, id: Uuid, account: &str, now: Timestamp) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE merchants_merchants SET bank_account = $2, updated_at = $3 WHERE id = $1"
    ).bind(id).bind(account).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub merchant_id: Uuid,
    pub user_id: Uuid,
    pub role: String,
    pub created_at: i64,
}

/// Adds a member; false when the user already is one.
pub async fn insert_member(
    tx: &mut Tx,
    merchant_id: Uuid,
    user_id: Uuid,
    role: &str,
    now: Timestamp,
) -> Result<bool> {
    let inserted = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO merchants_members (merchant_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (merchant_id, user_id) DO NOTHING"
    ).bind(merchant_id).bind(user_id).bind(role).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(inserted == 1)
}

/// Removes a non-owner member; false when there was none to remove.
pub async fn remove_member(tx: &mut Tx, merchant_id: Uuid, user_id: Uuid) -> Result<bool> {
    let removed = on_tx!(tx, conn => sqlx::query(
        "DELETE FROM merchants_members WHERE merchant_id = $1 AND user_id = $2 AND role <> 'owner'"
    ).bind(merchant_id).bind(user_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(removed == 1)
}

pub async fn member_role(tx: &mut Tx, merchant_id: Uuid, user_id: Uuid) -> Result<Option<String>> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT role FROM merchants_members WHERE merchant_id = $1 AND user_id = $2"
    ).bind(merchant_id).bind(user_id).fetch_optional(conn).await)
}

pub async fn members(db: &Db, merchant_id: Uuid) -> Result<Vec<MemberRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT merchant_id, user_id, role, created_at FROM merchants_members
         WHERE merchant_id = $1 ORDER BY created_at, user_id"
    ).bind(merchant_id).fetch_all(pool).await)
}

/// `(merchant_id, role, business_name, status)` of merchants where the user is staff, except
/// those that are gone (rejected or closed).
pub async fn memberships_of(db: &Db, user_id: Uuid) -> Result<Vec<(Uuid, String, String, String)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT m.merchant_id, m.role, x.business_name, x.status
         FROM merchants_members m JOIN merchants_merchants x ON x.id = m.merchant_id
         WHERE m.user_id = $1 AND x.status NOT IN ('REJECTED', 'CLOSED')
         ORDER BY m.created_at"
    ).bind(user_id).fetch_all(pool).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvitationRow {
    pub id: Uuid,
    pub merchant_id: Uuid,
    pub email: String,
    pub role: String,
    pub status: String,
    pub expires_at: i64,
    pub created_at: i64,
}

/// Stores an invitation, revoking earlier pending ones to the same address.
#[allow(clippy::too_many_arguments)]
pub async fn insert_invitation(
    tx: &mut Tx,
    id: Uuid,
    merchant_id: Uuid,
    email: &str,
    role: &str,
    token_hash: &str,
    invited_by: Uuid,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE merchants_invitations SET status = 'REVOKED'
         WHERE merchant_id = $1 AND email = $2 AND status = 'PENDING'"
    ).bind(merchant_id).bind(email).execute(conn).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO merchants_invitations
           (id, merchant_id, email, role, token_hash, invited_by, status, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7, $8)"
    ).bind(id).bind(merchant_id).bind(email).bind(role).bind(token_hash).bind(invited_by)
     .bind(expires_at.millis()).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

const INVITATION_COLUMNS: &str = "id, merchant_id, email, role, status, expires_at, created_at";

pub async fn invitations(db: &Db, merchant_id: Uuid) -> Result<Vec<InvitationRow>> {
    let sql = format!(
        "SELECT {INVITATION_COLUMNS} FROM merchants_invitations WHERE merchant_id = $1 ORDER BY id DESC LIMIT 200"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(merchant_id).fetch_all(pool).await)
}

/// Claims a pending, unexpired invitation by its token hash (exactly once).
/// Accepts the pending invitation of `token_hash` if it was sent to `email`.
pub async fn accept_invitation(
    tx: &mut Tx,
    token_hash: &str,
    email: &str,
    user_id: Uuid,
    now: Timestamp,
) -> Result<Option<InvitationRow>> {
    let sql = format!(
        "UPDATE merchants_invitations SET status = 'ACCEPTED', accepted_by = $2
         WHERE token_hash = $1 AND status = 'PENDING' AND expires_at > $3 AND email = $4
         RETURNING {INVITATION_COLUMNS}"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(token_hash).bind(user_id).bind(now.millis())
        .bind(email).fetch_optional(conn).await)
}

pub async fn pending_invitation(
    tx: &mut Tx,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<InvitationRow>> {
    let sql = format!(
        "SELECT {INVITATION_COLUMNS} FROM merchants_invitations
         WHERE token_hash = $1 AND status = 'PENDING' AND expires_at > $2"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(token_hash).bind(now.millis())
        .fetch_optional(conn).await)
}

pub async fn revoke_invitation(tx: &mut Tx, merchant_id: Uuid, id: Uuid) -> Result<bool> {
    let changed = on_tx!(tx, conn => sqlx::query(
        "UPDATE merchants_invitations SET status = 'REVOKED'
         WHERE id = $1 AND merchant_id = $2 AND status = 'PENDING'"
    ).bind(id).bind(merchant_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(changed == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutletRow {
    pub id: Uuid,
    pub merchant_id: Uuid,
    pub name: String,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub phone: Option<String>,
    pub opening_hours: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn insert_outlet(tx: &mut Tx, o: &OutletRow) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO merchants_outlets (id, merchant_id, name, address, latitude, longitude, phone,
           opening_hours, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ).bind(o.id).bind(o.merchant_id).bind(&o.name).bind(&o.address).bind(o.latitude)
     .bind(o.longitude).bind(&o.phone).bind(&o.opening_hours).bind(o.created_at).bind(o.updated_at)
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Updates a live outlet of the merchant; None when there is none.
pub async fn update_outlet(tx: &mut Tx, o: &OutletRow) -> Result<Option<OutletRow>> {
    on_tx!(tx, conn => sqlx::query_as(
        "UPDATE merchants_outlets SET name = $3, address = $4, latitude = $5, longitude = $6,
           phone = $7, opening_hours = $8, updated_at = $9
         WHERE id = $1 AND merchant_id = $2 AND removed_at IS NULL
         RETURNING id, merchant_id, name, address, latitude, longitude, phone, opening_hours,
           created_at, updated_at"
    ).bind(o.id).bind(o.merchant_id).bind(&o.name).bind(&o.address).bind(o.latitude)
     .bind(o.longitude).bind(&o.phone).bind(&o.opening_hours).bind(o.updated_at)
     .fetch_optional(conn).await)
}

pub async fn remove_outlet(
    tx: &mut Tx,
    merchant_id: Uuid,
    id: Uuid,
    now: Timestamp,
) -> Result<bool> {
    let changed = on_tx!(tx, conn => sqlx::query(
        "UPDATE merchants_outlets SET removed_at = $3 WHERE id = $1 AND merchant_id = $2 AND removed_at IS NULL"
    ).bind(id).bind(merchant_id).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(changed == 1)
}

pub async fn outlets(db: &Db, merchant_id: Uuid) -> Result<Vec<OutletRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, merchant_id, name, address, latitude, longitude, phone, opening_hours,
           created_at, updated_at
         FROM merchants_outlets WHERE merchant_id = $1 AND removed_at IS NULL ORDER BY id"
    ).bind(merchant_id).fetch_all(pool).await)
}

pub async fn set_category_rate(
    tx: &mut Tx,
    merchant_id: Uuid,
    category_id: Uuid,
    rate: Option<i32>,
    now: Timestamp,
) -> Result<()> {
    match rate {
        Some(rate) => on_tx!(tx, conn => sqlx::query(
            "INSERT INTO merchants_category_commissions (merchant_id, category_id, rate_bps, updated_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (merchant_id, category_id) DO UPDATE SET rate_bps = excluded.rate_bps,
               updated_at = excluded.updated_at"
        ).bind(merchant_id).bind(category_id).bind(rate).bind(now.millis())
         .execute(conn).await.map(|r| r.rows_affected()))?,
        None => on_tx!(tx, conn => sqlx::query(
            "DELETE FROM merchants_category_commissions WHERE merchant_id = $1 AND category_id = $2"
        ).bind(merchant_id).bind(category_id).execute(conn).await.map(|r| r.rows_affected()))?,
    };
    Ok(())
}

pub async fn category_rates(db: &Db, merchant_id: Uuid) -> Result<Vec<(Uuid, i32)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT category_id, rate_bps FROM merchants_category_commissions
         WHERE merchant_id = $1 ORDER BY category_id"
    ).bind(merchant_id).fetch_all(pool).await)
}

pub async fn audit(
    tx: &mut Tx,
    merchant_id: Uuid,
    actor_id: Uuid,
    action: &str,
    detail: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO merchants_audit (id, merchant_id, actor_id, action, detail, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)"
    ).bind(kernel::new_id()).bind(merchant_id).bind(actor_id).bind(action).bind(detail)
     .bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: Uuid,
    pub merchant_id: Uuid,
    pub actor_id: Uuid,
    pub action: String,
    pub detail: Option<String>,
    pub created_at: i64,
}

pub async fn audit_trail(
    db: &Db,
    merchant_id: Uuid,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<AuditRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, merchant_id, actor_id, action, detail, created_at FROM merchants_audit
         WHERE merchant_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
    ).bind(merchant_id).bind(after).bind(i64::from(limit)).fetch_all(pool).await)
}
