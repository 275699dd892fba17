//! Sign-in through OpenID Connect providers (Google, Facebook, Apple, ... configured by issuer),
//! as a relying party: authorization code with PKCE, state and nonce; the ID token is verified
//! against the provider's JWKS. A provider identity links to an existing account only when
//! both sides have verified the email, so nobody can pre-register someone else's address.

use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use kernel::{Role, Timestamp};
use platform::config::OidcProviderConfig;
use serde::Deserialize;

use super::{user_view, ClientInfo, Identity, IdentityError, NewAccount, Result};
use crate::api::*;
use crate::domain;
use crate::oauth;
use crate::store;

#[derive(Debug, Deserialize)]
struct ProviderMetadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

#[derive(Debug, Deserialize)]
struct ProviderTokens {
    id_token: String,
}

#[derive(Debug, Deserialize)]
struct IdClaims {
    sub: String,
    email: Option<String>,
    /// Some providers send a string.
    #[serde(default)]
    email_verified: serde_json::Value,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    nonce: Option<String>,
}

/// The asymmetric algorithms accepted for ID tokens; never HMAC, never `none`.
const ID_TOKEN_ALGORITHMS: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
];

fn provider_error(what: &str, err: impl std::fmt::Display) -> IdentityError {
    IdentityError::Provider(format!("{what}: {err}"))
}

impl Identity {
    fn provider(&self, name: &str) -> Option<OidcProviderConfig> {
        let auth = &self.ctx.config.auth;
        if auth.mock_oidc && name == "mock" {
            return Some(OidcProviderConfig {
                name: "mock".into(),
                issuer: format!("{}/dev/oidc", self.ctx.public_url()),
                client_id: "pasar-dev".into(),
                client_secret: "pasar-dev-secret".into(),
            });
        }
        auth.oidc_providers.iter().find(|p| p.name == name).cloned()
    }

    async fn metadata(&self, provider: &OidcProviderConfig) -> Result<ProviderMetadata> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            provider.issuer.trim_end_matches('/')
        );
        let metadata: ProviderMetadata = self
            .http
            .get(&url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| provider_error("discovery", e))?
            .json()
            .await
            .map_err(|e| provider_error("discovery document", e))?;
        if metadata.issuer.trim_end_matches('/') != provider.issuer.trim_end_matches('/') {
            return Err(IdentityError::Provider(
                "discovery issuer does not match".into(),
            ));
        }
        Ok(metadata)
    }

    fn callback_url(&self, provider: &str) -> String {
        format!(
            "{}/api/v1/auth/oidc/{provider}/callback",
            self.ctx.public_url()
        )
    }

    pub async fn social_start(&self, name: &str) -> Result<SocialStart> {
        let provider = self.provider(name).ok_or(IdentityError::UnknownProvider)?;
        let metadata = self.metadata(&provider).await?;
        let state = self.new_refresh_token()?;
        let nonce = self.new_refresh_token()?;
        let verifier = self.new_refresh_token()?;
        store::insert_oidc_state(
            &self.ctx.db,
            &state,
            name,
            &nonce,
            &verifier,
            Timestamp::now(),
        )
        .await?;
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", provider.client_id.as_str()),
            ("redirect_uri", self.callback_url(name).as_str()),
            ("scope", "openid email profile"),
            ("state", state.as_str()),
            ("nonce", nonce.as_str()),
            ("code_challenge", oauth::s256_challenge(&verifier).as_str()),
            ("code_challenge_method", "S256"),
        ])
        .map_err(|e| provider_error("authorization URL", e))?;
        let separator = if metadata.authorization_endpoint.contains('?') {
            '&'
        } else {
            '?'
        };
        Ok(SocialStart {
            authorization_url: format!("{}{separator}{query}", metadata.authorization_endpoint),
        })
    }

    async fn verify_id_token(
        &self,
        provider: &OidcProviderConfig,
        metadata: &ProviderMetadata,
        id_token: &str,
        nonce: &str,
    ) -> Result<IdClaims> {
        let header =
            jsonwebtoken::decode_header(id_token).map_err(|e| provider_error("ID token", e))?;
        if !ID_TOKEN_ALGORITHMS.contains(&header.alg) {
            return Err(IdentityError::Provider(format!(
                "ID token algorithm {:?} refused",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| IdentityError::Provider("ID token has no kid".into()))?;
        let jwks: JwkSet = self
            .http
            .get(&metadata.jwks_uri)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| provider_error("JWKS", e))?
            .json()
            .await
            .map_err(|e| provider_error("JWKS document", e))?;
        let jwk = jwks
            .find(&kid)
            .ok_or_else(|| IdentityError::Provider("ID token signed by an unknown key".into()))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| provider_error("JWK", e))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&metadata.issuer]);
        validation.set_audience(&[&provider.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims: IdClaims = jsonwebtoken::decode(id_token, &key, &validation)
            .map_err(|e| provider_error("ID token", e))?
            .claims;
        if claims.nonce.as_deref() != Some(nonce) {
            return Err(IdentityError::Provider(
                "ID token nonce does not match".into(),
            ));
        }
        Ok(claims)
    }

    pub async fn social_callback(
        &self,
        name: &str,
        callback: SocialCallback,
        client: &ClientInfo,
    ) -> Result<SocialLoginResponse> {
        let provider = self.provider(name).ok_or(IdentityError::UnknownProvider)?;
        if let Some(error) = callback.error {
            return Err(IdentityError::Provider(format!(
                "the provider answered {error}"
            )));
        }
        let (Some(code), Some(state)) = (callback.code, callback.state) else {
            return Err(IdentityError::InvalidState);
        };
        let now = Timestamp::now();
        let (nonce, verifier) = store::spend_oidc_state(&self.ctx.db, &state, name, now)
            .await?
            .ok_or(IdentityError::InvalidState)?;
        let metadata = self.metadata(&provider).await?;
        let tokens: ProviderTokens = self
            .http
            .post(&metadata.token_endpoint)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", self.callback_url(name).as_str()),
                ("client_id", provider.client_id.as_str()),
                ("client_secret", provider.client_secret.as_str()),
                ("code_verifier", verifier.as_str()),
            ])
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| provider_error("code exchange", e))?
            .json()
            .await
            .map_err(|e| provider_error("token response", e))?;
        let claims = self
            .verify_id_token(&provider, &metadata, &tokens.id_token, &nonce)
            .await?;
        let (user, created) = self.link_or_create(name, &claims).await?;
        if user.status != "ACTIVE" {
            return Err(IdentityError::Suspended);
        }
        let mut tx = self.ctx.db.begin().await?;
        let tokens = self.open_session(&mut tx, &user, client, now).await?;
        self.ctx.commit(tx).await?;
        Ok(SocialLoginResponse {
            user: user_view(&user),
            tokens,
            created,
        })
    }

    async fn link_or_create(
        &self,
        provider: &str,
        claims: &IdClaims,
    ) -> Result<(store::UserRow, bool)> {
        let db = &self.ctx.db;
        if let Some(user_id) = store::external_account(db, provider, &claims.sub).await? {
            let user = store::user_by_id(db, user_id)
                .await?
                .ok_or(IdentityError::UserNotFound)?;
            return Ok((user, false));
        }
        let verified = matches!(&claims.email_verified, serde_json::Value::Bool(true))
            || claims.email_verified.as_str() == Some("true");
        let email = match (&claims.email, verified) {
            (Some(email), true) => domain::normalize_email(email)
                .map_err(|_| IdentityError::ProviderEmailUnverified)?,
            _ => return Err(IdentityError::ProviderEmailUnverified),
        };
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let (user, created) = match store::user_by_email(db, &email).await? {
            Some(existing) if existing.email_verified_at.is_some() => (existing, false),
            Some(_) => {
                tx.rollback().await?;
                return Err(IdentityError::LinkRequiresVerifiedEmail);
            }
            None => {
                let full = claims.name.clone().unwrap_or_default();
                let mut parts = full.splitn(2, ' ');
                let first = claims
                    .given_name
                    .clone()
                    .or_else(|| parts.next().map(str::to_owned))
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| "Pasar".into());
                let last = claims
                    .family_name
                    .clone()
                    .or_else(|| parts.next().map(str::to_owned))
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| "User".into());
                // No usable password: this account signs in through its provider (or sets one
                // by the reset flow).
                let user = self
                    .insert_user(
                        &mut tx,
                        &NewAccount {
                            email: &email,
                            phone: None,
                            password_hash: "!",
                            first_name: &first,
                            last_name: &last,
                            roles: &[Role::Customer],
                        },
                        now,
                    )
                    .await?;
                store::mark_email_verified(&mut tx, user.id, now).await?;
                (user, true)
            }
        };
        store::link_external_account(&mut tx, provider, &claims.sub, user.id, Some(&email), now)
            .await?;
        self.ctx.commit(tx).await?;
        let user = store::user_by_id(db, user.id)
            .await?
            .ok_or(IdentityError::UserNotFound)?;
        Ok((user, created))
    }
}

/// Outbound HTTP to OIDC providers.
pub fn provider_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default()
}
