//! Every SQL statement of identity, and nothing else.

use kernel::Timestamp;
use platform::db::{like_escape, Db, Tx};
use platform::{on_db, on_tx, on_write};
use uuid::Uuid;

type Result<T> = std::result::Result<T, sqlx::Error>;

const USER_COLUMNS: &str = "id, email, phone, password_hash, first_name, last_name, roles, status, created_at, updated_at, email_verified_at, phone_verified_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub phone: Option<String>,
    pub password_hash: String,
    pub first_name: String,
    pub last_name: String,
    pub roles: String,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub email_verified_at: Option<i64>,
    pub phone_verified_at: Option<i64>,
}

pub struct NewUser<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub phone: Option<&'a str>,
    pub password_hash: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub roles: &'a str,
    pub now: Timestamp,
}

pub async fn insert_user(tx: &mut Tx, user: &NewUser<'_>) -> Result<UserRow> {
    let sql = format!(
        "INSERT INTO identity_users (id, email, phone, password_hash, first_name, last_name, roles, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'ACTIVE', $8, $8) RETURNING {USER_COLUMNS}"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(user.id)
        .bind(user.email)
        .bind(user.phone)
        .bind(user.password_hash)
        .bind(user.first_name)
        .bind(user.last_name)
        .bind(user.roles)
        .bind(user.now.millis())
        .fetch_one(conn).await)
}

pub async fn user_by_id(db: &Db, id: Uuid) -> Result<Option<UserRow>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM identity_users WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn user_by_id_in(tx: &mut Tx, id: Uuid) -> Result<Option<UserRow>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM identity_users WHERE id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

pub async fn user_by_email(db: &Db, email: &str) -> Result<Option<UserRow>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM identity_users WHERE email = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(email).fetch_optional(pool).await)
}

pub async fn user_by_phone(db: &Db, phone: &str) -> Result<Option<UserRow>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM identity_users WHERE phone = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(phone).fetch_optional(pool).await)
}

pub struct ProfileChange<'a> {
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    /// `Some(None)` clears the phone.
    pub phone: Option<Option<&'a str>>,
}

pub async fn update_profile(
    tx: &mut Tx,
    id: Uuid,
    change: &ProfileChange<'_>,
    now: Timestamp,
) -> Result<Option<UserRow>> {
    let sql = format!(
        "UPDATE identity_users SET
           first_name = COALESCE($2, first_name),
           last_name = COALESCE($3, last_name),
           phone_verified_at = CASE WHEN $4 AND phone IS DISTINCT FROM $5 THEN NULL ELSE phone_verified_at END,
           phone = CASE WHEN $4 THEN $5 ELSE phone END,
           updated_at = $6
         WHERE id = $1 RETURNING {USER_COLUMNS}"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(id)
        .bind(change.first_name)
        .bind(change.last_name)
        .bind(change.phone.is_some())
        .bind(change.phone.flatten())
        .bind(now.millis())
        .fetch_optional(conn).await)
}

/// Moves a user from one status to another; 0 rows when it was not in `from`.
pub async fn transition_status(
    tx: &mut Tx,
    id: Uuid,
    from: &str,
    to: &str,
    now: Timestamp,
) -> Result<u64> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE identity_users SET status = $3, updated_at = $4 WHERE id = $1 AND status = $2"
    ).bind(id).bind(from).bind(to).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))
}

pub async fn set_roles(tx: &mut Tx, id: Uuid, roles: &str, now: Timestamp) -> Result<u64> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE identity_users SET roles = $2, updated_at = $3 WHERE id = $1"
    ).bind(id).bind(roles).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))
}

/// Newest first; `before` is the id of the last user of the previous page.
pub async fn list_users(
    db: &Db,
    email_contains: Option<&str>,
    status: Option<&str>,
    before: Option<Uuid>,
    limit: u32,
) -> Result<Vec<UserRow>> {
    let pattern = email_contains.map(|e| format!("%{}%", like_escape(&e.to_lowercase())));
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM identity_users
         WHERE ($1 IS NULL OR email LIKE $1 ESCAPE '\\')
           AND ($2 IS NULL OR status = $2)
           AND ($3 IS NULL OR id < $3)
         ORDER BY id DESC LIMIT $4"
    );
    on_db!(db, pool => sqlx::query_as(&sql)
        .bind(pattern)
        .bind(status)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(pool).await)
}

pub async fn locked_until(db: &Db, subject: &str) -> Result<Option<i64>> {
    let row: Option<Option<i64>> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT locked_until FROM identity_login_attempts WHERE subject = $1"
    ).bind(subject).fetch_optional(pool).await)?;
    Ok(row.flatten())
}

pub struct FailurePolicy {
    pub now: Timestamp,
    pub window_secs: i64,
    pub threshold: i64,
    pub lock_secs: i64,
}

/// Counts one failed login in a single statement, so parallel attempts cannot lose a count.
/// A count older than the window starts over. Returns the lock expiry if the subject is now
/// locked.
pub async fn record_failure(db: &Db, subject: &str, policy: &FailurePolicy) -> Result<Option<i64>> {
    let now = policy.now.millis();
    let window_start = policy.now.plus_seconds(-policy.window_secs).millis();
    let lock_until = policy.now.plus_seconds(policy.lock_secs).millis();
    let locked: Option<Option<i64>> = on_db!(db, pool => sqlx::query_scalar(
        "INSERT INTO identity_login_attempts (subject, failures, window_started_at, locked_until)
         VALUES ($1, 1, $2, CASE WHEN 1 >= $4 THEN $5 ELSE NULL END)
         ON CONFLICT (subject) DO UPDATE SET
           failures = CASE WHEN identity_login_attempts.window_started_at > $3
                           THEN identity_login_attempts.failures + 1 ELSE 1 END,
           window_started_at = CASE WHEN identity_login_attempts.window_started_at > $3
                           THEN identity_login_attempts.window_started_at ELSE $2 END,
           locked_until = CASE
               WHEN identity_login_attempts.window_started_at > $3
                    AND identity_login_attempts.failures + 1 >= $4 THEN $5
               WHEN 1 >= $4 THEN $5
               ELSE identity_login_attempts.locked_until END
         RETURNING locked_until"
    )
    .bind(subject)
    .bind(now)
    .bind(window_start)
    .bind(policy.threshold)
    .bind(lock_until)
    .fetch_optional(pool).await)?;
    Ok(locked.flatten().filter(|until| *until > now))
}

pub async fn clear_failures(db: &Db, subject: &str) -> Result<()> {
    on_write!(db, conn => sqlx::query("DELETE FROM identity_login_attempts WHERE subject = $1")
        .bind(subject).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub struct NewSession<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub now: Timestamp,
    pub expires_at: Timestamp,
    /// The OAuth2 client and scope, for sessions opened through `/oauth2`.
    pub client: Option<(&'a str, &'a str)>,
}

pub async fn insert_session(tx: &mut Tx, session: &NewSession<'_>) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO identity_sessions (id, user_id, user_agent, ip, created_at, last_used_at, expires_at, client_id, scope)
         VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)"
    )
    .bind(session.id)
    .bind(session.user_id)
    .bind(session.user_agent)
    .bind(session.ip)
    .bind(session.now.millis())
    .bind(session.expires_at.millis())
    .bind(session.client.map(|c| c.0))
    .bind(session.client.map(|c| c.1))
    .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn insert_refresh_token(
    tx: &mut Tx,
    token_hash: &str,
    session_id: Uuid,
    user_id: Uuid,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO identity_refresh_tokens (token_hash, session_id, user_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(token_hash)
    .bind(session_id)
    .bind(user_id)
    .bind(now.millis())
    .bind(expires_at.millis())
    .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Spends a live refresh token in one conditional statement: of two concurrent uses exactly
/// one gets the row.
pub async fn spend_refresh_token(
    tx: &mut Tx,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<(Uuid, Uuid)>> {
    on_tx!(tx, conn => sqlx::query_as(
        "UPDATE identity_refresh_tokens SET used_at = $2
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
         RETURNING session_id, user_id"
    ).bind(token_hash).bind(now.millis()).fetch_optional(conn).await)
}

#[derive(Debug, sqlx::FromRow)]
pub struct RefreshTokenRow {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub used_at: Option<i64>,
}

pub async fn refresh_token(tx: &mut Tx, token_hash: &str) -> Result<Option<RefreshTokenRow>> {
    on_tx!(tx, conn => sqlx::query_as(
        "SELECT session_id, user_id, used_at FROM identity_refresh_tokens WHERE token_hash = $1"
    ).bind(token_hash).fetch_optional(conn).await)
}

/// `(user_id, revoked_at)` of a session.
pub async fn session_state(tx: &mut Tx, id: Uuid) -> Result<Option<(Uuid, Option<i64>)>> {
    on_tx!(tx, conn => sqlx::query_as(
        "SELECT user_id, revoked_at FROM identity_sessions WHERE id = $1"
    ).bind(id).fetch_optional(conn).await)
}

/// `(client_id, scope)` of a session opened through OAuth2.
pub async fn session_client(tx: &mut Tx, id: Uuid) -> Result<(Option<String>, Option<String>)> {
    let row: Option<(Option<String>, Option<String>)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT client_id, scope FROM identity_sessions WHERE id = $1"
    ).bind(id).fetch_optional(conn).await)?;
    Ok(row.unwrap_or((None, None)))
}

pub async fn touch_session(
    tx: &mut Tx,
    id: Uuid,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE identity_sessions SET last_used_at = $2, expires_at = $3 WHERE id = $1"
    ).bind(id).bind(now.millis()).bind(expires_at.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Revokes a live session; 0 rows when it was already revoked.
pub async fn revoke_session(tx: &mut Tx, id: Uuid, now: Timestamp, reason: &str) -> Result<u64> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE identity_sessions SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL"
    ).bind(id).bind(now.millis()).bind(reason).execute(conn).await.map(|r| r.rows_affected()))
}

pub async fn revoke_user_sessions(
    tx: &mut Tx,
    user_id: Uuid,
    now: Timestamp,
    reason: &str,
) -> Result<Vec<Uuid>> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "UPDATE identity_sessions SET revoked_at = $2, revoked_reason = $3
         WHERE user_id = $1 AND revoked_at IS NULL RETURNING id"
    ).bind(user_id).bind(now.millis()).bind(reason).fetch_all(conn).await)
}

pub async fn insert_revoked_access_token(tx: &mut Tx, jti: &str, expires_at: i64) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO identity_revoked_access_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING"
    ).bind(jti).bind(expires_at).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Sessions revoked recently enough that access tokens issued under them may still be live.
pub async fn sessions_revoked_since(db: &Db, since: Timestamp) -> Result<Vec<Uuid>> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT id FROM identity_sessions WHERE revoked_at > $1"
    ).bind(since.millis()).fetch_all(pool).await)
}

/// Denied access tokens that have not expired yet: `(jti, exp in epoch seconds)`.
pub async fn live_revoked_access_tokens(db: &Db, now_secs: i64) -> Result<Vec<(String, i64)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT jti, expires_at FROM identity_revoked_access_tokens WHERE expires_at > $1"
    ).bind(now_secs).fetch_all(pool).await)
}

/// Deletes what can no longer matter: spent or expired refresh tokens of ended sessions,
/// sessions expired for a month, expired denylist entries, stale failure counts.
pub async fn purge_expired(db: &Db, now: Timestamp, lockout_window_secs: i64) -> Result<u64> {
    let month_ago = now.plus_seconds(-30 * 24 * 3600).millis();
    let window_start = now.plus_seconds(-lockout_window_secs).millis();
    let mut removed = 0;
    on_db!(db, pool => {
        removed += sqlx::query("DELETE FROM identity_refresh_tokens WHERE expires_at < $1")
            .bind(now.millis()).execute(pool).await?.rows_affected();
        removed += sqlx::query("DELETE FROM identity_sessions WHERE expires_at < $1")
            .bind(month_ago).execute(pool).await?.rows_affected();
        removed += sqlx::query("DELETE FROM identity_revoked_access_tokens WHERE expires_at < $1")
            .bind(now.seconds()).execute(pool).await?.rows_affected();
        removed += sqlx::query(
            "DELETE FROM identity_login_attempts WHERE window_started_at < $1 AND (locked_until IS NULL OR locked_until < $2)"
        ).bind(window_start).bind(now.millis()).execute(pool).await?.rows_affected();
    });
    Ok(removed)
}

#[derive(Debug, sqlx::FromRow)]
pub struct SessionRow {
    pub id: Uuid,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
}

/// The user's live sessions, most recently used first.
pub async fn live_sessions(db: &Db, user_id: Uuid, now: Timestamp) -> Result<Vec<SessionRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, user_agent, ip, created_at, last_used_at, expires_at FROM identity_sessions
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
         ORDER BY last_used_at DESC, id DESC LIMIT 100"
    ).bind(user_id).bind(now.millis()).fetch_all(pool).await)
}

/// Revokes every live session of the user except `keep`.
pub async fn revoke_other_sessions(
    tx: &mut Tx,
    user_id: Uuid,
    keep: Option<Uuid>,
    now: Timestamp,
    reason: &str,
) -> Result<Vec<Uuid>> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "UPDATE identity_sessions SET revoked_at = $2, revoked_reason = $3
         WHERE user_id = $1 AND revoked_at IS NULL AND ($4 IS NULL OR id <> $4) RETURNING id"
    ).bind(user_id).bind(now.millis()).bind(reason).bind(keep).fetch_all(conn).await)
}

pub async fn set_password(tx: &mut Tx, user_id: Uuid, hash: &str, now: Timestamp) -> Result<u64> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE identity_users SET password_hash = $2, updated_at = $3 WHERE id = $1"
    ).bind(user_id).bind(hash).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))
}

const ADDRESS_COLUMNS: &str = "id, label, recipient, phone, street, city, province, postal_code, country, latitude, longitude, is_primary, created_at, updated_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AddressRow {
    pub id: Uuid,
    pub label: Option<String>,
    pub recipient: String,
    pub phone: String,
    pub street: String,
    pub city: String,
    pub province: Option<String>,
    pub postal_code: Option<String>,
    pub country: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub is_primary: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Primary first, then newest.
pub async fn addresses(db: &Db, user_id: Uuid) -> Result<Vec<AddressRow>> {
    let sql = format!(
        "SELECT {ADDRESS_COLUMNS} FROM identity_addresses WHERE user_id = $1
         ORDER BY is_primary DESC, id DESC"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await)
}

pub async fn address_in(tx: &mut Tx, id: Uuid, user_id: Uuid) -> Result<Option<AddressRow>> {
    let sql =
        format!("SELECT {ADDRESS_COLUMNS} FROM identity_addresses WHERE id = $1 AND user_id = $2");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).bind(user_id).fetch_optional(conn).await)
}

pub async fn count_addresses(tx: &mut Tx, user_id: Uuid) -> Result<i64> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT COUNT(*) FROM identity_addresses WHERE user_id = $1"
    ).bind(user_id).fetch_one(conn).await)
}

pub async fn clear_primary(tx: &mut Tx, user_id: Uuid) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE identity_addresses SET is_primary = FALSE WHERE user_id = $1 AND is_primary"
    ).bind(user_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub struct AddressFields<'a> {
    pub label: Option<&'a str>,
    pub recipient: &'a str,
    pub phone: &'a str,
    pub street: &'a str,
    pub city: &'a str,
    pub province: Option<&'a str>,
    pub postal_code: Option<&'a str>,
    pub country: &'a str,
    pub coordinates: Option<(f64, f64)>,
    pub is_primary: bool,
}

pub async fn insert_address(
    tx: &mut Tx,
    id: Uuid,
    user_id: Uuid,
    fields: &AddressFields<'_>,
    now: Timestamp,
) -> Result<AddressRow> {
    let sql = format!(
        "INSERT INTO identity_addresses (id, user_id, label, recipient, phone, street, city, province, postal_code, country, latitude, longitude, is_primary, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING {ADDRESS_COLUMNS}"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(id)
        .bind(user_id)
        .bind(fields.label)
        .bind(fields.recipient)
        .bind(fields.phone)
        .bind(fields.street)
        .bind(fields.city)
        .bind(fields.province)
        .bind(fields.postal_code)
        .bind(fields.country)
        .bind(fields.coordinates.map(|c| c.0))
        .bind(fields.coordinates.map(|c| c.1))
        .bind(fields.is_primary)
        .bind(now.millis())
        .fetch_one(conn).await)
}

/// Replaces an address of the user; None when the user has no such address.
pub async fn update_address(
    tx: &mut Tx,
    id: Uuid,
    user_id: Uuid,
    fields: &AddressFields<'_>,
    now: Timestamp,
) -> Result<Option<AddressRow>> {
    let sql = format!(
        "UPDATE identity_addresses SET label = $3, recipient = $4, phone = $5, street = $6, city = $7,
           province = $8, postal_code = $9, country = $10, latitude = $11, longitude = $12,
           is_primary = $13, updated_at = $14
         WHERE id = $1 AND user_id = $2 RETURNING {ADDRESS_COLUMNS}"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(id)
        .bind(user_id)
        .bind(fields.label)
        .bind(fields.recipient)
        .bind(fields.phone)
        .bind(fields.street)
        .bind(fields.city)
        .bind(fields.province)
        .bind(fields.postal_code)
        .bind(fields.country)
        .bind(fields.coordinates.map(|c| c.0))
        .bind(fields.coordinates.map(|c| c.1))
        .bind(fields.is_primary)
        .bind(now.millis())
        .fetch_optional(conn).await)
}

/// Deletes an address of the user; returns whether it was the primary one, None if absent.
pub async fn delete_address(tx: &mut Tx, id: Uuid, user_id: Uuid) -> Result<Option<bool>> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "DELETE FROM identity_addresses WHERE id = $1 AND user_id = $2 RETURNING is_primary"
    ).bind(id).bind(user_id).fetch_optional(conn).await)
}

/// Makes the user's newest address primary (after the primary one was deleted).
pub async fn promote_newest_address(tx: &mut Tx, user_id: Uuid) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE identity_addresses SET is_primary = TRUE
         WHERE id = (SELECT id FROM identity_addresses WHERE user_id = $1 ORDER BY id DESC LIMIT 1)"
    ).bind(user_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Serialises a user's concurrent changes of dependent rows (addresses) on PostgreSQL; SQLite
/// transactions already hold the write lock from their start.
pub async fn lock_user(tx: &mut Tx, user_id: Uuid) -> Result<bool> {
    let sql = match tx.dialect() {
        platform::Dialect::Postgres => "SELECT id FROM identity_users WHERE id = $1 FOR UPDATE",
        platform::Dialect::Sqlite => "SELECT id FROM identity_users WHERE id = $1",
    };
    let found: Option<Uuid> = on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(user_id).fetch_optional(conn).await)?;
    Ok(found.is_some())
}

pub async fn retire_codes(tx: &mut Tx, user_id: Uuid, purpose: &str, now: Timestamp) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE identity_one_time_codes SET consumed_at = $3
         WHERE user_id = $1 AND purpose = $2 AND consumed_at IS NULL"
    ).bind(user_id).bind(purpose).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// When the newest code of this purpose was issued, and how many were issued since `since`.
pub async fn code_history(
    tx: &mut Tx,
    user_id: Uuid,
    purpose: &str,
    since: Timestamp,
) -> Result<(Option<i64>, i64)> {
    on_tx!(tx, conn => sqlx::query_as(
        "SELECT MAX(created_at), COUNT(CASE WHEN created_at > $3 THEN 1 END)
         FROM identity_one_time_codes WHERE user_id = $1 AND purpose = $2"
    ).bind(user_id).bind(purpose).bind(since.millis()).fetch_one(conn).await)
}

pub struct NewCode<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub purpose: &'a str,
    pub destination: &'a str,
    pub code_hash: &'a str,
    pub now: Timestamp,
    pub expires_at: Timestamp,
}

pub async fn insert_code(tx: &mut Tx, code: &NewCode<'_>) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO identity_one_time_codes (id, user_id, purpose, destination, code_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(code.id)
    .bind(code.user_id)
    .bind(code.purpose)
    .bind(code.destination)
    .bind(code.code_hash)
    .bind(code.now.millis())
    .bind(code.expires_at.millis())
    .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
pub struct CodeAttempt {
    pub id: Uuid,
    pub code_hash: String,
    pub attempts: i32,
    pub destination: String,
}

/// Spends one attempt on the live code of this purpose, in one statement, so parallel guesses
/// cannot exceed the allowance. None: no live code with attempts left.
pub async fn attempt_code(
    tx: &mut Tx,
    user_id: Uuid,
    purpose: &str,
    now: Timestamp,
    max_attempts: i32,
) -> Result<Option<CodeAttempt>> {
    on_tx!(tx, conn => sqlx::query_as(
        "UPDATE identity_one_time_codes SET attempts = attempts + 1
         WHERE id = (SELECT id FROM identity_one_time_codes
                     WHERE user_id = $1 AND purpose = $2 AND consumed_at IS NULL AND expires_at > $3
                     ORDER BY created_at DESC LIMIT 1)
           AND attempts < $4
         RETURNING id, code_hash, attempts, destination"
    ).bind(user_id).bind(purpose).bind(now.millis()).bind(max_attempts).fetch_optional(conn).await)
}

/// Whether a live code exists whose attempts are used up.
pub async fn has_exhausted_code(
    tx: &mut Tx,
    user_id: Uuid,
    purpose: &str,
    now: Timestamp,
) -> Result<bool> {
    let found: Option<Uuid> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT id FROM identity_one_time_codes
         WHERE user_id = $1 AND purpose = $2 AND consumed_at IS NULL AND expires_at > $3 LIMIT 1"
    ).bind(user_id).bind(purpose).bind(now.millis()).fetch_optional(conn).await)?;
    Ok(found.is_some())
}

pub async fn consume_code(tx: &mut Tx, id: Uuid, now: Timestamp) -> Result<u64> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE identity_one_time_codes SET consumed_at = $2 WHERE id = $1 AND consumed_at IS NULL"
    ).bind(id).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))
}

/// Spends a live reset token; returns its user. Of two concurrent uses one wins.
pub async fn consume_reset_token(
    tx: &mut Tx,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<Uuid>> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "UPDATE identity_one_time_codes SET consumed_at = $2
         WHERE code_hash = $1 AND purpose = 'reset_password' AND consumed_at IS NULL AND expires_at > $2
         RETURNING user_id"
    ).bind(token_hash).bind(now.millis()).fetch_optional(conn).await)
}

pub async fn mark_email_verified(tx: &mut Tx, user_id: Uuid, now: Timestamp) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE identity_users SET email_verified_at = COALESCE(email_verified_at, $2), updated_at = $2 WHERE id = $1"
    ).bind(user_id).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Marks the phone verified if it is still the number the code was sent to.
pub async fn mark_phone_verified(
    tx: &mut Tx,
    user_id: Uuid,
    phone: &str,
    now: Timestamp,
) -> Result<u64> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE identity_users SET phone_verified_at = $3, updated_at = $3 WHERE id = $1 AND phone = $2"
    ).bind(user_id).bind(phone).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))
}

/// Replaces every piece of personal data on the user row; the row stays so that references
/// held by other modules (orders) remain valid and anonymous.
pub async fn anonymize_user(tx: &mut Tx, user_id: Uuid, now: Timestamp) -> Result<u64> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE identity_users SET email = $2, phone = NULL, first_name = 'Deleted', last_name = 'User',
           password_hash = '!', status = 'DELETED', email_verified_at = NULL, phone_verified_at = NULL,
           deleted_at = $3, updated_at = $3
         WHERE id = $1 AND status <> 'DELETED'"
    )
    .bind(user_id)
    .bind(format!("deleted+{}@deleted.invalid", user_id.simple()))
    .bind(now.millis())
    .execute(conn).await.map(|r| r.rows_affected()))
}

/// Removes the user's addresses, codes, refresh tokens and sessions' device details.
pub async fn erase_user_data(tx: &mut Tx, user_id: Uuid) -> Result<()> {
    for sql in [
        "DELETE FROM identity_addresses WHERE user_id = $1",
        "DELETE FROM identity_one_time_codes WHERE user_id = $1",
        "DELETE FROM identity_refresh_tokens WHERE user_id = $1",
        "DELETE FROM identity_external_accounts WHERE user_id = $1",
        "UPDATE identity_sessions SET user_agent = NULL, ip = NULL WHERE user_id = $1",
    ] {
        on_tx!(tx, conn => sqlx::query(sql).bind(user_id).execute(conn).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
pub struct SessionHistoryRow {
    pub id: Uuid,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: i64,
    pub last_used_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<String>,
}

pub async fn session_history(db: &Db, user_id: Uuid) -> Result<Vec<SessionHistoryRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, user_agent, ip, created_at, last_used_at, revoked_at, revoked_reason
         FROM identity_sessions WHERE user_id = $1 ORDER BY id DESC"
    ).bind(user_id).fetch_all(pool).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClientRow {
    pub client_id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub redirect_uris: String,
    pub grant_types: String,
    pub scopes: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

const CLIENT_COLUMNS: &str =
    "client_id, name, secret_hash, redirect_uris, grant_types, scopes, created_at, revoked_at";

pub async fn insert_client(db: &Db, client: &ClientRow) -> Result<()> {
    on_write!(db, conn => sqlx::query(
        "INSERT INTO identity_oauth_clients (client_id, name, secret_hash, redirect_uris, grant_types, scopes, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(&client.client_id)
    .bind(&client.name)
    .bind(&client.secret_hash)
    .bind(&client.redirect_uris)
    .bind(&client.grant_types)
    .bind(&client.scopes)
    .bind(client.created_at)
    .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A client that has not been revoked.
pub async fn live_client(db: &Db, client_id: &str) -> Result<Option<ClientRow>> {
    let sql = format!(
        "SELECT {CLIENT_COLUMNS} FROM identity_oauth_clients WHERE client_id = $1 AND revoked_at IS NULL"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(client_id).fetch_optional(pool).await)
}

pub async fn clients(db: &Db) -> Result<Vec<ClientRow>> {
    let sql = format!(
        "SELECT {CLIENT_COLUMNS} FROM identity_oauth_clients ORDER BY created_at DESC LIMIT 500"
    );
    on_db!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)
}

pub async fn revoke_client(db: &Db, client_id: &str, now: Timestamp) -> Result<u64> {
    on_write!(db, conn => sqlx::query(
        "UPDATE identity_oauth_clients SET revoked_at = $2 WHERE client_id = $1 AND revoked_at IS NULL"
    ).bind(client_id).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))
}

pub struct NewAuthCode<'a> {
    pub code_hash: &'a str,
    pub client_id: &'a str,
    pub user_id: Uuid,
    pub redirect_uri: &'a str,
    pub scope: &'a str,
    pub code_challenge: &'a str,
    pub now: Timestamp,
    pub expires_at: Timestamp,
}

pub async fn insert_auth_code(db: &Db, code: &NewAuthCode<'_>) -> Result<()> {
    on_write!(db, conn => sqlx::query(
        "INSERT INTO identity_oauth_codes (code_hash, client_id, user_id, redirect_uri, scope, code_challenge, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    .bind(code.code_hash)
    .bind(code.client_id)
    .bind(code.user_id)
    .bind(code.redirect_uri)
    .bind(code.scope)
    .bind(code.code_challenge)
    .bind(code.now.millis())
    .bind(code.expires_at.millis())
    .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
pub struct AuthCodeRow {
    pub client_id: String,
    pub user_id: Uuid,
    pub redirect_uri: String,
    pub scope: String,
    pub code_challenge: String,
}

/// Spends a live code in one statement: a code is used at most once.
pub async fn spend_auth_code(
    tx: &mut Tx,
    code_hash: &str,
    now: Timestamp,
) -> Result<Option<AuthCodeRow>> {
    on_tx!(tx, conn => sqlx::query_as(
        "UPDATE identity_oauth_codes SET used_at = $2
         WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2
         RETURNING client_id, user_id, redirect_uri, scope, code_challenge"
    ).bind(code_hash).bind(now.millis()).fetch_optional(conn).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub name: String,
    pub prefix: String,
    pub scopes: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const API_KEY_COLUMNS: &str =
    "id, owner_id, name, prefix, scopes, created_at, last_used_at, revoked_at";

pub struct NewApiKey<'a> {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub name: &'a str,
    pub prefix: &'a str,
    pub key_hash: &'a str,
    pub scopes: &'a str,
    pub created_by: Uuid,
    pub now: Timestamp,
}

pub async fn insert_api_key(db: &Db, key: &NewApiKey<'_>) -> Result<ApiKeyRow> {
    let sql = format!(
        "INSERT INTO identity_api_keys (id, owner_id, name, prefix, key_hash, scopes, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {API_KEY_COLUMNS}"
    );
    on_db!(db, pool => sqlx::query_as(&sql)
        .bind(key.id)
        .bind(key.owner_id)
        .bind(key.name)
        .bind(key.prefix)
        .bind(key.key_hash)
        .bind(key.scopes)
        .bind(key.created_by)
        .bind(key.now.millis())
        .fetch_one(pool).await)
}

pub async fn api_keys(db: &Db, owner_id: Option<Uuid>) -> Result<Vec<ApiKeyRow>> {
    let sql = format!(
        "SELECT {API_KEY_COLUMNS} FROM identity_api_keys WHERE ($1 IS NULL OR owner_id = $1)
         ORDER BY id DESC LIMIT 500"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(owner_id).fetch_all(pool).await)
}

/// A live key and its owner's roles and status.
#[derive(Debug, sqlx::FromRow)]
pub struct LiveApiKey {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub scopes: String,
    pub roles: String,
    pub status: String,
}

pub async fn live_api_key(db: &Db, key_hash: &str) -> Result<Option<LiveApiKey>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT k.id, k.owner_id, k.scopes, u.roles, u.status
         FROM identity_api_keys k JOIN identity_users u ON u.id = k.owner_id
         WHERE k.key_hash = $1 AND k.revoked_at IS NULL"
    ).bind(key_hash).fetch_optional(pool).await)
}

/// Records use at most once a minute per key, so busy integrations do not write per request.
pub async fn touch_api_key(db: &Db, id: Uuid, now: Timestamp) -> Result<()> {
    on_write!(db, conn => sqlx::query(
        "UPDATE identity_api_keys SET last_used_at = $2
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)"
    ).bind(id).bind(now.millis()).bind(now.plus_seconds(-60).millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn revoke_api_key(db: &Db, id: Uuid, now: Timestamp) -> Result<Option<String>> {
    on_db!(db, pool => sqlx::query_scalar(
        "UPDATE identity_api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING key_hash"
    ).bind(id).bind(now.millis()).fetch_optional(pool).await)
}

pub async fn insert_oidc_state(
    db: &Db,
    state: &str,
    provider: &str,
    nonce: &str,
    verifier: &str,
    now: Timestamp,
) -> Result<()> {
    on_write!(db, conn => sqlx::query(
        "INSERT INTO identity_oidc_states (state, provider, nonce, verifier, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(state).bind(provider).bind(nonce).bind(verifier)
    .bind(now.millis()).bind(now.plus_seconds(600).millis())
    .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Spends a pending sign-in; returns `(nonce, verifier)`.
pub async fn spend_oidc_state(
    db: &Db,
    state: &str,
    provider: &str,
    now: Timestamp,
) -> Result<Option<(String, String)>> {
    on_db!(db, pool => sqlx::query_as(
        "UPDATE identity_oidc_states SET used_at = $3
         WHERE state = $1 AND provider = $2 AND used_at IS NULL AND expires_at > $3
         RETURNING nonce, verifier"
    ).bind(state).bind(provider).bind(now.millis()).fetch_optional(pool).await)
}

pub async fn external_account(db: &Db, provider: &str, subject: &str) -> Result<Option<Uuid>> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT user_id FROM identity_external_accounts WHERE provider = $1 AND subject = $2"
    ).bind(provider).bind(subject).fetch_optional(pool).await)
}

pub async fn link_external_account(
    tx: &mut Tx,
    provider: &str,
    subject: &str,
    user_id: Uuid,
    email: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO identity_external_accounts (provider, subject, user_id, email, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (provider, subject) DO NOTHING"
    ).bind(provider).bind(subject).bind(user_id).bind(email).bind(now.millis())
    .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}
