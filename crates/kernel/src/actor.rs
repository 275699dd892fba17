use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Admin,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "customer" => Some(Role::Customer),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// What an actor may do. Handlers ask for a permission, never for a role, so that adding a role
/// (merchant staff, service clients) changes one table here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read and edit one's own account.
    ManageOwnAccount,
    /// List, suspend and reactivate any user.
    AdminUsers,
    /// Inspect and replay the event bus's dead letters.
    AdminEvents,
    /// Inspect message deliveries and their failures.
    AdminNotifications,
}

impl Permission {
    /// The scope that grants this permission to API keys.
    pub const fn scope(self) -> &'static str {
        match self {
            Permission::ManageOwnAccount => "account",
            Permission::AdminUsers => "admin:users",
            Permission::AdminEvents => "admin:events",
            Permission::AdminNotifications => "admin:notifications",
        }
    }

    fn granted_to(self, role: Role) -> bool {
        match (self, role) {
            (Permission::ManageOwnAccount, Role::Customer | Role::Admin) => true,
            (
                Permission::AdminUsers | Permission::AdminEvents | Permission::AdminNotifications,
                Role::Admin,
            ) => true,
            (
                Permission::AdminUsers | Permission::AdminEvents | Permission::AdminNotifications,
                Role::Customer,
            ) => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorKind {
    User,
    /// A service client (OAuth2 client credentials): no user, no roles, only its scopes.
    Service,
    /// An API key acting for its owner (`user_id`), limited to its scopes.
    ApiKey,
}

/// The authenticated caller of a request, put into the request by the edge's token verification.
#[derive(Debug, Clone)]
pub struct Actor {
    pub kind: ActorKind,
    pub user_id: Uuid,
    pub roles: Vec<Role>,
    /// The refresh-token family (session) the access token was issued under.
    pub session_id: Option<Uuid>,
    /// Token id and expiry (epoch seconds), so logout can deny this very token.
    pub token_id: String,
    pub token_expires_at: i64,
    /// The OAuth2 client the token was issued to, if any.
    pub client_id: Option<String>,
    /// OAuth2 scopes granted to the token (empty for first-party tokens).
    pub scopes: Vec<String>,
    /// Whether the user's email address was verified when the token was issued.
    pub email_verified: bool,
}

impl Actor {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn can(&self, permission: Permission) -> bool {
        match self.kind {
            ActorKind::User => self.roles.iter().any(|role| permission.granted_to(*role)),
            // A key never exceeds its scopes; admin scopes only work on an admin's key.
            ActorKind::ApiKey => {
                self.has_scope(permission.scope())
                    && (permission == Permission::ManageOwnAccount || self.has_role(Role::Admin))
            }
            ActorKind::Service => false,
        }
    }

    /// One-line authorization check for handlers: `actor.require(Permission::AdminUsers)?`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "You do not have permission to perform this action",
            ))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Actor>().cloned().ok_or_else(|| {
            ApiError::unauthorized(
                "authentication_required",
                "A bearer access token is required",
            )
        })
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Actor>().cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(roles: Vec<Role>) -> Actor {
        Actor {
            kind: ActorKind::User,
            user_id: Uuid::nil(),
            roles,
            session_id: None,
            token_id: "t".into(),
            token_expires_at: 0,
            client_id: None,
            scopes: Vec::new(),
            email_verified: false,
        }
    }

    #[test]
    fn customers_cannot_administer() {
        let customer = actor(vec![Role::Customer]);
        assert!(customer.require(Permission::ManageOwnAccount).is_ok());
        let err = customer.require(Permission::AdminUsers).unwrap_err();
        assert_eq!(err.status.as_u16(), 403);
    }

    #[test]
    fn api_keys_are_limited_to_their_scopes() {
        let mut key = actor(vec![]);
        key.kind = ActorKind::ApiKey;
        assert!(!key.can(Permission::ManageOwnAccount));
        key.scopes = vec!["account".into(), "admin:users".into()];
        assert!(key.can(Permission::ManageOwnAccount));
        assert!(
            !key.can(Permission::AdminUsers),
            "admin scope on a customer's key"
        );
        key.roles = vec![Role::Admin];
        assert!(key.can(Permission::AdminUsers));
        let mut service = actor(vec![Role::Admin]);
        service.kind = ActorKind::Service;
        assert!(!service.can(Permission::AdminUsers));
    }

    #[test]
    fn admins_can_administer() {
        let admin = actor(vec![Role::Customer, Role::Admin]);
        assert!(admin.require(Permission::AdminUsers).is_ok());
        assert!(admin.require(Permission::AdminEvents).is_ok());
    }
}
