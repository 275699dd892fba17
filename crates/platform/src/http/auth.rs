//! Access tokens: issuing (for identity) and verifying at the edge into an `Actor`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, Validation};
use kernel::{Actor, ActorKind, ApiError, Role, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::cache::Cache;
use crate::config::AuthConfig;
use crate::keyring::{Keyring, KeyringError, TokenError};

/// Claims of a Pasar access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub roles: Vec<String>,
    /// Session (refresh-token family) the token belongs to; absent for service clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// OAuth2 client the token was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Space-separated OAuth2 scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Email verified at issue time.
    #[serde(default)]
    pub ev: bool,
}

/// The user an access log line is about; set on responses by [`authenticate`].
#[derive(Debug, Clone, Copy)]
pub struct AuthenticatedUser(pub Uuid);

/// The client address used for rate limiting and sessions.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

fn internal_audience(config: &AuthConfig) -> String {
    format!("{}/internal", config.audience)
}

pub fn denied_token_key(jti: &str) -> String {
    format!("deny:jti:{jti}")
}

pub fn denied_session_key(session_id: Uuid) -> String {
    format!("deny:sid:{session_id}")
}

/// Verified tokens, so a client's repeated requests pay for one ES256 verification instead of
/// one per request. Keyed by the whole token: any change to header, claims or signature misses.
/// Revocation is still checked on every request.
struct VerifiedTokens {
    entries: RwLock<HashMap<Box<str>, Arc<AccessClaims>>>,
    capacity: usize,
}

impl VerifiedTokens {
    fn get(&self, token: &str, now: i64, leeway: i64) -> Option<Arc<AccessClaims>> {
        let entries = self.entries.read().ok()?;
        entries
            .get(token)
            .filter(|claims| claims.exp + leeway >= now)
            .cloned()
    }

    fn insert(&self, token: &str, claims: Arc<AccessClaims>, now: i64, leeway: i64) {
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if entries.len() >= self.capacity {
            entries.retain(|_, c| c.exp + leeway >= now);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(token.into(), claims);
    }
}

/// Recognises API keys (`X-Api-Key`). Implemented by the module that stores keys and installed
/// at start, so the edge needs no knowledge of where keys live.
#[async_trait::async_trait]
pub trait ApiKeyVerifier: Send + Sync {
    async fn verify(&self, key: &str) -> Option<Actor>;
}

/// Answers which merchants a user is staff of. Installed by the merchants module, so the edge
/// can put current memberships into every authenticated `Actor` without knowing where they live.
#[async_trait::async_trait]
pub trait MembershipSource: Send + Sync {
    async fn memberships(&self, user_id: Uuid) -> Vec<kernel::Membership>;
}

pub struct Authenticator {
    api_keys: std::sync::OnceLock<Arc<dyn ApiKeyVerifier>>,
    memberships: std::sync::OnceLock<Arc<dyn MembershipSource>>,
    verified: VerifiedTokens,
    keyring: Arc<Keyring>,
    cache: Arc<dyn Cache>,
    config: AuthConfig,
    validation: Validation,
    trust_forwarded_for: bool,
}

impl Authenticator {
    pub fn new(
        keyring: Arc<Keyring>,
        cache: Arc<dyn Cache>,
        config: AuthConfig,
        trust_forwarded_for: bool,
    ) -> Self {
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[&config.issuer]);
        // Internal service tokens carry their own audience, so no token issued to a user or an
        // OAuth2 client can ever pass an internal route, whatever scope it was granted.
        validation.set_audience(&[config.audience.clone(), internal_audience(&config)]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = config.leeway_secs;
        Self {
            api_keys: std::sync::OnceLock::new(),
            memberships: std::sync::OnceLock::new(),
            verified: VerifiedTokens {
                entries: RwLock::new(HashMap::new()),
                capacity: 50_000,
            },
            keyring,
            cache,
            config,
            validation,
            trust_forwarded_for,
        }
    }

    /// Issues an access token for a user session. Returns the token and its lifetime in seconds.
    pub fn issue(
        &self,
        user_id: Uuid,
        roles: &[Role],
        session_id: Uuid,
        email_verified: bool,
    ) -> Result<(String, i64), KeyringError> {
        self.issue_delegated(user_id, roles, session_id, email_verified, None, None)
    }

    /// A user token issued to an OAuth2 client, limited to `scope`.
    pub fn issue_delegated(
        &self,
        user_id: Uuid,
        roles: &[Role],
        session_id: Uuid,
        email_verified: bool,
        client_id: Option<&str>,
        scope: Option<&str>,
    ) -> Result<(String, i64), KeyringError> {
        self.sign(AccessClaims {
            ev: email_verified,
            sub: user_id.to_string(),
            roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
            sid: Some(session_id.to_string()),
            client_id: client_id.map(str::to_owned),
            scope: scope.map(str::to_owned),
            ..self.base_claims()
        })
    }

    /// A token for a service client itself (client credentials): no user, no roles.
    pub fn issue_service(
        &self,
        client_id: &str,
        scope: &str,
    ) -> Result<(String, i64), KeyringError> {
        self.sign(AccessClaims {
            sub: format!("client:{client_id}"),
            client_id: Some(client_id.to_owned()),
            scope: Some(scope.to_owned()),
            ..self.base_claims()
        })
    }

    /// A token for calls from `module` to a module in another process: internal scope, the
    /// internal audience, no user.
    pub fn issue_internal(&self, module: &str) -> Result<(String, i64), KeyringError> {
        self.sign(AccessClaims {
            aud: internal_audience(&self.config),
            sub: format!("service:{module}"),
            client_id: Some(format!("pasar:{module}")),
            scope: Some(kernel::INTERNAL_SCOPE.to_owned()),
            ..self.base_claims()
        })
    }

    fn base_claims(&self) -> AccessClaims {
        let now = Timestamp::now().seconds();
        AccessClaims {
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
            sub: String::new(),
            iat: now,
            exp: now + self.config.access_token_ttl_secs,
            jti: kernel::new_id().simple().to_string(),
            roles: Vec::new(),
            sid: None,
            client_id: None,
            scope: None,
            ev: false,
        }
    }

    fn sign(&self, claims: AccessClaims) -> Result<(String, i64), KeyringError> {
        Ok((
            self.keyring.sign(&claims)?,
            self.config.access_token_ttl_secs,
        ))
    }

    /// Installs the API-key verifier (once).
    pub fn set_api_key_verifier(&self, verifier: Arc<dyn ApiKeyVerifier>) {
        let _ = self.api_keys.set(verifier);
    }

    /// Installs the source of merchant memberships (once).
    pub fn set_membership_source(&self, source: Arc<dyn MembershipSource>) {
        let _ = self.memberships.set(source);
    }

    /// A token presented some other way than the Authorization header (a WebSocket
    /// subprotocol), checked as the edge checks headers: the actor with current memberships.
    pub async fn authenticate_token(&self, token: &str) -> Result<Actor, TokenError> {
        let actor = self.verify(token).await?;
        Ok(self.with_memberships(actor).await)
    }

    async fn with_memberships(&self, mut actor: Actor) -> Actor {
        if actor.kind != ActorKind::Service {
            if let Some(source) = self.memberships.get() {
                actor.memberships = source.memberships(actor.user_id).await;
            }
        }
        actor
    }

    async fn verify_api_key(&self, key: &str) -> Option<Actor> {
        self.api_keys.get()?.verify(key).await
    }

    /// How long a denylist entry must live to outlast every token it denies.
    pub fn deny_ttl(&self) -> Duration {
        Duration::from_secs(
            (self.config.access_token_ttl_secs.max(0) as u64) + self.config.leeway_secs + 5,
        )
    }

    pub async fn verify(&self, token: &str) -> Result<Actor, TokenError> {
        let now = Timestamp::now().seconds();
        let leeway = self.config.leeway_secs as i64;
        let claims = match self.verified.get(token, now, leeway) {
            Some(claims) => claims,
            None => {
                let claims = Arc::new(self.verify_signature(token).await?);
                self.verified.insert(token, claims.clone(), now, leeway);
                claims
            }
        };
        self.actor(&claims).await
    }

    async fn verify_signature(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let claims: AccessClaims = match self.keyring.verify(token, &self.validation) {
            Err(TokenError::UnknownKid) => {
                // Possibly a key rotated in by another process since our last load.
                if self
                    .keyring
                    .reload_if_stale(Duration::from_secs(5))
                    .await
                    .unwrap_or(false)
                {
                    self.keyring.verify(token, &self.validation)?
                } else {
                    return Err(TokenError::UnknownKid);
                }
            }
            other => other?,
        };
        if claims.iat > Timestamp::now().seconds() + self.config.leeway_secs as i64 {
            return Err(TokenError::Invalid("token issued in the future".into()));
        }
        Ok(claims)
    }

    async fn actor(&self, claims: &AccessClaims) -> Result<Actor, TokenError> {
        if claims.aud == internal_audience(&self.config) {
            let module = claims
                .client_id
                .as_deref()
                .and_then(|c| c.strip_prefix("pasar:"))
                .ok_or_else(|| TokenError::Invalid("internal token without a module".into()))?;
            let mut actor = Actor::internal(module);
            actor.token_id = claims.jti.clone();
            actor.token_expires_at = claims.exp;
            return Ok(actor);
        }
        // The internal scope is only ever carried by internal tokens.
        let scopes: Vec<String> = claims
            .scope
            .as_deref()
            .map(|s| {
                s.split_whitespace()
                    .filter(|scope| *scope != kernel::INTERNAL_SCOPE)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if self
            .cache
            .get(&denied_token_key(&claims.jti))
            .await
            .is_some()
        {
            return Err(TokenError::Invalid("token was revoked".into()));
        }
        let Some(sid) = &claims.sid else {
            // A service client's own token.
            let client_id = claims.client_id.clone().ok_or_else(|| {
                TokenError::Invalid("token has neither session nor client".into())
            })?;
            return Ok(Actor {
                kind: ActorKind::Service,
                user_id: Uuid::nil(),
                roles: Vec::new(),
                session_id: None,
                token_id: claims.jti.clone(),
                token_expires_at: claims.exp,
                client_id: Some(client_id),
                scopes,
                email_verified: false,
                memberships: Vec::new(),
            });
        };
        let user_id = Uuid::parse_str(&claims.sub)
            .map_err(|_| TokenError::Invalid("subject is not a user id".into()))?;
        let session_id = Uuid::parse_str(sid)
            .map_err(|_| TokenError::Invalid("session id is malformed".into()))?;
        if self
            .cache
            .get(&denied_session_key(session_id))
            .await
            .is_some()
        {
            return Err(TokenError::Invalid("token was revoked".into()));
        }
        let roles = claims.roles.iter().filter_map(|r| Role::parse(r)).collect();
        Ok(Actor {
            kind: ActorKind::User,
            user_id,
            roles,
            session_id: Some(session_id),
            token_id: claims.jti.clone(),
            token_expires_at: claims.exp,
            client_id: claims.client_id.clone(),
            scopes,
            email_verified: claims.ev,
            memberships: Vec::new(),
        })
    }

    fn client_ip(&self, request: &Request) -> Option<IpAddr> {
        if self.trust_forwarded_for {
            let forwarded = request
                .headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse().ok());
            if forwarded.is_some() {
                return forwarded;
            }
        }
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip())
    }
}

/// The bearer token of the request: None without one (or with another scheme, such as the
/// Basic credentials of OAuth2 clients at the token endpoint), an error when malformed.
fn bearer(headers: &HeaderMap) -> Option<Result<&str, ()>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let Ok(text) = value.to_str() else {
        return Some(Err(()));
    };
    let (scheme, token) = text.split_once(' ').unwrap_or((text, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    Some(if token.is_empty() { Err(()) } else { Ok(token) })
}

/// Edge middleware: a valid bearer token becomes an `Actor` in the request; an invalid one is
/// refused with 401 on every route (a client sending a bad token has a bug worth surfacing).
pub async fn authenticate(
    State(auth): State<Arc<Authenticator>>,
    mut request: Request,
    next: Next,
) -> Response {
    let ip = auth.client_ip(&request);
    request.extensions_mut().insert(ClientIp(ip));
    let api_key = request
        .headers()
        .get("x-api-key")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let actor = match (bearer(request.headers()), api_key) {
        (None, Some(key)) => match auth.verify_api_key(&key).await {
            Some(actor) => Some(actor),
            None => {
                return ApiError::unauthorized(
                    "invalid_api_key",
                    "The API key is invalid or revoked",
                )
                .into_response()
            }
        },
        (bearer, _) => match bearer {
            None => None,
            Some(Err(())) => {
                return ApiError::unauthorized(
                    "invalid_token",
                    "The Authorization header must be 'Bearer <token>'",
                )
                .into_response()
            }
            Some(Ok(token)) => match auth.verify(token).await {
                Ok(actor) => Some(actor),
                Err(err) => {
                    tracing::debug!(error = %err, "access token refused");
                    return ApiError::unauthorized(
                        "invalid_token",
                        "The access token is invalid, expired or revoked",
                    )
                    .into_response();
                }
            },
        },
    };
    let user = actor.as_ref().map(|a| AuthenticatedUser(a.user_id));
    if let Some(actor) = actor {
        let actor = auth.with_memberships(actor).await;
        request.extensions_mut().insert(actor);
    }
    let mut response = next.run(request).await;
    if let Some(user) = user {
        response.extensions_mut().insert(user);
    }
    response
}

/// Route layer of internal routes (typed clients between modules): only the internal service
/// gets past, before any body is read.
pub async fn internal_only(request: Request, next: Next) -> Response {
    match request.extensions().get::<Actor>() {
        Some(actor) if actor.require_internal().is_ok() => next.run(request).await,
        Some(_) => ApiError::forbidden("This route is for internal service calls").into_response(),
        None => ApiError::unauthorized("authentication_required", "A service token is required")
            .into_response(),
    }
}
