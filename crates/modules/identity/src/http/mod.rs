//! Identity's HTTP face: parse, authorize, call the service, map.

pub(crate) mod mock_oidc;
mod oauth;

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use kernel::error::Problem;
use kernel::{Actor, ApiError, Page, PageQuery, Permission};
use platform::http::{ApiJson, ClassPolicy, ClientIp};
use platform::ratelimit::RouteClass;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::*;
use crate::service::{ClientInfo, Identity, Verify};

type State_ = State<Arc<Identity>>;

pub fn router(identity: Arc<Identity>) -> OpenApiRouter {
    let ctx = identity.ctx.clone();
    let auth = ctx.rate_limited(
        OpenApiRouter::new()
            .routes(routes!(register))
            .routes(routes!(login))
            .routes(routes!(refresh))
            .routes(routes!(logout))
            .routes(routes!(change_password))
            .routes(routes!(forgot_password))
            .routes(routes!(reset_password))
            .routes(routes!(verify_email))
            .routes(routes!(verify_phone))
            .routes(routes!(social_start))
            .routes(routes!(social_callback))
            .merge(oauth::auth_routes()),
        ClassPolicy::Fixed(RouteClass::Auth),
    );
    let rest = ctx.rate_limited(
        OpenApiRouter::new()
            .routes(routes!(jwks))
            .routes(routes!(get_me, update_me, delete_me))
            .routes(routes!(export_me))
            .routes(routes!(list_sessions))
            .routes(routes!(revoke_session))
            .routes(routes!(list_addresses, add_address))
            .routes(routes!(update_address, remove_address))
            .routes(routes!(list_users))
            .routes(routes!(suspend_user))
            .routes(routes!(reactivate_user))
            .routes(routes!(list_api_keys, create_api_key))
            .routes(routes!(revoke_api_key))
            .merge(oauth::read_routes()),
        ClassPolicy::ByMethod,
    );
    // Internal calls come from other processes' edges, never through end users' limits.
    let internal = OpenApiRouter::new()
        .routes(routes!(internal_verify_api_key))
        .routes(routes!(internal_contact))
        .routes(routes!(internal_addresses))
        .layer(axum::middleware::from_fn(platform::http::internal_only));
    auth.merge(rest).merge(internal).with_state(identity)
}

/// The API key's owner, roles and scopes; `null` when it is unknown or revoked (internal: the
/// edge of processes that do not run identity asks this, cached).
#[utoipa::path(post, path = "/internal/v1/identity/api-keys/verify", tag = "internal",
    request_body = ApiKeyToVerify,
    responses((status = 200, body = Option<VerifiedApiKey>), (status = 403, body = Problem)))]
async fn internal_verify_api_key(
    State(identity): State_,
    actor: Actor,
    ApiJson(body): ApiJson<ApiKeyToVerify>,
) -> Result<Json<Option<VerifiedApiKey>>, ApiError> {
    actor.require_internal()?;
    Ok(Json(identity.verified_api_key(&body.key).await))
}

/// A user's email and phone with whether each is verified; `null` for an unknown user
/// (internal).
#[utoipa::path(get, path = "/internal/v1/identity/users/{id}/contact", tag = "internal",
    params(("id" = Uuid, Path, description = "user id")),
    responses((status = 200, body = Option<UserContact>), (status = 403, body = Problem)))]
async fn internal_contact(
    State(identity): State_,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Option<UserContact>>, ApiError> {
    actor.require_internal()?;
    Ok(Json(identity.contact(id).await?))
}

/// A user's saved delivery addresses, the primary one first; empty for an unknown user
/// (internal: shipping quotes to them and copies one onto a shipment).
#[utoipa::path(get, path = "/internal/v1/identity/users/{id}/addresses", tag = "internal",
    params(("id" = Uuid, Path, description = "user id")),
    responses((status = 200, body = Vec<AddressView>), (status = 403, body = Problem)))]
async fn internal_addresses(
    State(identity): State_,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<AddressView>>, ApiError> {
    actor.require_internal()?;
    Ok(Json(identity.addresses(id).await?))
}

pub(crate) fn client_info(headers: &HeaderMap, ip: Option<Extension<ClientIp>>) -> ClientInfo {
    ClientInfo {
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(256).collect()),
        ip: ip
            .and_then(|Extension(ClientIp(ip))| ip)
            .map(|ip| ip.to_string()),
        oauth: None,
    }
}

/// Create a customer account and sign in.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, body = RegisterResponse),
        (status = 409, description = "Email or phone taken", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem)))]
async fn register(
    State(identity): State_,
    headers: HeaderMap,
    ip: Option<Extension<ClientIp>>,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let response = identity
        .register(request, &client_info(&headers, ip))
        .await?;
    Ok((StatusCode::CREATED, Json(response)))
}

/// Sign in with email or phone and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Invalid credentials", body = Problem),
        (status = 403, description = "Account suspended", body = Problem),
        (status = 423, description = "Locked after repeated failures (see Retry-After)", body = Problem)))]
async fn login(
    State(identity): State_,
    headers: HeaderMap,
    ip: Option<Extension<ClientIp>>,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    Ok(Json(
        identity.login(request, &client_info(&headers, ip)).await?,
    ))
}

/// Exchange a refresh token for a new token pair. The presented token is spent; presenting it
/// again revokes the whole session.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, body = Problem)))]
async fn refresh(
    State(identity): State_,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    Ok(Json(identity.refresh(request).await?))
}

/// End the session: revokes the refresh-token family and the access token used.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    request_body = LogoutRequest,
    security(("bearer" = [])),
    responses((status = 204, description = "Signed out"), (status = 401, body = Problem)))]
async fn logout(
    State(identity): State_,
    actor: Actor,
    ApiJson(request): ApiJson<LogoutRequest>,
) -> Result<StatusCode, ApiError> {
    identity.logout(&actor, request).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Public keys verifying access tokens and voucher QR tokens (JWKS; each key has its own `kid`).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth",
    responses((status = 200, description = "JSON Web Key Set")))]
async fn jwks(State(identity): State_) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(jwks_of(&[
            identity.ctx.keyring.jwks(),
            identity.ctx.code_keyring.jwks(),
        ])),
    )
}

fn jwks_of(sets: &[serde_json::Value]) -> serde_json::Value {
    let keys: Vec<serde_json::Value> = sets
        .iter()
        .filter_map(|set| set["keys"].as_array())
        .flatten()
        .cloned()
        .collect();
    serde_json::json!({ "keys": keys })
}

/// The signed-in user's profile.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "users",
    security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = Problem)))]
async fn get_me(State(identity): State_, actor: Actor) -> Result<Json<UserView>, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    Ok(Json(identity.me(actor.user_id).await?))
}

/// Update names or phone. Any other field (email, roles, status, ...) is refused.
#[utoipa::path(put, path = "/api/v1/users/me", tag = "users",
    request_body = UpdateMeRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserView),
        (status = 409, description = "Phone taken", body = Problem),
        (status = 422, body = Problem)))]
async fn update_me(
    State(identity): State_,
    actor: Actor,
    ApiJson(request): ApiJson<UpdateMeRequest>,
) -> Result<Json<UserView>, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    Ok(Json(identity.update_me(actor.user_id, request).await?))
}

/// List users, newest first (admin).
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin",
    params(PageQuery, UserFilter),
    security(("bearer" = [])),
    responses((status = 200, body = Page<UserView>), (status = 403, body = Problem)))]
async fn list_users(
    State(identity): State_,
    actor: Actor,
    Query(page): Query<PageQuery>,
    Query(filter): Query<UserFilter>,
) -> Result<Json<Page<UserView>>, ApiError> {
    actor.require(Permission::AdminUsers)?;
    let before = page.id_cursor()?;
    let limit = page.limit();
    let users = identity.list_users(&filter, before, limit + 1).await?;
    Ok(Json(Page::from_overfetch(users, limit, |u| {
        u.id.to_string()
    })))
}

/// Suspend a user: they can no longer sign in, refresh, or use live access tokens (admin).
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/suspend", tag = "admin",
    params(("id" = Uuid, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserView),
        (status = 404, body = Problem),
        (status = 409, description = "Not active, or the admin themselves", body = Problem)))]
async fn suspend_user(
    State(identity): State_,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<UserView>, ApiError> {
    actor.require(Permission::AdminUsers)?;
    Ok(Json(identity.suspend(&actor, id).await?))
}

/// Reactivate a suspended user (admin).
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/reactivate", tag = "admin",
    params(("id" = Uuid, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserView),
        (status = 404, body = Problem),
        (status = 409, description = "Not suspended", body = Problem)))]
async fn reactivate_user(
    State(identity): State_,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<UserView>, ApiError> {
    actor.require(Permission::AdminUsers)?;
    Ok(Json(identity.reactivate(id).await?))
}

/// Change the password. Needs the current one; every other session is signed out.
#[utoipa::path(post, path = "/api/v1/auth/change-password", tag = "auth",
    request_body = ChangePasswordRequest,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Changed"),
        (status = 401, body = Problem),
        (status = 422, description = "Wrong current password or weak new one", body = Problem),
        (status = 423, description = "Locked after repeated wrong passwords", body = Problem)))]
async fn change_password(
    State(identity): State_,
    actor: Actor,
    ApiJson(request): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    identity.change_password(&actor, request).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user's active sessions (devices), most recently used first.
#[utoipa::path(get, path = "/api/v1/auth/sessions", tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<SessionView>), (status = 401, body = Problem)))]
async fn list_sessions(
    State(identity): State_,
    actor: Actor,
) -> Result<Json<Vec<SessionView>>, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    Ok(Json(identity.sessions(&actor).await?))
}

/// Sign one device out: its refresh tokens and access tokens stop working.
#[utoipa::path(delete, path = "/api/v1/auth/sessions/{id}", tag = "auth",
    params(("id" = Uuid, Path, description = "Session id")),
    security(("bearer" = [])),
    responses((status = 204, description = "Revoked"), (status = 404, body = Problem)))]
async fn revoke_session(
    State(identity): State_,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    identity.revoke_own_session(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user's addresses, primary first.
#[utoipa::path(get, path = "/api/v1/users/me/addresses", tag = "users",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<AddressView>), (status = 401, body = Problem)))]
async fn list_addresses(
    State(identity): State_,
    actor: Actor,
) -> Result<Json<Vec<AddressView>>, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    Ok(Json(identity.addresses(actor.user_id).await?))
}

/// Save an address (at most 20). The first one, or one with `isPrimary`, becomes primary.
#[utoipa::path(post, path = "/api/v1/users/me/addresses", tag = "users",
    request_body = AddressRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, body = AddressView),
        (status = 409, description = "Address limit reached", body = Problem),
        (status = 422, body = Problem)))]
async fn add_address(
    State(identity): State_,
    actor: Actor,
    ApiJson(request): ApiJson<AddressRequest>,
) -> Result<impl IntoResponse, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    let address = identity.add_address(actor.user_id, request).await?;
    Ok((StatusCode::CREATED, Json(address)))
}

/// Replace an address.
#[utoipa::path(put, path = "/api/v1/users/me/addresses/{id}", tag = "users",
    params(("id" = Uuid, Path, description = "Address id")),
    request_body = AddressRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, body = AddressView),
        (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn update_address(
    State(identity): State_,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(request): ApiJson<AddressRequest>,
) -> Result<Json<AddressView>, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    Ok(Json(
        identity.update_address(actor.user_id, id, request).await?,
    ))
}

/// Delete an address; if it was primary, the newest remaining one becomes primary.
#[utoipa::path(delete, path = "/api/v1/users/me/addresses/{id}", tag = "users",
    params(("id" = Uuid, Path, description = "Address id")),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem)))]
async fn remove_address(
    State(identity): State_,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    identity.remove_address(actor.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ask for a password-reset email. Always 202: the answer does not tell whether the account
/// exists. At most three emails per account per hour.
#[utoipa::path(post, path = "/api/v1/auth/forgot-password", tag = "auth",
    request_body = ForgotPasswordRequest,
    responses((status = 202, description = "Accepted"), (status = 422, body = Problem)))]
async fn forgot_password(
    State(identity): State_,
    ApiJson(request): ApiJson<ForgotPasswordRequest>,
) -> Result<StatusCode, ApiError> {
    identity.forgot_password(request).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Set a new password with the emailed token (single use, one hour). Signs out everywhere.
#[utoipa::path(post, path = "/api/v1/auth/reset-password", tag = "auth",
    request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "Password changed"),
        (status = 400, description = "Invalid, used or expired token", body = Problem),
        (status = 422, body = Problem)))]
async fn reset_password(
    State(identity): State_,
    ApiJson(request): ApiJson<ResetPasswordRequest>,
) -> Result<StatusCode, ApiError> {
    identity.reset_password(request).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn verify(
    identity: &Identity,
    actor: &Actor,
    what: Verify,
    request: VerifyRequest,
) -> Result<axum::response::Response, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    Ok(match request.code {
        None => (
            StatusCode::ACCEPTED,
            Json(identity.request_verification(actor, what).await?),
        )
            .into_response(),
        Some(code) => {
            Json(identity.confirm_verification(actor, what, &code).await?).into_response()
        }
    })
}

/// Email verification: `{}` sends a 6-digit code (10 minutes, 5 attempts, one per minute);
/// `{"code": "123456"}` confirms it.
#[utoipa::path(post, path = "/api/v1/users/verify-email", tag = "users",
    request_body = VerifyRequest, security(("bearer" = [])),
    responses(
        (status = 202, description = "Code sent", body = CodeSent),
        (status = 200, description = "Verified", body = UserView),
        (status = 409, description = "Already verified", body = Problem),
        (status = 422, description = "Wrong or no code", body = Problem),
        (status = 423, description = "Code locked after five wrong attempts", body = Problem),
        (status = 429, description = "Resend cooldown", body = Problem)))]
async fn verify_email(
    State(identity): State_,
    actor: Actor,
    ApiJson(request): ApiJson<VerifyRequest>,
) -> Result<axum::response::Response, ApiError> {
    verify(&identity, &actor, Verify::Email, request).await
}

/// Phone verification by SMS code; same rules as email.
#[utoipa::path(post, path = "/api/v1/users/verify-phone", tag = "users",
    request_body = VerifyRequest, security(("bearer" = [])),
    responses(
        (status = 202, description = "Code sent", body = CodeSent),
        (status = 200, description = "Verified", body = UserView),
        (status = 409, description = "No phone, or already verified", body = Problem),
        (status = 422, description = "Wrong or no code", body = Problem),
        (status = 423, description = "Code locked after five wrong attempts", body = Problem),
        (status = 429, description = "Resend cooldown", body = Problem)))]
async fn verify_phone(
    State(identity): State_,
    actor: Actor,
    ApiJson(request): ApiJson<VerifyRequest>,
) -> Result<axum::response::Response, ApiError> {
    verify(&identity, &actor, Verify::Phone, request).await
}

/// Delete the account: needs the password. Personal data is erased, every session ends, and
/// other modules are told (`user.deleted`).
#[utoipa::path(delete, path = "/api/v1/users/me", tag = "users",
    request_body = DeleteAccountRequest, security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 422, description = "Wrong password", body = Problem),
        (status = 423, description = "Locked after repeated wrong passwords", body = Problem)))]
async fn delete_me(
    State(identity): State_,
    actor: Actor,
    ApiJson(request): ApiJson<DeleteAccountRequest>,
) -> Result<StatusCode, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    identity.delete_account(&actor, request).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Everything identity holds about the signed-in user, as a JSON download.
#[utoipa::path(get, path = "/api/v1/users/me/export", tag = "users",
    security(("bearer" = [])),
    responses((status = 200, body = AccountExport), (status = 401, body = Problem)))]
async fn export_me(State(identity): State_, actor: Actor) -> Result<impl IntoResponse, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    let export = identity.export(&actor).await?;
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"pasar-account.json\"",
        )],
        Json(export),
    ))
}

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct ApiKeyFilter {
    /// Only the keys acting for this user.
    owner_id: Option<Uuid>,
}

/// Create an API key for a user; the key is in this answer only (admin).
#[utoipa::path(post, path = "/api/v1/admin/api-keys", tag = "admin",
    request_body = CreateApiKeyRequest, security(("bearer" = [])),
    responses((status = 201, body = CreatedApiKey), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn create_api_key(
    State(identity): State_,
    actor: Actor,
    ApiJson(request): ApiJson<CreateApiKeyRequest>,
) -> Result<impl IntoResponse, ApiError> {
    actor.require(Permission::AdminUsers)?;
    Ok((
        StatusCode::CREATED,
        Json(identity.create_api_key(&actor, request).await?),
    ))
}

/// API keys, newest first, without the keys themselves (admin).
#[utoipa::path(get, path = "/api/v1/admin/api-keys", tag = "admin",
    params(ApiKeyFilter), security(("bearer" = [])),
    responses((status = 200, body = Vec<ApiKeyView>), (status = 403, body = Problem)))]
async fn list_api_keys(
    State(identity): State_,
    actor: Actor,
    Query(filter): Query<ApiKeyFilter>,
) -> Result<Json<Vec<ApiKeyView>>, ApiError> {
    actor.require(Permission::AdminUsers)?;
    Ok(Json(identity.api_keys(filter.owner_id).await?))
}

/// Revoke an API key (admin).
#[utoipa::path(delete, path = "/api/v1/admin/api-keys/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "Key id")), security(("bearer" = [])),
    responses((status = 204, description = "Revoked"), (status = 404, body = Problem)))]
async fn revoke_api_key(
    State(identity): State_,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    actor.require(Permission::AdminUsers)?;
    identity.revoke_api_key(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Start signing in with an OpenID Connect provider (`google`, ... as configured; `mock` in
/// development): open `authorizationUrl` in the browser.
#[utoipa::path(get, path = "/api/v1/auth/oidc/{provider}/start", tag = "auth",
    params(("provider" = String, Path, description = "Configured provider name")),
    responses((status = 200, body = SocialStart), (status = 404, body = Problem), (status = 502, body = Problem)))]
async fn social_start(
    State(identity): State_,
    Path(provider): Path<String>,
) -> Result<Json<SocialStart>, ApiError> {
    Ok(Json(identity.social_start(&provider).await?))
}

/// Where the provider sends the user back: signs in (linking to an account with the same
/// verified email, or creating one) and answers with a token pair.
#[utoipa::path(get, path = "/api/v1/auth/oidc/{provider}/callback", tag = "auth",
    params(("provider" = String, Path, description = "Configured provider name"), SocialCallback),
    responses(
        (status = 200, body = SocialLoginResponse),
        (status = 400, description = "Unknown, used or expired sign-in", body = Problem),
        (status = 409, description = "Existing account with an unverified email", body = Problem),
        (status = 502, description = "The provider's answer was unusable", body = Problem)))]
async fn social_callback(
    State(identity): State_,
    Path(provider): Path<String>,
    Query(callback): Query<SocialCallback>,
    headers: HeaderMap,
    ip: Option<Extension<ClientIp>>,
) -> Result<Json<SocialLoginResponse>, ApiError> {
    Ok(Json(
        identity
            .social_callback(&provider, callback, &client_info(&headers, ip))
            .await?,
    ))
}
