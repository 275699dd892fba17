//! merchants' public face: request and response bodies, the events it publishes, and the typed
//! client other modules use.

mod errors;
pub use errors::MerchantsCode;

mod states;
pub use states::*;

use kernel::call::Method;
use kernel::call::{CallError, Services};
use kernel::{DomainEvent, Membership, MerchantRole, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Address {
    pub line1: String,
    #[serde(default)]
    pub line2: Option<String>,
    pub city: String,
    #[serde(default)]
    pub province: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `KH`, `ID`.
    pub country: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeoPoint {
    pub latitude: f64,
    pub longitude: f64,
}

/// A merchant application. Status, commission and owner are not fields: they are decided by
/// the platform.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MerchantApplication {
    pub business_name: String,
    pub legal_name: String,
    pub business_type: BusinessType,
    pub tax_id: String,
    pub contact_email: String,
    pub contact_phone: String,
    #[serde(default)]
    pub description: Option<String>,
    pub address: Address,
    pub location: GeoPoint,
    /// What the merchant sells, e.g. `restaurant`, `spa`, `fashion`.
    pub category: String,
    /// References of uploaded business documents (licence, tax registration).
    #[serde(default)]
    pub documents: Vec<String>,
}

/// Changes to the profile by its staff; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MerchantUpdate {
    pub business_name: Option<String>,
    pub description: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<Address>,
    pub location: Option<GeoPoint>,
    pub category: Option<String>,
    pub documents: Option<Vec<String>>,
}

/// What anyone may see of an ACTIVE merchant. Documented as closed (`additionalProperties:
/// false`, from `deny_unknown_fields`) so that a full record, a superset, matches only
/// `MerchantDetail` in `GET /merchants/{id}`'s `oneOf`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublicMerchant {
    pub id: Uuid,
    pub business_name: String,
    pub description: Option<String>,
    pub category: String,
    pub address: Address,
    pub location: GeoPoint,
    pub contact_phone: String,
    pub created_at: Timestamp,
}

/// The full record, for the merchant's staff and admins.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MerchantDetail {
    pub id: Uuid,
    pub owner_user_id: Uuid,
    pub business_name: String,
    pub legal_name: String,
    pub business_type: BusinessType,
    pub tax_id: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub description: Option<String>,
    pub address: Address,
    pub location: GeoPoint,
    pub category: String,
    pub documents: Vec<String>,
    pub status: MerchantStatus,
    /// Why the merchant was rejected, suspended or closed.
    pub status_reason: Option<String>,
    /// The commission rate that applies when no category override does.
    pub commission_bps: u32,
    /// Masked for everyone but owners.
    pub bank_account: Option<BankAccountView>,
    /// The caller's role, when staff.
    pub my_role: Option<MerchantRole>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BankAccountInput {
    pub bank_name: String,
    pub account_name: String,
    pub account_number: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BankAccountView {
    pub bank_name: String,
    pub account_name: String,
    /// The full number for owners; `••••1234` for everyone else.
    pub account_number: String,
    pub masked: bool,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommissionUpdate {
    /// Basis points (0..=10000); null returns the merchant to the platform default.
    pub rate_bps: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CategoryRate {
    pub rate_bps: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CategoryOverride {
    pub category_id: Uuid,
    pub rate_bps: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommissionView {
    pub merchant_id: Uuid,
    /// The merchant's own rate, if the platform set one.
    pub own_rate_bps: Option<u32>,
    pub default_rate_bps: u32,
    pub effective_rate_bps: u32,
    pub category_overrides: Vec<CategoryOverride>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpeningHours {
    pub day: Weekday,
    /// `HH:MM`, 24-hour, local time of the outlet.
    pub opens: String,
    /// `HH:MM`; earlier than `opens` means past midnight.
    pub closes: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutletInput {
    pub name: String,
    pub address: Address,
    pub location: GeoPoint,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub opening_hours: Vec<OpeningHours>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Outlet {
    pub id: Uuid,
    pub merchant_id: Uuid,
    pub name: String,
    pub address: Address,
    pub location: GeoPoint,
    pub phone: Option<String>,
    pub opening_hours: Vec<OpeningHours>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvitationInput {
    pub email: String,
    /// `manager` or `cashier`; a merchant has exactly one owner.
    pub role: MerchantRole,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub id: Uuid,
    pub merchant_id: Uuid,
    pub email: String,
    pub role: MerchantRole,
    pub status: String,
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcceptInvitation {
    /// The token from the invitation email.
    pub token: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub merchant_id: Uuid,
    pub user_id: Uuid,
    pub role: MerchantRole,
    pub joined_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MyMerchant {
    pub merchant_id: Uuid,
    pub business_name: String,
    pub status: MerchantStatus,
    pub role: MerchantRole,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: Uuid,
    pub merchant_id: Uuid,
    pub actor_id: Uuid,
    pub action: String,
    pub detail: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PublicMerchantQuery {
    /// Only merchants of this category.
    pub category: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AdminMerchantQuery {
    /// Only merchants in this status, e.g. `PENDING_REVIEW` for the application queue.
    pub status: Option<MerchantStatus>,
}

/// Commission lookup for checkout: the rate for a line of `category_path` (leaf first).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommissionQuery {
    pub category_path: Vec<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommissionQuote {
    pub merchant_id: Uuid,
    pub rate_bps: u32,
    pub status: MerchantStatus,
}

/// Typed client of merchants for other modules (checkout's commission per line).
#[derive(Clone)]
pub struct MerchantsClient {
    services: Services,
    caller: &'static str,
}

impl MerchantsClient {
    pub fn new(services: Services, caller: &'static str) -> Self {
        Self { services, caller }
    }

    pub async fn commission(
        &self,
        merchant_id: Uuid,
        category_path: Vec<Uuid>,
    ) -> Result<CommissionQuote, CallError> {
        self.services
            .call(
                self.caller,
                Method::POST,
                &format!("/internal/v1/merchants/{merchant_id}/commission"),
                Some(&CommissionQuery { category_path }),
            )
            .await
    }
}

/// Where a merchant's payouts go (internal: the full account number). `account` is None when
/// the merchant has no bank account on file.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayoutAccount {
    pub merchant_id: Uuid,
    pub account: Option<BankAccountDetails>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BankAccountDetails {
    pub bank_name: String,
    pub account_name: String,
    pub account_number: String,
}

impl MerchantsClient {
    /// The merchants `user_id` is staff of.
    pub async fn memberships(&self, user_id: Uuid) -> Result<Vec<Membership>, CallError> {
        self.services
            .call::<(), _>(
                self.caller,
                Method::GET,
                &format!("/internal/v1/merchants/memberships/{user_id}"),
                None,
            )
            .await
    }

    /// The bank account payouts go to.
    pub async fn payout_account(&self, merchant_id: Uuid) -> Result<PayoutAccount, CallError> {
        self.services
            .call::<(), _>(
                self.caller,
                Method::GET,
                &format!("/internal/v1/merchants/{merchant_id}/payout-account"),
                None,
            )
            .await
    }
}

/// Which merchants to look up (internal).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MerchantLookup {
    pub merchant_ids: Vec<Uuid>,
}

/// Where a merchant's parcels leave from and who sends them (internal, for shipping).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingOrigin {
    pub merchant_id: Uuid,
    pub business_name: String,
    pub contact_phone: String,
    pub address: Address,
    pub location: GeoPoint,
    pub status: MerchantStatus,
}

impl MerchantsClient {
    /// The shipping origins of the given merchants (at most 100); unknown ids are absent.
    pub async fn shipping_origins(
        &self,
        merchant_ids: Vec<Uuid>,
    ) -> Result<Vec<ShippingOrigin>, CallError> {
        self.services
            .call(
                self.caller,
                Method::POST,
                "/internal/v1/merchants/shipping-origins",
                Some(&MerchantLookup { merchant_ids }),
            )
            .await
    }
}

/// Payload of every status change (`merchant.approved`, `merchant.suspended`, ...).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MerchantStatusFact {
    pub merchant_id: Uuid,
    pub owner_user_id: Uuid,
    pub business_name: String,
    pub status: MerchantStatus,
    pub reason: Option<String>,
    /// The acting user (the applicant for `merchant.applied`).
    pub by: Uuid,
}

macro_rules! status_event {
    ($name:ident, $type:literal) => {
        #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub MerchantStatusFact);

        impl DomainEvent for $name {
            const TYPE: &'static str = $type;
            fn aggregate_id(&self) -> String {
                self.0.merchant_id.to_string()
            }
        }
    };
}

status_event!(MerchantApplied, "merchant.applied");
status_event!(MerchantApproved, "merchant.approved");
status_event!(MerchantRejected, "merchant.rejected");
status_event!(MerchantSuspended, "merchant.suspended");
status_event!(MerchantReactivated, "merchant.reactivated");
status_event!(MerchantClosed, "merchant.closed");

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MerchantUpdated {
    pub merchant_id: Uuid,
    pub business_name: String,
    pub category: String,
}

impl DomainEvent for MerchantUpdated {
    const TYPE: &'static str = "merchant.updated";
    fn aggregate_id(&self) -> String {
        self.merchant_id.to_string()
    }
}

/// Carries the one-time token, sealed, so notifications can email it while the event log (kept
/// for days) holds nothing usable; it is valid until `expires_at` and only for the invited
/// address.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberInvited {
    pub merchant_id: Uuid,
    pub invitation_id: Uuid,
    pub business_name: String,
    pub email: String,
    pub role: MerchantRole,
    pub token: kernel::Sealed,
    pub expires_at: Timestamp,
}

impl DomainEvent for MemberInvited {
    const TYPE: &'static str = "merchant.member_invited";
    fn aggregate_id(&self) -> String {
        self.merchant_id.to_string()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberAdded {
    pub merchant_id: Uuid,
    pub user_id: Uuid,
    pub role: MerchantRole,
}

impl DomainEvent for MemberAdded {
    const TYPE: &'static str = "merchant.member_added";
    fn aggregate_id(&self) -> String {
        self.merchant_id.to_string()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberRemoved {
    pub merchant_id: Uuid,
    pub user_id: Uuid,
    pub by: Uuid,
}

impl DomainEvent for MemberRemoved {
    const TYPE: &'static str = "merchant.member_removed";
    fn aggregate_id(&self) -> String {
        self.merchant_id.to_string()
    }
}

/// An outlet was created or changed (inventory keeps its locations from these).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutletSaved {
    pub merchant_id: Uuid,
    pub outlet_id: Uuid,
    pub name: String,
    pub location: GeoPoint,
}

impl DomainEvent for OutletSaved {
    const TYPE: &'static str = "merchant.outlet_saved";
    fn aggregate_id(&self) -> String {
        self.merchant_id.to_string()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutletRemoved {
    pub merchant_id: Uuid,
    pub outlet_id: Uuid,
}

impl DomainEvent for OutletRemoved {
    const TYPE: &'static str = "merchant.outlet_removed";
    fn aggregate_id(&self) -> String {
        self.merchant_id.to_string()
    }
}

/// Every event merchants publishes, for the event catalogue.
pub fn events() -> Vec<kernel::EventSpec> {
    vec![
        kernel::EventSpec::of::<MerchantUpdated>(),
        kernel::EventSpec::of::<MemberInvited>(),
        kernel::EventSpec::of::<MemberAdded>(),
        kernel::EventSpec::of::<MemberRemoved>(),
        kernel::EventSpec::of::<OutletSaved>(),
        kernel::EventSpec::of::<OutletRemoved>(),
        kernel::EventSpec::of::<MerchantApplied>(),
        kernel::EventSpec::of::<MerchantApproved>(),
        kernel::EventSpec::of::<MerchantRejected>(),
        kernel::EventSpec::of::<MerchantSuspended>(),
        kernel::EventSpec::of::<MerchantReactivated>(),
        kernel::EventSpec::of::<MerchantClosed>(),
    ]
}
