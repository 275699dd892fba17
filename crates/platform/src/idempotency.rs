//! `Idempotency-Key` with Stripe's semantics, for POSTs that move money or stock.
//!
//! The first request with a key claims it; its answer is stored in the same transaction as its
//! effect, so a retry after a crash either finds the answer or finds no effect. Same key and
//! same body → the stored answer; other body → 422; while the first is still running → 409.
//! Keys are scoped (per user and route) and kept for at least 24 hours.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use kernel::{ApiError, Timestamp};
use ring::digest;
use serde::Serialize;
use uuid::Uuid;

use crate::db::{Db, Tx};
use crate::{on_tx, on_write};

pub const HEADER: &str = "idempotency-key";
/// Keys are kept at least this long (Stripe keeps 24 h); the daily prune deletes older ones.
pub const RETENTION_SECS: i64 = 48 * 3600;
const MAX_KEY_LEN: usize = 255;

/// The key of a request, if it sent one; a malformed key is a 400.
pub fn key_from(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LEN)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
        })?;
    Ok(Some(key.to_owned()))
}

/// Runs a request under its `Idempotency-Key`, if it sent one. The key is claimed before any
/// other work, so a retry of a request that was answered gets the stored answer whatever
/// changed since (the cart the first checkout emptied, a dependency that is down now); a
/// retry while the first attempt runs gets 409; another body under the same key 422.
///
/// `work` gets the attempt to store its answer under, with [`complete`] in the transaction
/// of its effect; when it fails, the key is freed so the client may retry with it.
/// `fingerprint` is [`fingerprint`] of the request; `lease_secs` how long an attempt may hold
/// the key before a retry presumes it dead.
pub async fn guard<F, Fut>(
    db: &Db,
    headers: &HeaderMap,
    scope: &str,
    fingerprint: &str,
    lease_secs: i64,
    work: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(Option<Attempt>) -> Fut,
    Fut: std::future::Future<Output = Result<Response, ApiError>>,
{
    let Some(key) = key_from(headers)? else {
        return work(None).await;
    };
    let claimed = claim(db, scope, &key, fingerprint, lease_secs)
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "idempotency store");
            ApiError::internal()
        })?;
    let attempt = match claimed.into_attempt() {
        Ok(attempt) => attempt,
        Err(answer) => return Ok(answer.into_response()),
    };
    let answered = work(Some(attempt.clone())).await;
    if answered.is_err() {
        if let Err(err) = abandon(db, &attempt).await {
            tracing::warn!(error = %err, "idempotency key not freed");
        }
    }
    answered
}

/// A digest of what was asked, so a reused key with another body is recognised.
pub fn fingerprint(request: &impl Serialize) -> String {
    let bytes = serde_json::to_vec(request).unwrap_or_default();
    let hash = digest::digest(&digest::SHA256, &bytes);
    hash.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The right to run the request under a key, held by one attempt at a time.
#[derive(Debug, Clone)]
pub struct Attempt {
    scope: String,
    key: String,
    token: Uuid,
}

/// What a claim found.
#[derive(Debug)]
pub enum Claim {
    /// Run the request, then [`complete`] in its transaction (or [`abandon`] on failure).
    Run(Attempt),
    /// Already answered: send this again.
    Replay(StoredResponse),
    /// The key was used with another request body.
    Mismatch,
    /// Another attempt with this key is running.
    InProgress,
}

#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub status: u16,
    pub body: serde_json::Value,
}

impl IntoResponse for StoredResponse {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let mut response = (status, axum::Json(self.body)).into_response();
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
        response
    }
}

/// The answer to a request whose key was already used.
#[derive(Debug)]
pub enum Answer {
    Replay(StoredResponse),
    Mismatch,
    InProgress,
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        match self {
            Answer::Replay(stored) => stored.into_response(),
            Answer::Mismatch => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request",
            )
            .into_response(),
            Answer::InProgress => ApiError::conflict(
                "idempotency_key_in_use",
                "A request with this Idempotency-Key is in progress; retry later",
            )
            .into_response(),
        }
    }
}

impl Claim {
    /// The attempt to run under, or the answer to give instead.
    pub fn into_attempt(self) -> Result<Attempt, Answer> {
        match self {
            Claim::Run(attempt) => Ok(attempt),
            Claim::Replay(stored) => Err(Answer::Replay(stored)),
            Claim::Mismatch => Err(Answer::Mismatch),
            Claim::InProgress => Err(Answer::InProgress),
        }
    }
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    fingerprint: String,
    attempt: Uuid,
    locked_until: Option<i64>,
    response_status: Option<i32>,
    response_body: Option<String>,
}

/// Claims `key` in `scope` for a request with `fingerprint`, in a transaction of its own.
pub async fn claim(
    db: &Db,
    scope: &str,
    key: &str,
    fingerprint: &str,
    lease_secs: i64,
) -> Result<Claim, sqlx::Error> {
    let mut tx = db.begin().await?;
    let claim = claim_in(&mut tx, scope, key, fingerprint, lease_secs).await?;
    tx.commit().await?;
    Ok(claim)
}

/// Claims `key` in the caller's transaction (so the claim and the first step of the work
/// commit together). An attempt that holds a key longer than `lease_secs` without answering is
/// presumed dead, and the key can be claimed again.
pub async fn claim_in(
    tx: &mut Tx,
    scope: &str,
    key: &str,
    fingerprint: &str,
    lease_secs: i64,
) -> Result<Claim, sqlx::Error> {
    let now = Timestamp::now();
    let token = kernel::new_id();
    let inserted = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO platform_idempotency (scope, key, fingerprint, attempt, locked_until, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (scope, key) DO NOTHING",
    )
    .bind(scope)
    .bind(key)
    .bind(fingerprint)
    .bind(token)
    .bind(now.plus_seconds(lease_secs).millis())
    .bind(now.millis())
    .execute(conn).await.map(|r| r.rows_affected()))?;
    let attempt = Attempt {
        scope: scope.to_owned(),
        key: key.to_owned(),
        token,
    };
    if inserted == 1 {
        return Ok(Claim::Run(attempt));
    }
    let row: Option<KeyRow> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT fingerprint, attempt, locked_until, response_status, response_body
         FROM platform_idempotency WHERE scope = $1 AND key = $2",
    )
    .bind(scope)
    .bind(key)
    .fetch_optional(conn).await)?;
    let Some(row) = row else {
        // Pruned between the two statements: a retry finds it free.
        return Ok(Claim::InProgress);
    };
    if row.fingerprint != fingerprint {
        return Ok(Claim::Mismatch);
    }
    if let Some(status) = row.response_status {
        let body = row
            .response_body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(serde_json::Value::Null);
        return Ok(Claim::Replay(StoredResponse {
            status: u16::try_from(status).unwrap_or(200),
            body,
        }));
    }
    if row.locked_until.is_some_and(|until| until > now.millis()) {
        return Ok(Claim::InProgress);
    }
    // The holder died: take the key over, conditionally, so only one retry wins.
    let taken = on_tx!(tx, conn => sqlx::query(
        "UPDATE platform_idempotency SET attempt = $1, locked_until = $2
         WHERE scope = $3 AND key = $4 AND attempt = $5 AND response_status IS NULL",
    )
    .bind(token)
    .bind(now.plus_seconds(lease_secs).millis())
    .bind(scope)
    .bind(key)
    .bind(row.attempt)
    .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(if taken == 1 {
        Claim::Run(attempt)
    } else {
        Claim::InProgress
    })
}

/// Stores the answer in the transaction of the effect. False when this attempt no longer holds
/// the key (its lease ran out and another took over): the caller must roll back.
pub async fn complete(
    tx: &mut Tx,
    attempt: &Attempt,
    status: StatusCode,
    body: &impl Serialize,
) -> Result<bool, sqlx::Error> {
    let body = serde_json::to_string(body).unwrap_or_else(|_| "null".into());
    let updated = on_tx!(tx, conn => sqlx::query(
        "UPDATE platform_idempotency SET response_status = $1, response_body = $2, locked_until = NULL
         WHERE scope = $3 AND key = $4 AND attempt = $5 AND response_status IS NULL",
    )
    .bind(i32::from(status.as_u16()))
    .bind(body)
    .bind(&attempt.scope)
    .bind(&attempt.key)
    .bind(attempt.token)
    .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

/// Frees the key after a failure that had no effect, so the client may retry with it.
pub async fn abandon(db: &Db, attempt: &Attempt) -> Result<(), sqlx::Error> {
    on_write!(db, conn => sqlx::query(
        "DELETE FROM platform_idempotency
         WHERE scope = $1 AND key = $2 AND attempt = $3 AND response_status IS NULL",
    )
    .bind(&attempt.scope)
    .bind(&attempt.key)
    .bind(attempt.token)
    .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Deletes keys past retention (called by the daily prune).
pub async fn prune(db: &Db) -> Result<u64, sqlx::Error> {
    let horizon = Timestamp::now().plus_seconds(-RETENTION_SECS).millis();
    on_write!(db, conn => sqlx::query("DELETE FROM platform_idempotency WHERE created_at < $1")
        .bind(horizon)
        .execute(conn).await.map(|r| r.rows_affected()))
}
