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
    /// Review merchant applications; approve, reject, suspend, set commission.
    AdminMerchants,
    /// Manage categories, brands and attributes; moderate listings; read any merchant's drafts
    /// and stock.
    AdminCatalog,
    /// See and move any order (e.g. cancel a shipped one).
    AdminOrders,
    /// See any payment, refund, review flagged payments; payout runs and the ledger.
    AdminPayments,
    /// Decide fraud cases of voucher redemptions and set the fraud rules.
    AdminVouchers,
    /// Run platform campaigns and promotions; see every merchant's and their analytics.
    AdminPromotions,
    /// See any customer's rewards account and adjust their points.
    AdminRewards,
}

impl Permission {
    /// The scope that grants this permission to API keys.
    pub const fn scope(self) -> &'static str {
        match self {
            Permission::ManageOwnAccount => "account",
            Permission::AdminUsers => "admin:users",
            Permission::AdminEvents => "admin:events",
            Permission::AdminNotifications => "admin:notifications",
            Permission::AdminMerchants => "admin:merchants",
            Permission::AdminCatalog => "admin:catalog",
            Permission::AdminOrders => "admin:orders",
            Permission::AdminPayments => "admin:payments",
            Permission::AdminVouchers => "admin:vouchers",
            Permission::AdminPromotions => "admin:promotions",
            Permission::AdminRewards => "admin:rewards",
        }
    }

    fn granted_to(self, role: Role) -> bool {
        match (self, role) {
            (Permission::ManageOwnAccount, Role::Customer | Role::Admin) => true,
            (_, Role::Admin) => true,
            (_, Role::Customer) => false,
        }
    }
}

/// A staff role within one merchant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MerchantRole {
    Owner,
    Manager,
    Cashier,
}

impl MerchantRole {
    pub const fn as_str(self) -> &'static str {
        match self {
            MerchantRole::Owner => "owner",
            MerchantRole::Manager => "manager",
            MerchantRole::Cashier => "cashier",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "owner" => Some(MerchantRole::Owner),
            "manager" => Some(MerchantRole::Manager),
            "cashier" => Some(MerchantRole::Cashier),
            _ => None,
        }
    }
}

/// What merchant staff may do within their merchant. Handlers ask
/// `actor.require_staff(merchant_id, MerchantPermission::EditListings)?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MerchantPermission {
    /// See the merchant's private data: drafts, stock, members, orders.
    ViewInternal,
    /// Create and edit products, variants and voucher offers.
    EditListings,
    /// Set and adjust stock.
    ManageStock,
    /// Move the merchant's orders through fulfilment (processing, shipped, delivered), cancel.
    FulfilOrders,
    /// Redeem vouchers at the counter.
    Redeem,
    /// Edit the merchant profile and outlets.
    ManageProfile,
    /// See payouts and the commission rates.
    ViewPayouts,
    /// See the merchant's ledger balance, statement and payouts (owner and manager).
    ViewBalance,
    /// Owner powers: invite and remove members, see and change the bank account, close.
    ManageAccount,
}

impl MerchantPermission {
    const fn granted_to(self, role: MerchantRole) -> bool {
        use MerchantPermission::*;
        match role {
            MerchantRole::Owner => true,
            MerchantRole::Manager => !matches!(self, ViewPayouts | ManageAccount),
            MerchantRole::Cashier => matches!(self, ViewInternal | Redeem),
        }
    }
}

/// The actor's role in one merchant, resolved per request by the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    pub merchant_id: Uuid,
    pub role: MerchantRole,
}

/// The API-key scope that lets a key act as its owner's merchant staff.
pub const MERCHANT_SCOPE: &str = "merchant";
/// The scope of in-process and service-to-service calls to internal routes.
pub const INTERNAL_SCOPE: &str = "internal";

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
    /// Merchants the user is staff of (filled by the edge, current at request time).
    pub memberships: Vec<Membership>,
}

impl Actor {
    /// The caller of an in-process call between modules: a service with the internal scope.
    pub fn internal(module: &str) -> Self {
        Actor {
            kind: ActorKind::Service,
            user_id: Uuid::nil(),
            roles: Vec::new(),
            session_id: None,
            token_id: String::new(),
            token_expires_at: i64::MAX,
            client_id: Some(format!("pasar:{module}")),
            scopes: vec![INTERNAL_SCOPE.to_owned()],
            email_verified: false,
            memberships: Vec::new(),
        }
    }

    /// Internal routes (typed clients between modules) accept only service callers holding
    /// the internal scope.
    pub fn require_internal(&self) -> Result<(), ApiError> {
        if self.kind == ActorKind::Service && self.has_scope(INTERNAL_SCOPE) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "This route is for internal service calls",
            ))
        }
    }

    /// The actor's role in `merchant_id`, if staff. API keys act as staff only with the
    /// `merchant` scope.
    pub fn staff_role(&self, merchant_id: Uuid) -> Option<MerchantRole> {
        if self.kind == ActorKind::ApiKey && !self.has_scope(MERCHANT_SCOPE) {
            return None;
        }
        self.memberships
            .iter()
            .find(|m| m.merchant_id == merchant_id)
            .map(|m| m.role)
    }

    pub fn is_staff_with(&self, merchant_id: Uuid, permission: MerchantPermission) -> bool {
        self.staff_role(merchant_id)
            .is_some_and(|role| permission.granted_to(role))
    }

    /// One-line check for merchant-scoped handlers: staff of `merchant_id` whose role grants
    /// `permission`. Admins are not staff: they moderate through admin permissions.
    pub fn require_staff(
        &self,
        merchant_id: Uuid,
        permission: MerchantPermission,
    ) -> Result<MerchantRole, ApiError> {
        match self.staff_role(merchant_id) {
            Some(role) if permission.granted_to(role) => Ok(role),
            Some(_) => Err(ApiError::forbidden(
                "Your role in this merchant does not allow this action",
            )),
            None => Err(ApiError::forbidden("You are not staff of this merchant")),
        }
    }

    /// Merchants in which the actor holds `permission`.
    pub fn merchants_with(&self, permission: MerchantPermission) -> Vec<Uuid> {
        self.memberships
            .iter()
            .filter(|m| self.is_staff_with(m.merchant_id, permission))
            .map(|m| m.merchant_id)
            .collect()
    }

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
            memberships: Vec::new(),
        }
    }

    #[test]
    fn staff_permissions_follow_the_role() {
        let shop = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        let mut cashier = actor(vec![Role::Customer]);
        cashier.memberships = vec![Membership {
            merchant_id: shop,
            role: MerchantRole::Cashier,
        }];
        assert!(cashier
            .require_staff(shop, MerchantPermission::Redeem)
            .is_ok());
        assert!(cashier
            .require_staff(shop, MerchantPermission::EditListings)
            .is_err());
        assert!(cashier
            .require_staff(shop, MerchantPermission::ViewPayouts)
            .is_err());
        assert!(cashier
            .require_staff(other, MerchantPermission::Redeem)
            .is_err());
        let mut manager = cashier.clone();
        manager.memberships[0].role = MerchantRole::Manager;
        assert!(manager
            .require_staff(shop, MerchantPermission::EditListings)
            .is_ok());
        assert!(manager
            .require_staff(shop, MerchantPermission::ManageAccount)
            .is_err());
        let mut owner = cashier.clone();
        owner.memberships[0].role = MerchantRole::Owner;
        assert!(owner
            .require_staff(shop, MerchantPermission::ManageAccount)
            .is_ok());
        assert_eq!(
            owner.merchants_with(MerchantPermission::ViewPayouts),
            vec![shop]
        );
        let admin = actor(vec![Role::Admin]);
        assert!(admin
            .require_staff(shop, MerchantPermission::ViewInternal)
            .is_err());
        let mut key = owner.clone();
        key.kind = ActorKind::ApiKey;
        assert!(
            key.staff_role(shop).is_none(),
            "key without the merchant scope"
        );
        key.scopes = vec![MERCHANT_SCOPE.into()];
        assert_eq!(key.staff_role(shop), Some(MerchantRole::Owner));
    }

    #[test]
    fn internal_routes_need_the_internal_service() {
        assert!(Actor::internal("orders").require_internal().is_ok());
        assert!(actor(vec![Role::Admin]).require_internal().is_err());
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
