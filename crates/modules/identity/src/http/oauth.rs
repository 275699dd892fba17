//! OAuth2 endpoints: the authorize page, the token endpoint, discovery, and client admin.

use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use kernel::error::Problem;
use kernel::{Actor, ApiError, Permission};
use platform::http::{text, ApiJson, ClientIp};
use utoipa_axum::routes;

use super::client_info;
use crate::api::*;
use crate::service::{AuthorizeFailure, Identity, IdentityError, OAuthError, ValidAuthorize};

type State_ = State<Arc<Identity>>;

pub fn auth_routes() -> utoipa_axum::router::OpenApiRouter<Arc<Identity>> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(authorize_page, authorize_submit))
        .routes(routes!(token))
}

pub fn read_routes() -> utoipa_axum::router::OpenApiRouter<Arc<Identity>> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(discovery))
        .routes(routes!(list_clients, register_client))
        .routes(routes!(revoke_client))
}

const PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to continue</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:3rem auto;padding:0 1rem}
label{display:block;margin:.75rem 0 .25rem}input{width:100%;padding:.5rem;box-sizing:border-box}
button{margin-top:1rem;padding:.5rem 1rem}.error{color:#a00}</style></head>
<body>
{% if fatal %}<h1>Cannot continue</h1><p class="error">{{ fatal }}</p>{% else %}
<h1>Sign in to Pasar</h1>
<p><strong>{{ client_name }}</strong> asks to access your account with: <code>{{ scope }}</code></p>
{% if error %}<p class="error">{{ error }}</p>{% endif %}
<form method="post" action="/oauth2/authorize">
{% for name, value in hidden %}<input type="hidden" name="{{ name }}" value="{{ value }}">{% endfor %}
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</form>{% endif %}
</body></html>"#;

fn templates() -> &'static minijinja::Environment<'static> {
    static ENV: OnceLock<minijinja::Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        // The ".html" name turns on HTML escaping of every value (state, names, scopes).
        let _ = env.add_template("authorize.html", PAGE);
        env
    })
}

/// The page gets its own policy: inline styles only, no scripts, no framing.
const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

fn page(status: StatusCode, context: minijinja::Value) -> Response {
    let html = templates()
        .get_template("authorize.html")
        .and_then(|t| t.render(context))
        .unwrap_or_else(|_| "Sign-in is unavailable.".to_owned());
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn login_page(request: &ValidAuthorize, status: StatusCode, error: Option<&str>) -> Response {
    let mut hidden = vec![
        ("response_type", "code".to_owned()),
        ("client_id", request.client_id.clone()),
        ("redirect_uri", request.redirect_uri.clone()),
        ("scope", request.scope.clone()),
        ("code_challenge", request.code_challenge.clone()),
        ("code_challenge_method", "S256".to_owned()),
    ];
    if let Some(state) = &request.state {
        hidden.push(("state", state.clone()));
    }
    page(
        status,
        minijinja::context! {
            client_name => request.client_name,
            scope => request.scope,
            error => error,
            hidden => hidden,
        },
    )
}

fn failure(failure: AuthorizeFailure) -> Response {
    match failure {
        AuthorizeFailure::Page(message) => page(
            StatusCode::BAD_REQUEST,
            minijinja::context! { fatal => message },
        ),
        AuthorizeFailure::Redirect(url) => Redirect::to(&url).into_response(),
    }
}

/// Starts the authorization-code flow: shows a sign-in and consent page. PKCE S256 is required;
/// the redirect URI must match a registered one exactly.
#[utoipa::path(get, path = "/oauth2/authorize", tag = "oauth2",
    params(AuthorizeParams),
    responses(
        (status = 200, description = "Sign-in and consent page", content_type = "text/html"),
        (status = 302, description = "Back to the client with an error"),
        (status = 400, description = "Unknown client or redirect URI", content_type = "text/html")))]
async fn authorize_page(
    State(identity): State_,
    Query(params): Query<AuthorizeParams>,
) -> Response {
    match identity.check_authorize(&params).await {
        Ok(request) => login_page(&request, StatusCode::OK, None),
        Err(err) => failure(err),
    }
}

/// The submitted sign-in and consent form.
#[utoipa::path(post, path = "/oauth2/authorize", tag = "oauth2",
    request_body(content_type = "application/x-www-form-urlencoded", description = "The page's form"),
    responses(
        (status = 302, description = "Back to the client with a code or an error"),
        (status = 400, description = "The form could not be read, or the request is not a valid one: a page saying so", content_type = "text/html"),
        (status = 401, description = "Wrong credentials: the page again", content_type = "text/html")))]
async fn authorize_submit(State(identity): State_, body: Bytes) -> Response {
    let readable = text::form_field_with_control(&body).is_none();
    let Some(form) = readable
        .then(|| serde_urlencoded::from_bytes::<AuthorizeForm>(&body).ok())
        .flatten()
    else {
        return page(
            StatusCode::BAD_REQUEST,
            minijinja::context! { fatal => "The form could not be read." },
        );
    };
    let request = match identity.check_authorize(&form.params).await {
        Ok(request) => request,
        Err(err) => return failure(err),
    };
    if form.decision.as_deref() != Some("allow") {
        return Redirect::to(&identity.deny(&request)).into_response();
    }
    let email = form.email.unwrap_or_default();
    let password = form.password.unwrap_or_default();
    match identity.approve(&request, &email, &password).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(IdentityError::Locked { .. }) => login_page(
            &request,
            StatusCode::LOCKED,
            Some("Too many failed sign-ins. Try again later."),
        ),
        Err(IdentityError::Suspended) => login_page(
            &request,
            StatusCode::FORBIDDEN,
            Some("This account is suspended."),
        ),
        Err(IdentityError::InvalidCredentials | IdentityError::Invalid(_)) => login_page(
            &request,
            StatusCode::UNAUTHORIZED,
            Some("The email or password is not right."),
        ),
        Err(err) => {
            tracing::error!(error = %err, "authorization failed");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                minijinja::context! { fatal => "Sign-in is unavailable." },
            )
        }
    }
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    if text::has_forbidden(&decoded) {
        return None;
    }
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

fn oauth_error(err: OAuthError) -> Response {
    let mut response = (
        err.status,
        Json(OAuthErrorBody {
            error: err.error.to_owned(),
            error_description: err.description,
        }),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if err.status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"pasar\""),
        );
    }
    response
}

/// The token endpoint (RFC 6749): `authorization_code` (with the PKCE verifier),
/// `client_credentials` and `refresh_token`. Form-encoded; answers and errors in RFC 6749 JSON.
#[utoipa::path(post, path = "/oauth2/token", tag = "oauth2",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = OAuthTokenResponse),
        (status = 400, body = OAuthErrorBody),
        (status = 401, description = "Client authentication failed", body = OAuthErrorBody)))]
async fn token(
    State(identity): State_,
    headers: HeaderMap,
    ip: Option<Extension<ClientIp>>,
    body: Bytes,
) -> Response {
    if let Some(field) = text::form_field_with_control(&body) {
        return oauth_error(OAuthError {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_request",
            description: format!("{field} {}", text::MESSAGE),
        });
    }
    let form: TokenForm = match serde_urlencoded::from_bytes(&body) {
        Ok(form) => form,
        Err(err) => {
            return oauth_error(OAuthError {
                status: StatusCode::BAD_REQUEST,
                error: "invalid_request",
                description: format!("the form could not be read: {err}"),
            })
        }
    };
    let session = client_info(&headers, ip);
    match identity
        .token(basic_credentials(&headers), form, &session)
        .await
    {
        Ok(tokens) => (
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::PRAGMA, "no-cache"),
            ],
            Json(tokens),
        )
            .into_response(),
        Err(err) => oauth_error(err),
    }
}

/// OpenID Provider metadata describing the OAuth2 endpoints. `issuer` is the configured
/// `auth.issuer`, which should be the public base URL.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "oauth2",
    responses((status = 200, description = "Discovery document")))]
async fn discovery(State(identity): State_) -> impl IntoResponse {
    let issuer = identity
        .ctx
        .config
        .auth
        .issuer
        .trim_end_matches('/')
        .to_owned();
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
            "token_endpoint": format!("{issuer}/oauth2/token"),
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
        })),
    )
}

/// Register an OAuth2 client; the secret is in this answer only (admin).
#[utoipa::path(post, path = "/api/v1/admin/oauth/clients", tag = "admin",
    request_body = RegisterClientRequest, security(("bearer" = [])),
    responses((status = 201, body = RegisteredClient), (status = 422, body = Problem), (status = 403, body = Problem)))]
async fn register_client(
    State(identity): State_,
    actor: Actor,
    ApiJson(request): ApiJson<RegisterClientRequest>,
) -> Result<impl IntoResponse, ApiError> {
    actor.require(Permission::AdminUsers)?;
    Ok((
        StatusCode::CREATED,
        Json(identity.register_client(request).await?),
    ))
}

/// Registered OAuth2 clients, newest first, without secrets (admin).
#[utoipa::path(get, path = "/api/v1/admin/oauth/clients", tag = "admin",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<ClientView>), (status = 403, body = Problem)))]
async fn list_clients(
    State(identity): State_,
    actor: Actor,
) -> Result<Json<Vec<ClientView>>, ApiError> {
    actor.require(Permission::AdminUsers)?;
    Ok(Json(identity.clients().await?))
}

/// Revoke a client: it can no longer obtain tokens (admin).
#[utoipa::path(delete, path = "/api/v1/admin/oauth/clients/{id}", tag = "admin",
    params(("id" = String, Path, description = "Client id")), security(("bearer" = [])),
    responses((status = 204, description = "Revoked"), (status = 404, body = Problem)))]
async fn revoke_client(
    State(identity): State_,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    actor.require(Permission::AdminUsers)?;
    identity.revoke_client(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}
