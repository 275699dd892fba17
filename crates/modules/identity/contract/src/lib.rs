//! The public face of identity: request/response bodies and the events it publishes.

mod errors;
pub use errors::IdentityCode;

use kernel::call::{CallError, Method, Services};
use kernel::{DomainEvent, Role, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub const SOURCE: &str = "identity";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(example = "sok.dara@example.com")]
    pub email: String,
    /// 8-128 characters with upper, lower, digit and symbol.
    #[schema(example = "Str0ng!Pass")]
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    /// E.164, e.g. `+85512345678`.
    pub phone: Option<String>,
}

/// Exactly one of `email` or `phone`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginRequest {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogoutRequest {
    pub refresh_token: String,
}

/// Editable profile fields. Email, roles and status cannot be changed here; sending them is
/// an error, not silently ignored. `phone: null` removes the phone number.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateMeRequest {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
}

/// Distinguishes an absent field from an explicit `null`.
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(deserializer).map(Some)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub phone: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub roles: Vec<Role>,
    /// `ACTIVE`, `SUSPENDED` or `DELETED`.
    pub status: String,
    /// `PENDING` until the email address is verified, then `VERIFIED`.
    pub verification: String,
    pub email_verified: bool,
    pub phone_verified: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime of the access token in seconds.
    pub expires_in: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterResponse {
    pub user: UserView,
    #[serde(flatten)]
    pub tokens: TokenResponse,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    /// Part of the email address (case-insensitive).
    pub email: Option<String>,
    /// `ACTIVE` or `SUSPENDED`.
    pub status: Option<String>,
}

macro_rules! user_event {
    ($name:ident, $type:literal) => {
        #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            pub user_id: Uuid,
        }

        impl DomainEvent for $name {
            const TYPE: &'static str = $type;
            fn aggregate_id(&self) -> String {
                self.user_id.to_string()
            }
        }
    };
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserRegistered {
    pub user_id: Uuid,
    pub email: String,
    pub phone: Option<String>,
    pub first_name: String,
    pub last_name: String,
}

impl DomainEvent for UserRegistered {
    const TYPE: &'static str = "user.registered";
    fn aggregate_id(&self) -> String {
        self.user_id.to_string()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserSuspended {
    pub user_id: Uuid,
    pub by: Uuid,
}

impl DomainEvent for UserSuspended {
    const TYPE: &'static str = "user.suspended";
    fn aggregate_id(&self) -> String {
        self.user_id.to_string()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserRolesChanged {
    pub user_id: Uuid,
    pub roles: Vec<Role>,
}

impl DomainEvent for UserRolesChanged {
    const TYPE: &'static str = "user.roles_changed";
    fn aggregate_id(&self) -> String {
        self.user_id.to_string()
    }
}

/// A session started (register or login).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserLoggedIn {
    pub user_id: Uuid,
    pub session_id: Uuid,
}

impl DomainEvent for UserLoggedIn {
    const TYPE: &'static str = "user.logged_in";
    fn aggregate_id(&self) -> String {
        self.user_id.to_string()
    }
}

/// A session ended: logout, suspension, or a refresh token presented twice.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionRevoked {
    pub user_id: Uuid,
    pub session_id: Uuid,
    /// `logout`, `suspended` or `refresh_token_reuse`.
    pub reason: String,
}

impl DomainEvent for SessionRevoked {
    const TYPE: &'static str = "session.revoked";
    fn aggregate_id(&self) -> String {
        self.session_id.to_string()
    }
}

user_event!(UserReactivated, "user.reactivated");
user_event!(UserLockedOut, "user.locked_out");

/// One signed-in device: a refresh-token family.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub id: Uuid,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
    pub expires_at: Timestamp,
    /// The session of the access token making this request.
    pub current: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// A delivery address. `country` is ISO 3166-1 alpha-2 (`KH`, `ID`, ...); coordinates come in
/// pairs.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddressRequest {
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
    #[serde(default)]
    pub is_primary: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddressView {
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
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddressChanged {
    pub user_id: Uuid,
    pub address_id: Uuid,
    /// `added`, `updated` or `removed`.
    pub change: String,
}

impl DomainEvent for AddressChanged {
    const TYPE: &'static str = "user.address_changed";
    fn aggregate_id(&self) -> String {
        self.user_id.to_string()
    }
}

user_event!(UserPasswordChanged, "user.password_changed");

/// Profile changed; carries the contact details consumers keep a copy of.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserUpdated {
    pub user_id: Uuid,
    pub email: String,
    pub phone: Option<String>,
}

impl DomainEvent for UserUpdated {
    const TYPE: &'static str = "user.updated";
    fn aggregate_id(&self) -> String {
        self.user_id.to_string()
    }
}

/// A one-time code to deliver. The code is short-lived and single-use; only its hash is kept
/// by identity.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerificationRequested {
    pub user_id: Uuid,
    /// `email` or `phone`.
    pub channel: String,
    pub destination: String,
    /// The code, sealed: only the module that delivers it opens it.
    pub code: kernel::Sealed,
    pub expires_in_minutes: i64,
}

impl DomainEvent for VerificationRequested {
    const TYPE: &'static str = "user.verification_requested";
    fn aggregate_id(&self) -> String {
        self.user_id.to_string()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordResetRequested {
    pub user_id: Uuid,
    pub email: String,
    /// The reset token, sealed: only the module that delivers it opens it.
    pub token: kernel::Sealed,
    pub expires_in_minutes: i64,
}

impl DomainEvent for PasswordResetRequested {
    const TYPE: &'static str = "user.password_reset_requested";
    fn aggregate_id(&self) -> String {
        self.user_id.to_string()
    }
}

user_event!(UserDeleted, "user.deleted");

/// Without `code`: send a new code. With `code`: confirm it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyRequest {
    pub code: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CodeSent {
    /// Where the code went, masked.
    pub sent_to: String,
    pub expires_in_seconds: i64,
    pub resend_after_seconds: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForgotPasswordRequest {
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResetPasswordRequest {
    pub token: String,
    pub new_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteAccountRequest {
    pub password: String,
}

/// Everything identity holds about the user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountExport {
    pub exported_at: Timestamp,
    pub user: UserView,
    pub addresses: Vec<AddressView>,
    /// Every session still on record, ended ones included.
    pub sessions: Vec<SessionRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionRecord {
    pub id: Uuid,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub revoked_reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterClientRequest {
    pub name: String,
    /// Exact redirect URIs (https, or http on loopback). Needed for `authorization_code`.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Any of `authorization_code`, `client_credentials`, `refresh_token`.
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    /// Confidential clients get a secret; public ones (mobile, SPA) use PKCE alone.
    #[serde(default = "yes")]
    pub confidential: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientView {
    pub client_id: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub confidential: bool,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// The secret is shown here once and never again.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredClient {
    #[serde(flatten)]
    pub client: ClientView,
    pub client_secret: Option<String>,
}

/// RFC 6749 token response (snake_case by the standard).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OAuthTokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// RFC 6749 error response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OAuthErrorBody {
    pub error: String,
    pub error_description: String,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizeForm {
    #[serde(flatten)]
    pub params: AuthorizeParams,
    pub email: Option<String>,
    pub password: Option<String>,
    /// `allow` or `deny`.
    pub decision: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TokenForm {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// The user the key acts for.
    pub owner_id: Uuid,
    pub name: String,
    /// What the key may do, e.g. `account`; admin scopes work only on an admin's key.
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyView {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub name: String,
    /// The first characters of the key, to recognise it.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// The key itself is in this answer only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub view: ApiKeyView,
    pub key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SocialStart {
    /// Open this in the browser; the provider sends the user back to Pasar's callback.
    pub authorization_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SocialLoginResponse {
    pub user: UserView,
    #[serde(flatten)]
    pub tokens: TokenResponse,
    /// Whether this sign-in created the account.
    pub created: bool,
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SocialCallback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// Invalidation topic of verified API keys: the key's digest, or `*`.
pub const API_KEYS_TOPIC: &str = "api_keys";

/// An API key presented to another process's edge (internal).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyToVerify {
    pub key: String,
}

/// How a user can be reached, and which of it they proved theirs (internal: merchants binds
/// staff invitations to the invited address).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserContact {
    pub user_id: Uuid,
    pub email: String,
    pub email_verified: bool,
    pub phone: Option<String>,
    pub phone_verified: bool,
}

/// Typed client of identity, for other modules.
#[derive(Clone)]
pub struct IdentityClient {
    services: Services,
    caller: &'static str,
}

impl IdentityClient {
    pub fn new(services: Services, caller: &'static str) -> Self {
        Self { services, caller }
    }

    /// The user's contact; None when there is no such user.
    pub async fn contact(&self, user_id: Uuid) -> Result<Option<UserContact>, CallError> {
        self.services
            .call::<(), _>(
                self.caller,
                Method::GET,
                &format!("/internal/v1/identity/users/{user_id}/contact"),
                None,
            )
            .await
    }
}

impl IdentityClient {
    /// The user's saved delivery addresses, the primary one first (empty for an unknown user).
    pub async fn addresses(&self, user_id: Uuid) -> Result<Vec<AddressView>, CallError> {
        self.services
            .call::<(), _>(
                self.caller,
                Method::GET,
                &format!("/internal/v1/identity/users/{user_id}/addresses"),
                None,
            )
            .await
    }
}

/// A live API key: who it acts for and within which scopes (internal).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedApiKey {
    pub key_id: Uuid,
    pub owner_id: Uuid,
    pub roles: Vec<String>,
    pub scopes: Vec<String>,
}

impl VerifiedApiKey {
    pub fn actor(&self) -> kernel::Actor {
        kernel::Actor {
            kind: kernel::ActorKind::ApiKey,
            user_id: self.owner_id,
            roles: self.roles.iter().filter_map(|r| Role::parse(r)).collect(),
            session_id: None,
            token_id: self.key_id.to_string(),
            token_expires_at: i64::MAX,
            client_id: Some(format!("key:{}", self.key_id)),
            scopes: self.scopes.clone(),
            email_verified: false,
            memberships: Vec::new(),
        }
    }
}

/// Every event identity publishes, for the event catalogue.
pub fn events() -> Vec<kernel::EventSpec> {
    vec![
        kernel::EventSpec::of::<UserRegistered>(),
        kernel::EventSpec::of::<UserSuspended>(),
        kernel::EventSpec::of::<UserRolesChanged>(),
        kernel::EventSpec::of::<UserLoggedIn>(),
        kernel::EventSpec::of::<SessionRevoked>(),
        kernel::EventSpec::of::<AddressChanged>(),
        kernel::EventSpec::of::<UserUpdated>(),
        kernel::EventSpec::of::<VerificationRequested>(),
        kernel::EventSpec::of::<PasswordResetRequested>(),
        kernel::EventSpec::of::<UserReactivated>(),
        kernel::EventSpec::of::<UserLockedOut>(),
        kernel::EventSpec::of::<UserPasswordChanged>(),
        kernel::EventSpec::of::<UserDeleted>(),
    ]
}
