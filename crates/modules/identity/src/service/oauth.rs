//! The OAuth2 authorization server: clients, the authorization-code flow with PKCE S256, client
//! credentials, and refresh. No implicit or password grant exists.

use axum::http::StatusCode;
use kernel::{FieldError, Timestamp};

use super::{ClientInfo, Identity, IdentityError};
use crate::api::*;
use crate::domain::{self, LoginIdentifier};
use crate::oauth;
use crate::store::{self, ClientRow};

/// An RFC 6749 error.
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        let status = if error == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        Self {
            status,
            error,
            description: description.into(),
        }
    }

    fn server(err: IdentityError) -> Self {
        tracing::error!(error = %err, "oauth failure");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error: "server_error",
            description: "An unexpected error occurred".into(),
        }
    }
}

impl From<sqlx::Error> for OAuthError {
    fn from(err: sqlx::Error) -> Self {
        Self::server(IdentityError::Database(err))
    }
}

/// Why an authorization request cannot proceed.
#[derive(Debug)]
pub enum AuthorizeFailure {
    /// Unknown client or unregistered redirect URI: shown to the user, never redirected.
    Page(String),
    /// Everything else goes back to the client's redirect URI.
    Redirect(String),
}

/// An authorization request that passed every check.
#[derive(Debug, Clone)]
pub struct ValidAuthorize {
    pub client_id: String,
    pub client_name: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub code_challenge: String,
}

fn redirect_with(uri: &str, params: &[(&str, &str)]) -> String {
    let query = serde_urlencoded::to_string(params).unwrap_or_default();
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{query}")
}

fn client_view(row: &ClientRow) -> ClientView {
    ClientView {
        client_id: row.client_id.clone(),
        name: row.name.clone(),
        redirect_uris: oauth::split(&row.redirect_uris)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        grant_types: oauth::split(&row.grant_types)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        scopes: oauth::split(&row.scopes)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        confidential: row.secret_hash.is_some(),
        created_at: Timestamp::from_millis(row.created_at),
        revoked_at: row.revoked_at.map(Timestamp::from_millis),
    }
}

fn invalid(field: &str, message: &str) -> IdentityError {
    IdentityError::Invalid(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

impl Identity {
    pub async fn register_client(
        &self,
        request: RegisterClientRequest,
    ) -> Result<RegisteredClient, IdentityError> {
        let name = domain::validate_name("name", &request.name)
            .map_err(|e| IdentityError::Invalid(vec![e]))?;
        if request.grant_types.is_empty()
            || request
                .grant_types
                .iter()
                .any(|g| !oauth::GRANT_TYPES.contains(&g.as_str()))
        {
            return Err(invalid(
                "grantTypes",
                "must list authorization_code, client_credentials and/or refresh_token",
            ));
        }
        let has = |grant: &str| request.grant_types.iter().any(|g| g == grant);
        if has("authorization_code") && request.redirect_uris.is_empty() {
            return Err(invalid(
                "redirectUris",
                "are required for authorization_code",
            ));
        }
        if request
            .redirect_uris
            .iter()
            .any(|u| !oauth::valid_redirect_uri(u))
        {
            return Err(invalid(
                "redirectUris",
                "must be absolute https URIs (http only on loopback), without fragment",
            ));
        }
        if has("client_credentials") && !request.confidential {
            return Err(invalid(
                "grantTypes",
                "client_credentials needs a confidential client",
            ));
        }
        if request.scopes.is_empty()
            || request
                .scopes
                .iter()
                .any(|s| s.is_empty() || s.contains(char::is_whitespace) || s.len() > 64)
        {
            return Err(invalid(
                "scopes",
                "must be one or more scope names without spaces",
            ));
        }
        if request.scopes.iter().any(|s| s == kernel::INTERNAL_SCOPE) {
            return Err(invalid(
                "scopes",
                "the internal scope is reserved for calls between Pasar's own processes",
            ));
        }
        let secret = if request.confidential {
            Some(self.new_refresh_token()?)
        } else {
            None
        };
        let row = ClientRow {
            client_id: format!("pc_{}", kernel::new_id().simple()),
            name,
            secret_hash: secret.as_deref().map(domain::hash_refresh_token),
            redirect_uris: request.redirect_uris.join(" "),
            grant_types: request.grant_types.join(" "),
            scopes: request.scopes.join(" "),
            created_at: Timestamp::now().millis(),
            revoked_at: None,
        };
        store::insert_client(&self.ctx.db, &row).await?;
        Ok(RegisteredClient {
            client: client_view(&row),
            client_secret: secret,
        })
    }

    pub async fn clients(&self) -> Result<Vec<ClientView>, IdentityError> {
        Ok(store::clients(&self.ctx.db)
            .await?
            .iter()
            .map(client_view)
            .collect())
    }

    pub async fn revoke_client(&self, client_id: &str) -> Result<(), IdentityError> {
        match store::revoke_client(&self.ctx.db, client_id, Timestamp::now()).await? {
            0 => Err(IdentityError::ClientNotFound),
            _ => Ok(()),
        }
    }

    /// Checks an authorization request (the query of `GET /oauth2/authorize`, or the hidden
    /// fields of the submitted form, which are checked again).
    pub async fn check_authorize(
        &self,
        params: &AuthorizeParams,
    ) -> Result<ValidAuthorize, AuthorizeFailure> {
        let client_id = params
            .client_id
            .as_deref()
            .ok_or_else(|| AuthorizeFailure::Page("The request names no client.".into()))?;
        let client = store::live_client(&self.ctx.db, client_id)
            .await
            .map_err(|_| AuthorizeFailure::Page("The service is unavailable.".into()))?
            .ok_or_else(|| AuthorizeFailure::Page("This application is not registered.".into()))?;
        let redirect_uri = params
            .redirect_uri
            .as_deref()
            .filter(|uri| oauth::redirect_allowed(&client.redirect_uris, uri))
            .ok_or_else(|| {
                AuthorizeFailure::Page(
                    "The redirect address does not match what this application registered.".into(),
                )
            })?
            .to_owned();
        let state = params.state.clone();
        let fail = |error: &str, description: &str| {
            let mut query = vec![("error", error), ("error_description", description)];
            if let Some(state) = state.as_deref() {
                query.push(("state", state));
            }
            AuthorizeFailure::Redirect(redirect_with(&redirect_uri, &query))
        };
        if params.response_type.as_deref() != Some("code") {
            return Err(fail(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
        if !oauth::split(&client.grant_types).contains(&"authorization_code") {
            return Err(fail(
                "unauthorized_client",
                "this client may not use authorization codes",
            ));
        }
        if params.code_challenge_method.as_deref() != Some("S256") {
            return Err(fail(
                "invalid_request",
                "PKCE with code_challenge_method=S256 is required",
            ));
        }
        let code_challenge = params
            .code_challenge
            .clone()
            .filter(|c| oauth::valid_challenge(c))
            .ok_or_else(|| fail("invalid_request", "code_challenge is missing or malformed"))?;
        let scope = oauth::grant_scope(params.scope.as_deref(), &client.scopes)
            .ok_or_else(|| fail("invalid_scope", "the requested scope is not allowed"))?;
        Ok(ValidAuthorize {
            client_id: client.client_id,
            client_name: client.name,
            redirect_uri,
            scope,
            state: params.state.clone(),
            code_challenge,
        })
    }

    /// The user signed in and allowed the request: a one-minute, single-use code goes back to
    /// the client.
    pub async fn approve(
        &self,
        request: &ValidAuthorize,
        email: &str,
        password: &str,
    ) -> Result<String, IdentityError> {
        let email = domain::normalize_email(email).map_err(|e| IdentityError::Invalid(vec![e]))?;
        let user = self
            .authenticate(&LoginIdentifier::Email(email), password)
            .await?;
        let code = self.new_refresh_token()?;
        let now = Timestamp::now();
        store::insert_auth_code(
            &self.ctx.db,
            &store::NewAuthCode {
                code_hash: &domain::hash_refresh_token(&code),
                client_id: &request.client_id,
                user_id: user.id,
                redirect_uri: &request.redirect_uri,
                scope: &request.scope,
                code_challenge: &request.code_challenge,
                now,
                expires_at: now.plus_seconds(oauth::CODE_TTL_SECS),
            },
        )
        .await?;
        let mut query = vec![("code", code.as_str())];
        if let Some(state) = request.state.as_deref() {
            query.push(("state", state));
        }
        Ok(redirect_with(&request.redirect_uri, &query))
    }

    pub fn deny(&self, request: &ValidAuthorize) -> String {
        let mut query = vec![
            ("error", "access_denied"),
            ("error_description", "the user denied the request"),
        ];
        if let Some(state) = request.state.as_deref() {
            query.push(("state", state));
        }
        redirect_with(&request.redirect_uri, &query)
    }

    /// Authenticates the client: HTTP Basic or form credentials for confidential clients, the
    /// bare `client_id` for public ones.
    async fn authenticate_client(
        &self,
        basic: Option<(String, String)>,
        form: &TokenForm,
    ) -> Result<ClientRow, OAuthError> {
        let (client_id, secret) = match (basic, &form.client_id) {
            (Some((id, secret)), _) => (id, Some(secret)),
            (None, Some(id)) => (id.clone(), form.client_secret.clone()),
            (None, None) => {
                return Err(OAuthError::new(
                    "invalid_client",
                    "client authentication failed",
                ))
            }
        };
        let client = store::live_client(&self.ctx.db, &client_id)
            .await?
            .ok_or_else(|| OAuthError::new("invalid_client", "client authentication failed"))?;
        match (&client.secret_hash, secret) {
            (Some(expected), Some(secret)) if *expected == domain::hash_refresh_token(&secret) => {
                Ok(client)
            }
            (None, None) => Ok(client),
            _ => Err(OAuthError::new(
                "invalid_client",
                "client authentication failed",
            )),
        }
    }

    pub async fn token(
        &self,
        basic: Option<(String, String)>,
        form: TokenForm,
        session: &ClientInfo,
    ) -> Result<OAuthTokenResponse, OAuthError> {
        let grant = form
            .grant_type
            .clone()
            .ok_or_else(|| OAuthError::new("invalid_request", "grant_type is required"))?;
        if !oauth::GRANT_TYPES.contains(&grant.as_str()) {
            return Err(OAuthError::new(
                "unsupported_grant_type",
                format!("{grant} is not supported"),
            ));
        }
        let client = self.authenticate_client(basic, &form).await?;
        if !oauth::split(&client.grant_types).contains(&grant.as_str()) {
            return Err(OAuthError::new(
                "unauthorized_client",
                format!("this client may not use {grant}"),
            ));
        }
        match grant.as_str() {
            "authorization_code" => self.redeem_code(&client, &form, session).await,
            "client_credentials" => {
                if client.secret_hash.is_none() {
                    return Err(OAuthError::new(
                        "unauthorized_client",
                        "public clients have no credentials",
                    ));
                }
                let scope =
                    oauth::grant_scope(form.scope.as_deref(), &client.scopes).ok_or_else(|| {
                        OAuthError::new("invalid_scope", "the requested scope is not allowed")
                    })?;
                let (access_token, expires_in) = self
                    .ctx
                    .authenticator
                    .issue_service(&client.client_id, &scope)
                    .map_err(|e| OAuthError::server(e.into()))?;
                Ok(OAuthTokenResponse {
                    access_token,
                    token_type: "Bearer".into(),
                    expires_in,
                    refresh_token: None,
                    scope: Some(scope),
                })
            }
            _ => {
                let refresh_token = form.refresh_token.as_deref().ok_or_else(|| {
                    OAuthError::new("invalid_request", "refresh_token is required")
                })?;
                let tokens = self
                    .refresh_for(refresh_token, Some(&client.client_id))
                    .await
                    .map_err(|err| match err {
                        IdentityError::InvalidRefreshToken
                        | IdentityError::RefreshTokenReused
                        | IdentityError::Suspended => {
                            OAuthError::new("invalid_grant", "the refresh token is invalid")
                        }
                        other => OAuthError::server(other),
                    })?;
                Ok(OAuthTokenResponse {
                    access_token: tokens.access_token,
                    token_type: "Bearer".into(),
                    expires_in: tokens.expires_in,
                    refresh_token: Some(tokens.refresh_token),
                    scope: None,
                })
            }
        }
    }

    /// Spends the code first (one try per code, whatever the outcome), then checks client,
    /// redirect URI and PKCE verifier.
    async fn redeem_code(
        &self,
        client: &ClientRow,
        form: &TokenForm,
        session: &ClientInfo,
    ) -> Result<OAuthTokenResponse, OAuthError> {
        let code = form
            .code
            .as_deref()
            .ok_or_else(|| OAuthError::new("invalid_request", "code is required"))?;
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let grant = store::spend_auth_code(&mut tx, &domain::hash_refresh_token(code), now).await?;
        tx.commit().await?;
        let grant = grant.ok_or_else(|| {
            OAuthError::new("invalid_grant", "the code is invalid, used or expired")
        })?;
        if grant.client_id != client.client_id {
            return Err(OAuthError::new(
                "invalid_grant",
                "the code was issued to another client",
            ));
        }
        if form.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
            return Err(OAuthError::new(
                "invalid_grant",
                "redirect_uri does not match the authorization request",
            ));
        }
        let verifier = form.code_verifier.as_deref().unwrap_or_default();
        if !oauth::valid_verifier(verifier)
            || oauth::s256_challenge(verifier) != grant.code_challenge
        {
            return Err(OAuthError::new(
                "invalid_grant",
                "the code_verifier does not match the challenge",
            ));
        }
        let user = store::user_by_id(&self.ctx.db, grant.user_id)
            .await?
            .filter(|u| u.status == "ACTIVE")
            .ok_or_else(|| OAuthError::new("invalid_grant", "the user can no longer sign in"))?;
        let info = ClientInfo {
            oauth: Some((client.client_id.clone(), grant.scope.clone())),
            ..session.clone()
        };
        let mut tx = self.ctx.db.begin().await?;
        let tokens = self
            .open_session(&mut tx, &user, &info, now)
            .await
            .map_err(OAuthError::server)?;
        self.ctx.commit(tx).await?;
        let offline = oauth::split(&client.grant_types).contains(&"refresh_token");
        Ok(OAuthTokenResponse {
            access_token: tokens.access_token,
            token_type: "Bearer".into(),
            expires_in: tokens.expires_in,
            refresh_token: offline.then_some(tokens.refresh_token),
            scope: Some(grant.scope),
        })
    }
}
