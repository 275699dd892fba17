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
mod social;

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

    pub async fn register(
        &self,
        request: RegisterRequest,
        client: &ClientInfo,
    ) -> Result<RegisterResponse> {
        let mut errors = Vec::new();
        let email = domain::normalize_email(&request.email)
            .map_err(|e| errors.push(e))
            .ok();
        let phone = match request.phone.as_deref() {
            Some(raw) => domain::normalize_phone(raw)
                .map_err(|e| errors.push(e))
                .ok(),
            None => None,
        };
        let first_name = domain::validate_name("firstName", &request.first_name)
            .map_err(|e| errors.push(e))
            .ok();
        let last_name = domain::validate_name("lastName", &request.last_name)
            .map_err(|e| errors.push(e))
            .ok();
        if let Err(e) = domain::check_password_policy(&request.password) {
            errors.push(e);
        }
        let (Some(email), Some(first_name), Some(last_name), true) =
            (email, first_name, last_name, errors.is_empty())
        else {
            return Err(IdentityError::Invalid(errors));
        };
        let password_hash = self.hash_password(&request.password).await?;
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let user = self
            .insert_user(
                &mut tx,
                &NewAccount {
                    email: &email,
                    phone: phone.as_deref(),
                    password_hash: &password_hash,
                    first_name: &first_name,
                    last_name: &last_name,
                    roles: &[Role::Customer],
                },
                now,
            )
            .await?;
        let tokens = self.open_session(&mut tx, &user, client, now).await?;
        self.ctx.commit(tx).await?;
        Ok(RegisterResponse {
            user: user_view(&user),
            tokens,
        })
    }

    /// Inserts a user and announces it, in the caller's transaction.
    pub(super) async fn insert_user(
        &self,
        tx: &mut Tx,
        account: &NewAccount<'_>,
        now: Timestamp,
    ) -> Result<UserRow> {
        let id = kernel::new_id();
        let roles_text = domain::roles_to_text(account.roles);
        let user = store::insert_user(
            tx,
            &store::NewUser {
                id,
                email: account.email,
                phone: account.phone,
                password_hash: account.password_hash,
                first_name: account.first_name,
                last_name: account.last_name,
                roles: &roles_text,
                now,
            },
        )
        .await
        .map_err(unique_conflict)?;
        bus::publish(
            tx,
            SOURCE,
            &UserRegistered {
                user_id: id,
                email: account.email.to_owned(),
                phone: account.phone.map(str::to_owned),
                first_name: account.first_name.to_owned(),
                last_name: account.last_name.to_owned(),
            },
        )
        .await?;
        Ok(user)
    }

    pub async fn login(&self, request: LoginRequest, client: &ClientInfo) -> Result<TokenResponse> {
        let identifier = match (request.email.as_deref(), request.phone.as_deref()) {
            (Some(email), None) => LoginIdentifier::Email(
                domain::normalize_email(email).map_err(|e| IdentityError::Invalid(vec![e]))?,
            ),
            (None, Some(phone)) => LoginIdentifier::Phone(
                domain::normalize_phone(phone).map_err(|e| IdentityError::Invalid(vec![e]))?,
            ),
            _ => {
                return Err(IdentityError::Invalid(vec![FieldError {
                    field: "email".into(),
                    message: "exactly one of email or phone is required".into(),
                }]))
            }
        };
        let user = self.authenticate(&identifier, &request.password).await?;
        let mut tx = self.ctx.db.begin().await?;
        let tokens = self
            .open_session(&mut tx, &user, client, Timestamp::now())
            .await?;
        self.ctx.commit(tx).await?;
        Ok(tokens)
    }

    /// Checks a password against an account, with the lockout: unknown accounts and wrong
    /// passwords look the same, and failures count atomically.
    pub(crate) async fn authenticate(
        &self,
        identifier: &LoginIdentifier,
        password: &str,
    ) -> Result<UserRow> {
        let user = match identifier {
            LoginIdentifier::Email(email) => store::user_by_email(&self.ctx.db, email).await?,
            LoginIdentifier::Phone(phone) => store::user_by_phone(&self.ctx.db, phone).await?,
        };
        let subject = match &user {
            Some(user) => domain::user_subject(user.id),
            None => identifier.anonymous_subject(),
        };
        self.check_not_locked(&subject).await?;
        let verified = self
            .verify_password(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await?;
        let user = match (verified, user) {
            (true, Some(user)) => user,
            (_, user) => {
                self.count_failure(&subject, user.as_ref().map(|u| u.id))
                    .await?;
                return Err(IdentityError::InvalidCredentials);
            }
        };
        store::clear_failures(&self.ctx.db, &subject).await?;
        if UserStatus::parse(&user.status) != Some(UserStatus::Active) {
            return Err(IdentityError::Suspended);
        }
        Ok(user)
    }

    async fn check_not_locked(&self, subject: &str) -> Result<()> {
        match store::locked_until(&self.ctx.db, subject).await? {
            Some(until_ms) if until_ms > Timestamp::now().millis() => {
                Err(IdentityError::Locked { until_ms })
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed password check; the failure that reaches the threshold locks the
    /// subject and is answered as locked.
    async fn count_failure(&self, subject: &str, user_id: Option<Uuid>) -> Result<()> {
        let auth = &self.ctx.config.auth;
        let locked = store::record_failure(
            &self.ctx.db,
            subject,
            &store::FailurePolicy {
                now: Timestamp::now(),
                window_secs: auth.lockout_window_secs,
                threshold: auth.lockout_threshold,
                lock_secs: auth.lockout_duration_secs,
            },
        )
        .await?;
        match (locked, user_id) {
            (Some(until_ms), Some(user_id)) => {
                self.announce_lockout(user_id).await;
                Err(IdentityError::Locked { until_ms })
            }
            (Some(until_ms), None) => Err(IdentityError::Locked { until_ms }),
            (None, _) => Ok(()),
        }
    }

    async fn announce_lockout(&self, user_id: Uuid) {
        let result: Result<()> = async {
            let mut tx = self.ctx.db.begin().await?;
            bus::publish(&mut tx, SOURCE, &UserLockedOut { user_id }).await?;
            self.ctx.commit(tx).await?;
            Ok(())
        }
        .await;
        if let Err(err) = result {
            tracing::warn!(error = %err, "could not publish user.locked_out");
        }
    }

    pub async fn refresh(&self, request: RefreshRequest) -> Result<TokenResponse> {
        self.refresh_for(&request.refresh_token, None).await
    }

    /// Rotates a refresh token. A session opened through an OAuth2 client refreshes only
    /// through that (authenticated) client, and a first-party session only first-party.
    pub(crate) async fn refresh_for(
        &self,
        refresh_token: &str,
        oauth_client: Option<&str>,
    ) -> Result<TokenResponse> {
        let hash = domain::hash_refresh_token(refresh_token);
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let Some((session_id, user_id)) = store::spend_refresh_token(&mut tx, &hash, now).await?
        else {
            return self.refuse_refresh(tx, &hash, now).await;
        };
        let session = store::session_state(&mut tx, session_id).await?;
        if !matches!(session, Some((_, None))) {
            tx.rollback().await?;
            return Err(IdentityError::InvalidRefreshToken);
        }
        let (session_client, session_scope) = store::session_client(&mut tx, session_id).await?;
        if session_client.as_deref() != oauth_client {
            tx.rollback().await?;
            return Err(IdentityError::InvalidRefreshToken);
        }
        let user = store::user_by_id_in(&mut tx, user_id)
            .await?
            .ok_or(IdentityError::InvalidRefreshToken)?;
        if UserStatus::parse(&user.status) != Some(UserStatus::Active) {
            tx.rollback().await?;
            return Err(IdentityError::Suspended);
        }
        let refresh_token = self.new_refresh_token()?;
        let expires_at = now.plus_seconds(self.refresh_ttl());
        store::insert_refresh_token(
            &mut tx,
            &domain::hash_refresh_token(&refresh_token),
            session_id,
            user_id,
            now,
            expires_at,
        )
        .await?;
        store::touch_session(&mut tx, session_id, now, expires_at).await?;
        let oauth = session_client.as_deref().zip(session_scope.as_deref());
        let tokens = self.token_pair(&user, session_id, refresh_token, oauth)?;
        self.ctx.commit(tx).await?;
        Ok(tokens)
    }

    /// A token that could not be spent: unknown or expired, or spent before. A spent token
    /// presented again means it was stolen or replayed: the whole family is revoked.
    async fn refuse_refresh(
        &self,
        mut tx: Tx,
        hash: &str,
        now: Timestamp,
    ) -> Result<TokenResponse> {
        let Some(row) = store::refresh_token(&mut tx, hash).await? else {
            tx.rollback().await?;
            return Err(IdentityError::InvalidRefreshToken);
        };
        if row.used_at.is_none() {
            tx.rollback().await?;
            return Err(IdentityError::InvalidRefreshToken);
        }
        let revoked =
            store::revoke_session(&mut tx, row.session_id, now, "refresh_token_reuse").await?;
        if revoked > 0 {
            bus::publish(
                &mut tx,
                SOURCE,
                &SessionRevoked {
                    user_id: row.user_id,
                    session_id: row.session_id,
                    reason: "refresh_token_reuse".into(),
                },
            )
            .await?;
        }
        self.ctx.commit(tx).await?;
        self.deny_sessions(&[row.session_id]).await;
        tracing::warn!(user_id = %row.user_id, session_id = %row.session_id, "refresh token reuse detected; session revoked");
        Err(IdentityError::RefreshTokenReused)
    }

    async fn deny_sessions(&self, sessions: &[Uuid]) {
        let ttl = self.ctx.authenticator.deny_ttl();
        for session in sessions {
            self.ctx
                .cache
                .set(&denied_session_key(*session), "1", ttl)
                .await;
        }
    }

    /// Ends the session of the presented refresh token (if it is the caller's) and of the
    /// access token used, and denies that access token until it expires.
    pub async fn logout(&self, actor: &Actor, request: LogoutRequest) -> Result<()> {
        let now = Timestamp::now();
        let hash = domain::hash_refresh_token(&request.refresh_token);
        let mut tx = self.ctx.db.begin().await?;
        let mut sessions = Vec::new();
        if let Some(row) = store::refresh_token(&mut tx, &hash).await? {
            if row.user_id == actor.user_id {
                sessions.push(row.session_id);
            }
        }
        if let Some(current) = actor.session_id {
            if !sessions.contains(&current) {
                sessions.push(current);
            }
        }
        for session_id in &sessions {
            if store::revoke_session(&mut tx, *session_id, now, "logout").await? > 0 {
                bus::publish(
                    &mut tx,
                    SOURCE,
                    &SessionRevoked {
                        user_id: actor.user_id,
                        session_id: *session_id,
                        reason: "logout".into(),
                    },
                )
                .await?;
            }
        }
        store::insert_revoked_access_token(&mut tx, &actor.token_id, actor.token_expires_at)
            .await?;
        self.ctx.commit(tx).await?;
        self.deny_sessions(&sessions).await;
        let remaining = (actor.token_expires_at - now.seconds()).max(0) as u64;
        self.ctx
            .cache
            .set(
                &denied_token_key(&actor.token_id),
                "1",
                Duration::from_secs(remaining + self.ctx.config.auth.leeway_secs + 5),
            )
            .await;
        Ok(())
    }

    pub async fn contact(&self, user_id: Uuid) -> Result<Option<UserContact>> {
        Ok(store::user_by_id(&self.ctx.db, user_id)
            .await?
            .map(|u| UserContact {
                user_id: u.id,
                email: u.email,
                email_verified: u.email_verified_at.is_some(),
                phone: u.phone,
                phone_verified: u.phone_verified_at.is_some(),
            }))
    }

    pub async fn me(&self, user_id: Uuid) -> Result<UserView> {
        store::user_by_id(&self.ctx.db, user_id)
            .await?
            .map(|u| user_view(&u))
            .ok_or(IdentityError::UserNotFound)
    }

    pub async fn update_me(&self, user_id: Uuid, request: UpdateMeRequest) -> Result<UserView> {
        let mut errors = Vec::new();
        let mut optional_name = |field: &str, value: Option<&str>| match value
            .map(|n| domain::validate_name(field, n))
        {
            Some(Ok(name)) => Some(name),
            Some(Err(e)) => {
                errors.push(e);
                None
            }
            None => None,
        };
        let first_name = optional_name("firstName", request.first_name.as_deref());
        let last_name = optional_name("lastName", request.last_name.as_deref());
        let phone = match &request.phone {
            None => None,
            Some(None) => Some(None),
            Some(Some(raw)) => match domain::normalize_phone(raw) {
                Ok(phone) => Some(Some(phone)),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(IdentityError::Invalid(errors));
        }
        let mut tx = self.ctx.db.begin().await?;
        let change = store::ProfileChange {
            first_name: first_name.as_deref(),
            last_name: last_name.as_deref(),
            phone: phone.as_ref().map(|p| p.as_deref()),
        };
        let updated = store::update_profile(&mut tx, user_id, &change, Timestamp::now())
            .await
            .map_err(unique_conflict)?
            .ok_or(IdentityError::UserNotFound)?;
        bus::publish(
            &mut tx,
            SOURCE,
            &UserUpdated {
                user_id,
                email: updated.email.clone(),
                phone: updated.phone.clone(),
            },
        )
        .await?;
        self.ctx.commit(tx).await?;
        Ok(user_view(&updated))
    }

    pub async fn list_users(
        &self,
        filter: &UserFilter,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<UserView>> {
        if let Some(status) = &filter.status {
            if UserStatus::parse(status).is_none() {
                return Err(IdentityError::Invalid(vec![FieldError {
                    field: "status".into(),
                    message: "must be ACTIVE, SUSPENDED or DELETED".into(),
                }]));
            }
        }
        let rows = store::list_users(
            &self.ctx.db,
            filter.email.as_deref().filter(|e| !e.is_empty()),
            filter.status.as_deref(),
            before,
            limit,
        )
        .await?;
        Ok(rows.iter().map(user_view).collect())
    }

    /// Suspends a user and ends every session they have, so live access tokens stop working
    /// at once.
    pub async fn suspend(&self, admin: &Actor, user_id: Uuid) -> Result<UserView> {
        if admin.user_id == user_id {
            return Err(IdentityError::SelfSuspension);
        }
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        self.transition(
            &mut tx,
            user_id,
            UserStatus::Active,
            UserStatus::Suspended,
            now,
        )
        .await?;
        let sessions = store::revoke_user_sessions(&mut tx, user_id, now, "suspended").await?;
        self.announce_revocations(&mut tx, user_id, &sessions, "suspended")
            .await?;
        bus::publish(
            &mut tx,
            SOURCE,
            &UserSuspended {
                user_id,
                by: admin.user_id,
            },
        )
        .await?;
        let user = store::user_by_id_in(&mut tx, user_id)
            .await?
            .ok_or(IdentityError::UserNotFound)?;
        self.ctx.commit(tx).await?;
        self.deny_sessions(&sessions).await;
        Ok(user_view(&user))
    }

    pub async fn reactivate(&self, user_id: Uuid) -> Result<UserView> {
        let mut tx = self.ctx.db.begin().await?;
        self.transition(
            &mut tx,
            user_id,
            UserStatus::Suspended,
            UserStatus::Active,
            Timestamp::now(),
        )
        .await?;
        bus::publish(&mut tx, SOURCE, &UserReactivated { user_id }).await?;
        let user = store::user_by_id_in(&mut tx, user_id)
            .await?
            .ok_or(IdentityError::UserNotFound)?;
        self.ctx.commit(tx).await?;
        Ok(user_view(&user))
    }

    async fn transition(
        &self,
        tx: &mut Tx,
        user_id: Uuid,
        from: UserStatus,
        to: UserStatus,
        now: Timestamp,
    ) -> Result<()> {
        if store::transition_status(tx, user_id, from.as_str(), to.as_str(), now).await? == 1 {
            return Ok(());
        }
        match store::user_by_id_in(tx, user_id).await? {
            None => Err(IdentityError::UserNotFound),
            Some(_) => Err(IdentityError::WrongStatus {
                expected: match from {
                    UserStatus::Active => "active",
                    UserStatus::Suspended => "suspended",
                    UserStatus::Deleted => "deleted",
                },
            }),
        }
    }

    /// Marks a user's email verified on an operator's word (demo data, support tooling).
    pub async fn mark_email_verified(&self, user_id: Uuid) -> Result<()> {
        let mut tx = self.ctx.db.begin().await?;
        store::mark_email_verified(&mut tx, user_id, Timestamp::now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates an admin, or grants the admin role to an existing account with this email.
    /// Returns the user and whether it was created.
    pub async fn bootstrap_admin(&self, email: &str, password: &str) -> Result<(UserView, bool)> {
        let email = domain::normalize_email(email).map_err(|e| IdentityError::Invalid(vec![e]))?;
        if let Some(existing) = store::user_by_email(&self.ctx.db, &email).await? {
            let mut roles = domain::roles_from_text(&existing.roles);
            if !roles.contains(&Role::Admin) {
                roles.push(Role::Admin);
                let mut tx = self.ctx.db.begin().await?;
                store::set_roles(
                    &mut tx,
                    existing.id,
                    &domain::roles_to_text(&roles),
                    Timestamp::now(),
                )
                .await?;
                bus::publish(
                    &mut tx,
                    SOURCE,
                    &UserRolesChanged {
                        user_id: existing.id,
                        roles,
                    },
                )
                .await?;
                self.ctx.commit(tx).await?;
            }
            let user = self.me(existing.id).await?;
            return Ok((user, false));
        }
        domain::check_password_policy(password).map_err(|e| IdentityError::Invalid(vec![e]))?;
        let hash = self.hash_password(password).await?;
        let mut tx = self.ctx.db.begin().await?;
        let user = self
            .insert_user(
                &mut tx,
                &NewAccount {
                    email: &email,
                    phone: None,
                    password_hash: &hash,
                    first_name: "Platform",
                    last_name: "Admin",
                    roles: &[Role::Customer, Role::Admin],
                },
                Timestamp::now(),
            )
            .await?;
        self.ctx.commit(tx).await?;
        let user = user_view(&user);
        Ok((user, true))
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
