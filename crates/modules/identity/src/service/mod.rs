//! The use cases of identity: each opens its transaction, applies the domain rules, writes
//! through the store and publishes its events. Handlers call these and nothing below them.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use kernel::{Actor, ApiError, FieldError, Role, Timestamp};
use platform::bus::{self, BusError};
use platform::db::{is_unique_violation, Tx};
use platform::http::auth::{denied_session_key, denied_token_key};
use platform::Context;
use ring::rand::{SecureRandom, SystemRandom};
use uuid::Uuid;

use crate::api::*;
use crate::domain::{self, LoginIdentifier, UserStatus};
use crate::hasher::PasswordHashers;
use crate::store::{self, UserRow};

mod account;
mod addresses;
mod api_keys;
mod deletion;
mod oauth;
mod signin;
mod social;
mod users;

pub use api_keys::{forget_key, ApiKeyCheck, API_KEY_CACHE_TTL};
pub use oauth::{AuthorizeFailure, OAuthError, ValidAuthorize};
mod verification;

pub use verification::Verify;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("an account with this phone number already exists")]
    PhoneTaken,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("account locked until {until_ms}")]
    Locked { until_ms: i64 },
    #[error("account suspended")]
    Suspended,
    #[error("refresh token invalid")]
    InvalidRefreshToken,
    #[error("refresh token reused")]
    RefreshTokenReused,
    #[error("user not found")]
    UserNotFound,
    #[error("user is not {expected}")]
    WrongStatus { expected: &'static str },
    #[error("admins cannot suspend themselves")]
    SelfSuspension,
    #[error("session not found")]
    SessionNotFound,
    #[error("address not found")]
    AddressNotFound,
    #[error("address limit reached")]
    AddressLimit,
    #[error("already verified")]
    AlreadyVerified,
    #[error("no phone number on the account")]
    NoPhone,
    #[error("a code was sent recently")]
    CodeCooldown { retry_after_secs: i64 },
    #[error("wrong code")]
    WrongCode { attempts_left: i32 },
    #[error("code locked after too many attempts")]
    CodeLocked,
    #[error("no active code")]
    NoActiveCode,
    #[error("reset token invalid")]
    InvalidResetToken,
    #[error("client not found")]
    ClientNotFound,
    #[error("API key not found")]
    ApiKeyNotFound,
    #[error("unknown sign-in provider")]
    UnknownProvider,
    #[error("sign-in state invalid")]
    InvalidState,
    #[error("identity provider: {0}")]
    Provider(String),
    #[error("the provider did not vouch for an email address")]
    ProviderEmailUnverified,
    #[error("linking needs a verified email on the existing account")]
    LinkRequiresVerifiedEmail,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("events: {0}")]
    Bus(#[from] BusError),
    #[error("password hashing or randomness: {0}")]
    Crypto(String),
    #[error("token signing: {0}")]
    Signing(#[from] platform::keyring::KeyringError),
}

impl From<IdentityError> for ApiError {
    fn from(err: IdentityError) -> Self {
        match err {
            IdentityError::Invalid(errors) => ApiError::validation(errors),
            IdentityError::EmailTaken => {
                ApiError::conflict("email_taken", "An account with this email already exists")
            }
            IdentityError::PhoneTaken => ApiError::conflict(
                "phone_taken",
                "An account with this phone number already exists",
            ),
            IdentityError::InvalidCredentials => {
                ApiError::unauthorized("invalid_credentials", "The credentials are not valid")
            }
            IdentityError::Locked { until_ms } => {
                let seconds = (until_ms - Timestamp::now().millis()).max(1000) / 1000;
                ApiError::new(
                    StatusCode::LOCKED,
                    "account_locked",
                    "Too many failed logins; the account is temporarily locked",
                )
                .with_retry_after(seconds as u64)
            }
            IdentityError::Suspended => ApiError::new(
                StatusCode::FORBIDDEN,
                "account_suspended",
                "This account is suspended",
            ),
            IdentityError::InvalidRefreshToken => ApiError::unauthorized(
                "invalid_refresh_token",
                "The refresh token is invalid or expired",
            ),
            IdentityError::RefreshTokenReused => ApiError::unauthorized(
                "refresh_token_reused",
                "This refresh token was already used; the session has been revoked",
            ),
            IdentityError::UserNotFound => ApiError::not_found("user_not_found", "No such user"),
            IdentityError::WrongStatus { expected } => ApiError::conflict(
                "invalid_status_transition",
                format!("The user is not {expected}"),
            ),
            IdentityError::SelfSuspension => {
                ApiError::conflict("cannot_suspend_self", "Admins cannot suspend themselves")
            }
            IdentityError::SessionNotFound => {
                ApiError::not_found("session_not_found", "No such active session")
            }
            IdentityError::AddressNotFound => {
                ApiError::not_found("address_not_found", "No such address")
            }
            IdentityError::AlreadyVerified => {
                ApiError::conflict("already_verified", "This is already verified")
            }
            IdentityError::NoPhone => ApiError::conflict(
                "no_phone",
                "Add a phone number to the profile before verifying it",
            ),
            IdentityError::CodeCooldown { retry_after_secs } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "verification_cooldown",
                "A code was sent recently; wait before asking for another",
            )
            .with_retry_after(retry_after_secs.max(1) as u64),
            IdentityError::WrongCode { attempts_left } => {
                ApiError::validation_one("code", "is not the code we sent")
                    .with_extension("attemptsLeft", attempts_left.into())
            }
            IdentityError::CodeLocked => ApiError::new(
                StatusCode::LOCKED,
                "code_locked",
                "Too many wrong attempts; request a new code",
            ),
            IdentityError::NoActiveCode => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "no_active_code",
                "There is no valid code; request a new one",
            ),
            IdentityError::InvalidResetToken => ApiError::bad_request(
                "invalid_reset_token",
                "The reset token is invalid, used or expired",
            ),
            IdentityError::UnknownProvider => {
                ApiError::not_found("unknown_provider", "No such sign-in provider")
            }
            IdentityError::InvalidState => ApiError::bad_request(
                "invalid_state",
                "This sign-in is unknown, used or expired; start again",
            ),
            IdentityError::Provider(ref message) => {
                tracing::warn!(message, "identity provider failure");
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "provider_error",
                    "The identity provider's answer could not be used",
                )
            }
            IdentityError::ProviderEmailUnverified => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "provider_email_unverified",
                "The provider did not confirm an email address",
            ),
            IdentityError::LinkRequiresVerifiedEmail => ApiError::conflict(
                "link_requires_verified_email",
                "An account with this email exists but its email is not verified; sign in with the password and verify it first",
            ),
            IdentityError::ApiKeyNotFound => {
                ApiError::not_found("api_key_not_found", "No such active API key")
            }
            IdentityError::ClientNotFound => {
                ApiError::not_found("client_not_found", "No such active OAuth2 client")
            }
            IdentityError::AddressLimit => ApiError::conflict(
                "address_limit_reached",
                format!(
                    "At most {} addresses can be saved",
                    crate::domain::MAX_ADDRESSES_PER_USER
                ),
            ),
            IdentityError::Database(_)
            | IdentityError::Bus(_)
            | IdentityError::Crypto(_)
            | IdentityError::Signing(_) => {
                tracing::error!(error = %err, "identity failure");
                ApiError::internal()
            }
        }
    }
}

type Result<T> = std::result::Result<T, IdentityError>;

pub(super) struct NewAccount<'a> {
    email: &'a str,
    phone: Option<&'a str>,
    password_hash: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    roles: &'a [Role],
}

/// Where a session is being opened from.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// `(client_id, scope)` when the session is opened for an OAuth2 client.
    pub oauth: Option<(String, String)>,
}

pub struct Identity {
    pub ctx: Context,
    /// argon2 runs here, off the async runtime, with bounded threads and memory.
    hashers: PasswordHashers,
    api_key_cache: Arc<api_keys::ApiKeyCache>,
    /// Outbound HTTP (OIDC providers).
    http: reqwest::Client,
    pub(crate) random: SystemRandom,
}

impl Identity {
    pub fn new(ctx: Context) -> Arc<Self> {
        let parallelism = std::thread::available_parallelism().map_or(2, |n| n.get());
        Arc::new(Self {
            ctx,
            hashers: PasswordHashers::start(parallelism),
            api_key_cache: Default::default(),
            http: social::provider_client(),
            random: SystemRandom::new(),
        })
    }

    async fn hash_password(&self, password: &str) -> Result<String> {
        self.hashers
            .hash(password)
            .await
            .map_err(|err| IdentityError::Crypto(err.to_string()))
    }

    async fn verify_password(&self, password: &str, hash: Option<&str>) -> Result<bool> {
        self.hashers
            .verify(password, hash)
            .await
            .map_err(|err| IdentityError::Crypto(err.to_string()))
    }

    pub(crate) fn new_refresh_token(&self) -> Result<String> {
        let mut bytes = [0u8; 32];
        self.random
            .fill(&mut bytes)
            .map_err(|_| IdentityError::Crypto("no randomness".into()))?;
        Ok(domain::new_refresh_token(&bytes))
    }

    fn refresh_ttl(&self) -> i64 {
        self.ctx.config.auth.refresh_token_ttl_secs
    }

    /// Opens a session (a new refresh-token family) and issues its first token pair.
    pub(crate) async fn open_session(
        &self,
        tx: &mut Tx,
        user: &UserRow,
        client: &ClientInfo,
        now: Timestamp,
    ) -> Result<TokenResponse> {
        let session_id = kernel::new_id();
        let expires_at = now.plus_seconds(self.refresh_ttl());
        store::insert_session(
            tx,
            &store::NewSession {
                id: session_id,
                user_id: user.id,
                user_agent: client.user_agent.as_deref(),
                ip: client.ip.as_deref(),
                now,
                expires_at,
                client: client.oauth.as_ref().map(|(c, s)| (c.as_str(), s.as_str())),
            },
        )
        .await?;
        let refresh_token = self.new_refresh_token()?;
        store::insert_refresh_token(
            tx,
            &domain::hash_refresh_token(&refresh_token),
            session_id,
            user.id,
            now,
            expires_at,
        )
        .await?;
        bus::publish(
            tx,
            SOURCE,
            &UserLoggedIn {
                user_id: user.id,
                session_id,
            },
        )
        .await?;
        let oauth = client.oauth.as_ref().map(|(c, s)| (c.as_str(), s.as_str()));
        self.token_pair(user, session_id, refresh_token, oauth)
    }

    /// Tokens for a session. Through an OAuth2 client, the token carries the client and scope
    /// and only the customer role unless the `admin` scope was granted.
    fn token_pair(
        &self,
        user: &UserRow,
        session_id: Uuid,
        refresh_token: String,
        oauth: Option<(&str, &str)>,
    ) -> Result<TokenResponse> {
        let mut roles = domain::roles_from_text(&user.roles);
        let verified = user.email_verified_at.is_some();
        let (access_token, expires_in) = match oauth {
            None => self
                .ctx
                .authenticator
                .issue(user.id, &roles, session_id, verified)?,
            Some((client_id, scope)) => {
                if !crate::oauth::split(scope).contains(&"admin") {
                    roles.retain(|r| *r == Role::Customer);
                }
                self.ctx.authenticator.issue_delegated(
                    user.id,
                    &roles,
                    session_id,
                    verified,
                    Some(client_id),
                    Some(scope),
                )?
            }
        };
        Ok(TokenResponse {
            access_token,
            refresh_token,
            token_type: "Bearer".into(),
            expires_in,
        })
    }

    /// Puts denied tokens and revoked sessions that may still have live access tokens back
    /// into the cache (it does not survive restarts; the database does).
    pub async fn warm_denylist(&self) -> Result<()> {
        let now = Timestamp::now();
        let ttl = self.ctx.authenticator.deny_ttl();
        let since = now.plus_seconds(-(ttl.as_secs() as i64));
        let sessions = store::sessions_revoked_since(&self.ctx.db, since).await?;
        self.deny_sessions(&sessions).await;
        let leeway = self.ctx.config.auth.leeway_secs;
        for (jti, expires_at) in
            store::live_revoked_access_tokens(&self.ctx.db, now.seconds()).await?
        {
            let remaining = (expires_at - now.seconds()).max(0) as u64 + leeway + 5;
            self.ctx
                .cache
                .set(&denied_token_key(&jti), "1", Duration::from_secs(remaining))
                .await;
        }
        Ok(())
    }

    pub async fn purge_expired(&self) -> Result<u64> {
        Ok(store::purge_expired(
            &self.ctx.db,
            Timestamp::now(),
            self.ctx.config.auth.lockout_window_secs,
        )
        .await?)
    }
}

fn unique_conflict(err: sqlx::Error) -> IdentityError {
    if is_unique_violation(&err) {
        let text = err
            .as_database_error()
            .map(|e| format!("{} {}", e.message(), e.constraint().unwrap_or_default()))
            .unwrap_or_default();
        if text.contains("phone") {
            IdentityError::PhoneTaken
        } else {
            IdentityError::EmailTaken
        }
    } else {
        IdentityError::Database(err)
    }
}

pub(crate) fn user_view(row: &UserRow) -> UserView {
    UserView {
        id: row.id,
        email: row.email.clone(),
        phone: row.phone.clone(),
        first_name: row.first_name.clone(),
        last_name: row.last_name.clone(),
        roles: domain::roles_from_text(&row.roles),
        status: row.status.clone(),
        verification: if row.email_verified_at.is_some() {
            "VERIFIED"
        } else {
            "PENDING"
        }
        .into(),
        email_verified: row.email_verified_at.is_some(),
        phone_verified: row.phone_verified_at.is_some(),
        created_at: Timestamp::from_millis(row.created_at),
        updated_at: Timestamp::from_millis(row.updated_at),
    }
}
