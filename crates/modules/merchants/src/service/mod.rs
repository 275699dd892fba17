//! merchants' use cases: applications and their review, profile, outlets, members and
//! invitations, bank account, commission. Authorization is checked by the handlers; every
//! change here writes its events and audit entries in the same transaction.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use kernel::{Actor, ApiError, FieldError, Membership, MerchantRole, Timestamp};
use platform::bus;
use platform::db::{is_unique_violation, Tx};
use platform::http::MembershipSource;
use platform::Context;
use uuid::Uuid;

use crate::api::*;
use crate::domain::{self, StatusAction};
use crate::store::{self, MerchantRow, OutletRow};

mod applications;
mod money;
mod outlets;
mod staff;

pub const SOURCE: &str = "merchants";

#[derive(Debug, thiserror::Error)]
pub enum MerchantError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("merchant not found")]
    NotFound,
    #[error("outlet not found")]
    OutletNotFound,
    #[error("member not found")]
    MemberNotFound,
    #[error("invitation not found")]
    InvitationNotFound,
    #[error("the user already has an application under review")]
    ApplicationPending,
    #[error("cannot {action} a merchant that is {from:?}")]
    Transition {
        action: &'static str,
        from: MerchantStatus,
    },
    #[error("the invitation is invalid, used or expired")]
    InvitationInvalid,
    #[error("the invitation was sent to another address")]
    InvitationForAnother,
    #[error("the invited address is not verified")]
    EmailNotVerified,
    #[error(transparent)]
    Call(#[from] platform::services::CallError),
    #[error("already a member")]
    AlreadyMember,
    #[error("the owner cannot be removed")]
    OwnerStays,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("events: {0}")]
    Bus(#[from] platform::bus::BusError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("no randomness available")]
    Random,
}

impl From<MerchantError> for ApiError {
    fn from(err: MerchantError) -> Self {
        match err {
            MerchantError::Invalid(errors) => ApiError::validation(errors),
            MerchantError::NotFound => {
                ApiError::not_found("merchant_not_found", "No such merchant")
            }
            MerchantError::OutletNotFound => {
                ApiError::not_found("outlet_not_found", "No such outlet of this merchant")
            }
            MerchantError::MemberNotFound => {
                ApiError::not_found("member_not_found", "No such member of this merchant")
            }
            MerchantError::InvitationNotFound => {
                ApiError::not_found("invitation_not_found", "No such pending invitation")
            }
            MerchantError::ApplicationPending => ApiError::conflict(
                "application_pending",
                "You already have a merchant application under review",
            ),
            MerchantError::Transition { action, from } => ApiError::conflict(
                "invalid_transition",
                format!("Cannot {action} a merchant that is {}", from.as_str()),
            )
            .with_extension("currentStatus", serde_json::json!(from))
            .with_extension("allowedNextStates", serde_json::json!(from.next_states())),
            MerchantError::InvitationInvalid => ApiError::new(
                axum::http::StatusCode::GONE,
                "invitation_invalid",
                "The invitation is invalid, already used, revoked or expired",
            ),
            MerchantError::InvitationForAnother => ApiError::forbidden(
                "This invitation was sent to another email address: sign in with the invited address to accept it",
            )
            .with_code("invitation_not_for_you"),
            MerchantError::EmailNotVerified => ApiError::forbidden(
                "Verify your email address, then accept the invitation",
            )
            .with_code("verification_required"),
            MerchantError::Call(err) => err.into(),
            MerchantError::AlreadyMember => {
                ApiError::conflict("already_member", "You are already staff of this merchant")
            }
            MerchantError::OwnerStays => ApiError::conflict(
                "owner_cannot_be_removed",
                "The owner cannot be removed; close the merchant instead",
            ),
            MerchantError::Database(_)
            | MerchantError::Bus(_)
            | MerchantError::Corrupt(_)
            | MerchantError::Random => {
                tracing::error!(error = %err, "merchants failure");
                ApiError::internal()
            }
        }
    }
}

type Result<T> = std::result::Result<T, MerchantError>;

fn invalid(errors: Vec<FieldError>) -> MerchantError {
    MerchantError::Invalid(errors)
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    // Serializing our own plain DTOs cannot fail.
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| MerchantError::Corrupt(e.to_string()))
}

/// A user's memberships and when they were loaded.
type CachedMemberships = (Arc<Vec<Membership>>, Instant);

/// Memberships per user, cached for the edge (every authenticated request asks).
pub struct MembershipCache {
    db: platform::Db,
    invalidations: platform::cache::Invalidations,
    ttl: Duration,
    entries: RwLock<HashMap<Uuid, CachedMemberships>>,
}

impl MembershipCache {
    /// A user's memberships changed: dropped here and in every other process that caches them.
    fn forget(&self, user_id: Uuid) {
        self.forget_here(user_id);
        self.invalidations
            .publish(crate::api::MEMBERSHIPS_TOPIC, &user_id.to_string());
    }

    fn forget_all(&self) {
        self.forget_all_here();
        self.invalidations
            .publish(crate::api::MEMBERSHIPS_TOPIC, "*");
    }

    fn forget_here(&self, user_id: Uuid) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(&user_id);
        }
    }

    fn forget_all_here(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }

    /// Straight from the database: what other processes cache on their side.
    pub async fn load_fresh(&self, user_id: Uuid) -> Result<Vec<Membership>> {
        Ok(self.load(user_id).await?)
    }

    async fn load(&self, user_id: Uuid) -> std::result::Result<Vec<Membership>, sqlx::Error> {
        Ok(store::memberships_of(&self.db, user_id)
            .await?
            .into_iter()
            .filter_map(|(merchant_id, role, _, _)| {
                MerchantRole::parse(&role).map(|role| Membership { merchant_id, role })
            })
            .collect())
    }
}

#[async_trait::async_trait]
impl MembershipSource for MembershipCache {
    async fn memberships(&self, user_id: Uuid) -> Vec<Membership> {
        if let Some((memberships, at)) = self
            .entries
            .read()
            .ok()
            .and_then(|e| e.get(&user_id).cloned())
        {
            if at.elapsed() < self.ttl {
                return memberships.as_ref().clone();
            }
        }
        match self.load(user_id).await {
            Ok(memberships) => {
                if let Ok(mut entries) = self.entries.write() {
                    if entries.len() > 100_000 {
                        entries.clear();
                    }
                    entries.insert(user_id, (Arc::new(memberships.clone()), Instant::now()));
                }
                memberships
            }
            Err(err) => {
                // Failing closed: without memberships the caller is treated as a customer.
                tracing::error!(error = %err, "cannot load merchant memberships");
                Vec::new()
            }
        }
    }
}

pub struct Merchants {
    pub ctx: Context,
    pub config: crate::config::MerchantsConfig,
    pub memberships: Arc<MembershipCache>,
    identity: identity_contract::IdentityClient,
}

impl Merchants {
    pub fn new(ctx: Context) -> Arc<Self> {
        let config: crate::config::MerchantsConfig = ctx.config.section_or_default();
        let memberships = Arc::new(MembershipCache {
            db: ctx.db.clone(),
            invalidations: ctx.invalidations.clone(),
            ttl: Duration::from_secs(config.membership_cache_secs),
            entries: RwLock::default(),
        });
        let local = memberships.clone();
        ctx.invalidations.subscribe(
            crate::api::MEMBERSHIPS_TOPIC,
            move |key| match Uuid::parse_str(key) {
                Ok(user_id) => local.forget_here(user_id),
                Err(_) => local.forget_all_here(),
            },
        );
        Arc::new(Self {
            identity: identity_contract::IdentityClient::new(ctx.services.clone(), SOURCE),
            config,
            ctx,
            memberships,
        })
    }

    fn default_rate(&self) -> u32 {
        self.config.default_commission_bps
    }

    async fn row(&self, id: Uuid) -> Result<MerchantRow> {
        store::merchant(&self.ctx.db, id)
            .await?
            .ok_or(MerchantError::NotFound)
    }

    fn status_of(row: &MerchantRow) -> Result<MerchantStatus> {
        MerchantStatus::parse(&row.status).ok_or_else(|| MerchantError::Corrupt(row.status.clone()))
    }

    pub fn detail(&self, row: &MerchantRow, actor: Option<&Actor>) -> Result<MerchantDetail> {
        let my_role = actor.and_then(|a| a.staff_role(row.id));
        let bank_account = match &row.bank_account {
            None => None,
            Some(text) => {
                let account: BankAccountInput = from_json(text)?;
                let masked = my_role != Some(MerchantRole::Owner);
                Some(BankAccountView {
                    account_number: if masked {
                        domain::mask_account_number(&account.account_number)
                    } else {
                        account.account_number
                    },
                    bank_name: account.bank_name,
                    account_name: account.account_name,
                    masked,
                })
            }
        };
        Ok(MerchantDetail {
            id: row.id,
            owner_user_id: row.owner_user_id,
            business_name: row.business_name.clone(),
            legal_name: row.legal_name.clone(),
            business_type: BusinessType::parse(&row.business_type)
                .ok_or_else(|| MerchantError::Corrupt(row.business_type.clone()))?,
            tax_id: row.tax_id.clone(),
            contact_email: row.contact_email.clone(),
            contact_phone: row.contact_phone.clone(),
            description: row.description.clone(),
            address: from_json(&row.address)?,
            location: GeoPoint {
                latitude: row.latitude,
                longitude: row.longitude,
            },
            category: row.category.clone(),
            documents: from_json(&row.documents)?,
            status: Self::status_of(row)?,
            status_reason: row.status_reason.clone(),
            commission_bps: row
                .commission_bps
                .map(|r| r as u32)
                .unwrap_or(self.default_rate()),
            bank_account,
            my_role,
            created_at: Timestamp::from_millis(row.created_at),
            updated_at: Timestamp::from_millis(row.updated_at),
        })
    }

    fn public(row: &MerchantRow) -> Result<PublicMerchant> {
        Ok(PublicMerchant {
            id: row.id,
            business_name: row.business_name.clone(),
            description: row.description.clone(),
            category: row.category.clone(),
            address: from_json(&row.address)?,
            location: GeoPoint {
                latitude: row.latitude,
                longitude: row.longitude,
            },
            contact_phone: row.contact_phone.clone(),
            created_at: Timestamp::from_millis(row.created_at),
        })
    }

    fn fact(
        row: &MerchantRow,
        status: MerchantStatus,
        reason: Option<String>,
        by: Uuid,
    ) -> MerchantStatusFact {
        MerchantStatusFact {
            merchant_id: row.id,
            owner_user_id: row.owner_user_id,
            business_name: row.business_name.clone(),
            status,
            reason,
            by,
        }
    }
}

/// `GET /merchants/{id}`: what the caller may see.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum MerchantView {
    Detail(Box<MerchantDetail>),
    Public(Box<PublicMerchant>),
}
