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

    pub async fn apply(&self, user_id: Uuid, app: MerchantApplication) -> Result<MerchantDetail> {
        domain::validate_application(&app).map_err(invalid)?;
        let now = Timestamp::now();
        let row = MerchantRow {
            id: kernel::new_id(),
            owner_user_id: user_id,
            business_name: app.business_name.trim().to_owned(),
            legal_name: app.legal_name.trim().to_owned(),
            business_type: app.business_type.as_str().to_owned(),
            tax_id: app.tax_id,
            contact_email: domain::normalize_email(&app.contact_email).unwrap_or(app.contact_email),
            contact_phone: domain::normalize_phone(&app.contact_phone).unwrap_or(app.contact_phone),
            description: app.description,
            address: to_json(&app.address),
            latitude: app.location.latitude,
            longitude: app.location.longitude,
            category: app.category,
            documents: to_json(&app.documents),
            status: MerchantStatus::PendingReview.as_str().to_owned(),
            status_reason: None,
            commission_bps: None,
            bank_account: None,
            created_at: now.millis(),
            updated_at: now.millis(),
        };
        let mut tx = self.ctx.db.begin().await?;
        if let Err(err) = store::insert_merchant(&mut tx, &row).await {
            return Err(if is_unique_violation(&err) {
                MerchantError::ApplicationPending
            } else {
                err.into()
            });
        }
        store::insert_member(&mut tx, row.id, user_id, MerchantRole::Owner.as_str(), now).await?;
        store::audit(&mut tx, row.id, user_id, "applied", None, now).await?;
        bus::publish(
            &mut tx,
            SOURCE,
            &MerchantApplied(Self::fact(
                &row,
                MerchantStatus::PendingReview,
                None,
                user_id,
            )),
        )
        .await?;
        self.ctx.commit(tx).await?;
        self.memberships.forget(user_id);
        self.detail(&row, None).map(|mut d| {
            d.my_role = Some(MerchantRole::Owner);
            d
        })
    }

    /// The public profile, or the full record for its staff and admins.
    pub async fn view(
        &self,
        id: Uuid,
        actor: Option<&Actor>,
        is_admin: bool,
    ) -> Result<MerchantView> {
        let row = self.row(id).await?;
        let staff = actor.is_some_and(|a| a.staff_role(id).is_some());
        if staff || is_admin {
            return Ok(MerchantView::Detail(Box::new(self.detail(&row, actor)?)));
        }
        if Self::status_of(&row)? != MerchantStatus::Active {
            return Err(MerchantError::NotFound);
        }
        Ok(MerchantView::Public(Box::new(Self::public(&row)?)))
    }

    pub async fn list_public(
        &self,
        category: Option<&str>,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<PublicMerchant>> {
        store::list(
            &self.ctx.db,
            Some(MerchantStatus::Active.as_str()),
            category,
            after,
            limit,
        )
        .await?
        .iter()
        .map(Self::public)
        .collect()
    }

    pub async fn list_admin(
        &self,
        status: Option<MerchantStatus>,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<MerchantDetail>> {
        store::list(&self.ctx.db, status.map(|s| s.as_str()), None, after, limit)
            .await?
            .iter()
            .map(|row| self.detail(row, None))
            .collect()
    }

    pub async fn mine(&self, user_id: Uuid) -> Result<Vec<MyMerchant>> {
        Ok(store::memberships_of(&self.ctx.db, user_id)
            .await?
            .into_iter()
            .filter_map(|(merchant_id, role, business_name, status)| {
                Some(MyMerchant {
                    merchant_id,
                    business_name,
                    status: MerchantStatus::parse(&status)?,
                    role: MerchantRole::parse(&role)?,
                })
            })
            .collect())
    }

    pub async fn update(
        &self,
        actor: &Actor,
        id: Uuid,
        update: MerchantUpdate,
    ) -> Result<MerchantDetail> {
        domain::validate_update(&update).map_err(invalid)?;
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let mut row = store::merchant_in(&mut tx, id)
            .await?
            .ok_or(MerchantError::NotFound)?;
        let status = Self::status_of(&row)?;
        if !status.has_staff() {
            return Err(MerchantError::Transition {
                action: "edit",
                from: status,
            });
        }
        if let Some(name) = update.business_name {
            row.business_name = name.trim().to_owned();
        }
        if let Some(description) = update.description {
            row.description = Some(description);
        }
        if let Some(email) = update.contact_email {
            row.contact_email = domain::normalize_email(&email).unwrap_or(email);
        }
        if let Some(phone) = update.contact_phone {
            row.contact_phone = domain::normalize_phone(&phone).unwrap_or(phone);
        }
        if let Some(address) = &update.address {
            row.address = to_json(address);
        }
        if let Some(location) = update.location {
            row.latitude = location.latitude;
            row.longitude = location.longitude;
        }
        if let Some(category) = update.category {
            row.category = category;
        }
        if let Some(documents) = &update.documents {
            row.documents = to_json(documents);
        }
        row.updated_at = now.millis();
        store::update_profile(&mut tx, &row).await?;
        store::audit(&mut tx, id, actor.user_id, "profile_updated", None, now).await?;
        bus::publish(
            &mut tx,
            SOURCE,
            &MerchantUpdated {
                merchant_id: id,
                business_name: row.business_name.clone(),
                category: row.category.clone(),
            },
        )
        .await?;
        self.ctx.commit(tx).await?;
        self.detail(&row, Some(actor))
    }

    /// Approve, reject, suspend, reactivate or close, as `by`.
    pub async fn transition(
        &self,
        by: &Actor,
        id: Uuid,
        action: StatusAction,
        reason: Option<String>,
    ) -> Result<MerchantDetail> {
        let reason = reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        match &reason {
            Some(reason) => domain::validate_reason(reason).map_err(invalid)?,
            None if action.needs_reason() => {
                return Err(invalid(vec![FieldError {
                    field: "reason".into(),
                    message: "is required".into(),
                }]))
            }
            None => {}
        }
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let mut row = store::merchant_in(&mut tx, id)
            .await?
            .ok_or(MerchantError::NotFound)?;
        let from = Self::status_of(&row)?;
        let to = from.apply(action).ok_or(MerchantError::Transition {
            action: action.as_str(),
            from,
        })?;
        if !store::set_status(
            &mut tx,
            id,
            from.as_str(),
            to.as_str(),
            reason.as_deref(),
            now,
        )
        .await?
        {
            // Lost a race with another transition: report what it is now.
            let current = store::merchant_in(&mut tx, id)
                .await?
                .ok_or(MerchantError::NotFound)?;
            return Err(MerchantError::Transition {
                action: action.as_str(),
                from: Self::status_of(&current)?,
            });
        }
        row.status = to.as_str().to_owned();
        row.status_reason = reason.clone();
        row.updated_at = now.millis();
        store::audit(
            &mut tx,
            id,
            by.user_id,
            action.as_str(),
            reason.as_deref(),
            now,
        )
        .await?;
        let fact = Self::fact(&row, to, reason, by.user_id);
        match action {
            StatusAction::Approve => bus::publish(&mut tx, SOURCE, &MerchantApproved(fact)).await?,
            StatusAction::Reject => bus::publish(&mut tx, SOURCE, &MerchantRejected(fact)).await?,
            StatusAction::Suspend => {
                bus::publish(&mut tx, SOURCE, &MerchantSuspended(fact)).await?
            }
            StatusAction::Reactivate => {
                bus::publish(&mut tx, SOURCE, &MerchantReactivated(fact)).await?
            }
            StatusAction::Close => bus::publish(&mut tx, SOURCE, &MerchantClosed(fact)).await?,
        };
        self.ctx.commit(tx).await?;
        if !to.has_staff() {
            self.memberships.forget_all();
        }
        self.detail(&row, Some(by))
    }

    pub async fn set_bank_account(
        &self,
        actor: &Actor,
        id: Uuid,
        account: BankAccountInput,
    ) -> Result<BankAccountView> {
        domain::validate_bank_account(&account).map_err(invalid)?;
        let account = BankAccountInput {
            account_number: account.account_number.replace(' ', ""),
            bank_name: account.bank_name.trim().to_owned(),
            account_name: account.account_name.trim().to_owned(),
        };
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        store::merchant_in(&mut tx, id)
            .await?
            .ok_or(MerchantError::NotFound)?;
        store::set_bank_account(&mut tx, id, &to_json(&account), now).await?;
        let detail = format!(
            "{} {}",
            account.bank_name,
            domain::mask_account_number(&account.account_number)
        );
        store::audit(
            &mut tx,
            id,
            actor.user_id,
            "bank_account_changed",
            Some(&detail),
            now,
        )
        .await?;
        self.ctx.commit(tx).await?;
        Ok(BankAccountView {
            bank_name: account.bank_name,
            account_name: account.account_name,
            account_number: account.account_number,
            masked: false,
        })
    }

    /// The full bank account payouts go to (for ledger, through the internal route).
    pub async fn payout_account(&self, id: Uuid) -> Result<PayoutAccount> {
        let row = self.row(id).await?;
        let account = match &row.bank_account {
            None => None,
            Some(text) => {
                let account: BankAccountInput = from_json(text)?;
                Some(BankAccountDetails {
                    bank_name: account.bank_name,
                    account_name: account.account_name,
                    account_number: account.account_number,
                })
            }
        };
        Ok(PayoutAccount {
            merchant_id: id,
            account,
        })
    }

    pub async fn commission(&self, id: Uuid) -> Result<CommissionView> {
        let row = self.row(id).await?;
        let overrides = store::category_rates(&self.ctx.db, id).await?;
        let own = row.commission_bps.map(|r| r as u32);
        Ok(CommissionView {
            merchant_id: id,
            own_rate_bps: own,
            default_rate_bps: self.default_rate(),
            effective_rate_bps: own.unwrap_or(self.default_rate()),
            category_overrides: overrides
                .into_iter()
                .map(|(category_id, rate)| CategoryOverride {
                    category_id,
                    rate_bps: rate as u32,
                })
                .collect(),
        })
    }

    pub async fn quote(&self, id: Uuid, category_path: &[Uuid]) -> Result<CommissionQuote> {
        let row = self.row(id).await?;
        let overrides: Vec<(Uuid, u32)> = store::category_rates(&self.ctx.db, id)
            .await?
            .into_iter()
            .map(|(c, r)| (c, r as u32))
            .collect();
        Ok(CommissionQuote {
            merchant_id: id,
            rate_bps: domain::commission_rate(
                category_path,
                &overrides,
                row.commission_bps.map(|r| r as u32),
                self.default_rate(),
            ),
            status: Self::status_of(&row)?,
        })
    }

    pub async fn set_commission(
        &self,
        admin: &Actor,
        id: Uuid,
        rate: Option<u32>,
    ) -> Result<CommissionView> {
        if let Some(rate) = rate {
            domain::validate_rate("rateBps", rate).map_err(invalid)?;
        }
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        if !store::set_commission(&mut tx, id, rate.map(|r| r as i32), now).await? {
            return Err(MerchantError::NotFound);
        }
        let detail = rate.map_or("default".to_owned(), |r| format!("{r} bps"));
        store::audit(
            &mut tx,
            id,
            admin.user_id,
            "commission_set",
            Some(&detail),
            now,
        )
        .await?;
        self.ctx.commit(tx).await?;
        self.commission(id).await
    }

    pub async fn set_category_commission(
        &self,
        admin: &Actor,
        id: Uuid,
        category_id: Uuid,
        rate: Option<u32>,
    ) -> Result<CommissionView> {
        if let Some(rate) = rate {
            domain::validate_rate("rateBps", rate).map_err(invalid)?;
        }
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        store::merchant_in(&mut tx, id)
            .await?
            .ok_or(MerchantError::NotFound)?;
        store::set_category_rate(&mut tx, id, category_id, rate.map(|r| r as i32), now).await?;
        let detail = format!(
            "category {category_id}: {}",
            rate.map_or("removed".to_owned(), |r| format!("{r} bps"))
        );
        store::audit(
            &mut tx,
            id,
            admin.user_id,
            "category_commission_set",
            Some(&detail),
            now,
        )
        .await?;
        self.ctx.commit(tx).await?;
        self.commission(id).await
    }

    pub async fn audit_trail(
        &self,
        id: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        Ok(store::audit_trail(&self.ctx.db, id, after, limit)
            .await?
            .into_iter()
            .map(|r| AuditEntry {
                id: r.id,
                merchant_id: r.merchant_id,
                actor_id: r.actor_id,
                action: r.action,
                detail: r.detail,
                created_at: Timestamp::from_millis(r.created_at),
            })
            .collect())
    }

    fn outlet(row: OutletRow) -> Result<Outlet> {
        Ok(Outlet {
            id: row.id,
            merchant_id: row.merchant_id,
            name: row.name,
            address: from_json(&row.address)?,
            location: GeoPoint {
                latitude: row.latitude,
                longitude: row.longitude,
            },
            phone: row.phone,
            opening_hours: from_json(&row.opening_hours)?,
            created_at: Timestamp::from_millis(row.created_at),
            updated_at: Timestamp::from_millis(row.updated_at),
        })
    }

    /// Outlets of a merchant: public while ACTIVE, always to its staff and admins.
    pub async fn outlets(&self, id: Uuid, privileged: bool) -> Result<Vec<Outlet>> {
        let row = self.row(id).await?;
        if !privileged && Self::status_of(&row)? != MerchantStatus::Active {
            return Err(MerchantError::NotFound);
        }
        store::outlets(&self.ctx.db, id)
            .await?
            .into_iter()
            .map(Self::outlet)
            .collect()
    }

    async fn outlet_saved(tx: &mut Tx, row: &OutletRow) -> Result<()> {
        bus::publish(
            tx,
            SOURCE,
            &OutletSaved {
                merchant_id: row.merchant_id,
                outlet_id: row.id,
                name: row.name.clone(),
                location: GeoPoint {
                    latitude: row.latitude,
                    longitude: row.longitude,
                },
            },
        )
        .await?;
        Ok(())
    }

    fn outlet_row(merchant_id: Uuid, id: Uuid, input: &OutletInput, now: Timestamp) -> OutletRow {
        OutletRow {
            id,
            merchant_id,
            name: input.name.trim().to_owned(),
            address: to_json(&input.address),
            latitude: input.location.latitude,
            longitude: input.location.longitude,
            phone: input
                .phone
                .as_deref()
                .map(|p| domain::normalize_phone(p).unwrap_or_else(|| p.to_owned())),
            opening_hours: to_json(&input.opening_hours),
            created_at: now.millis(),
            updated_at: now.millis(),
        }
    }

    pub async fn add_outlet(
        &self,
        actor: &Actor,
        merchant_id: Uuid,
        input: OutletInput,
    ) -> Result<Outlet> {
        domain::validate_outlet(&input).map_err(invalid)?;
        let now = Timestamp::now();
        let row = Self::outlet_row(merchant_id, kernel::new_id(), &input, now);
        let mut tx = self.ctx.db.begin().await?;
        store::merchant_in(&mut tx, merchant_id)
            .await?
            .ok_or(MerchantError::NotFound)?;
        store::insert_outlet(&mut tx, &row).await?;
        store::audit(
            &mut tx,
            merchant_id,
            actor.user_id,
            "outlet_added",
            Some(&row.name),
            now,
        )
        .await?;
        Self::outlet_saved(&mut tx, &row).await?;
        self.ctx.commit(tx).await?;
        Self::outlet(row)
    }

    pub async fn update_outlet(
        &self,
        actor: &Actor,
        merchant_id: Uuid,
        id: Uuid,
        input: OutletInput,
    ) -> Result<Outlet> {
        domain::validate_outlet(&input).map_err(invalid)?;
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let row = store::update_outlet(&mut tx, &Self::outlet_row(merchant_id, id, &input, now))
            .await?
            .ok_or(MerchantError::OutletNotFound)?;
        store::audit(
            &mut tx,
            merchant_id,
            actor.user_id,
            "outlet_updated",
            Some(&row.name),
            now,
        )
        .await?;
        Self::outlet_saved(&mut tx, &row).await?;
        self.ctx.commit(tx).await?;
        Self::outlet(row)
    }

    pub async fn remove_outlet(&self, actor: &Actor, merchant_id: Uuid, id: Uuid) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        if !store::remove_outlet(&mut tx, merchant_id, id, now).await? {
            return Err(MerchantError::OutletNotFound);
        }
        store::audit(
            &mut tx,
            merchant_id,
            actor.user_id,
            "outlet_removed",
            Some(&id.to_string()),
            now,
        )
        .await?;
        bus::publish(
            &mut tx,
            SOURCE,
            &OutletRemoved {
                merchant_id,
                outlet_id: id,
            },
        )
        .await?;
        self.ctx.commit(tx).await?;
        Ok(())
    }

    pub async fn members(&self, merchant_id: Uuid) -> Result<Vec<Member>> {
        Ok(store::members(&self.ctx.db, merchant_id)
            .await?
            .into_iter()
            .filter_map(|m| {
                Some(Member {
                    merchant_id: m.merchant_id,
                    user_id: m.user_id,
                    role: MerchantRole::parse(&m.role)?,
                    joined_at: Timestamp::from_millis(m.created_at),
                })
            })
            .collect())
    }

    pub async fn invite(
        &self,
        actor: &Actor,
        merchant_id: Uuid,
        input: InvitationInput,
    ) -> Result<Invitation> {
        let email = domain::normalize_email(&input.email).unwrap_or_default();
        let mut errors = Vec::new();
        if email.is_empty() {
            errors.push(FieldError {
                field: "email".into(),
                message: "must be an email address".into(),
            });
        }
        if !domain::invitable(input.role) {
            errors.push(FieldError {
                field: "role".into(),
                message: "must be manager or cashier".into(),
            });
        }
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        let token = platform::secrets::random_token().map_err(|_| MerchantError::Random)?;
        let now = Timestamp::now();
        let expires_at = now.plus_seconds(self.config.invitation_ttl_hours * 3600);
        let id = kernel::new_id();
        let mut tx = self.ctx.db.begin().await?;
        let merchant = store::merchant_in(&mut tx, merchant_id)
            .await?
            .ok_or(MerchantError::NotFound)?;
        let status = Self::status_of(&merchant)?;
        if !status.has_staff() {
            return Err(MerchantError::Transition {
                action: "invite to",
                from: status,
            });
        }
        store::insert_invitation(
            &mut tx,
            id,
            merchant_id,
            &email,
            input.role.as_str(),
            &platform::secrets::token_hash(&token),
            actor.user_id,
            expires_at,
            now,
        )
        .await?;
        store::audit(
            &mut tx,
            merchant_id,
            actor.user_id,
            "member_invited",
            Some(&format!("{email} as {}", input.role.as_str())),
            now,
        )
        .await?;
        bus::publish(
            &mut tx,
            SOURCE,
            &MemberInvited {
                merchant_id,
                invitation_id: id,
                business_name: merchant.business_name,
                email: email.clone(),
                role: input.role,
                token: self
                    .ctx
                    .sealer
                    .seal(&token)
                    .map_err(|_| MerchantError::Random)?,
                expires_at,
            },
        )
        .await?;
        self.ctx.commit(tx).await?;
        Ok(Invitation {
            id,
            merchant_id,
            email,
            role: input.role,
            status: "PENDING".into(),
            expires_at,
            created_at: now,
        })
    }

    pub async fn invitations(&self, merchant_id: Uuid) -> Result<Vec<Invitation>> {
        Ok(store::invitations(&self.ctx.db, merchant_id)
            .await?
            .into_iter()
            .filter_map(|r| {
                Some(Invitation {
                    id: r.id,
                    merchant_id: r.merchant_id,
                    email: r.email,
                    role: MerchantRole::parse(&r.role)?,
                    status: r.status,
                    expires_at: Timestamp::from_millis(r.expires_at),
                    created_at: Timestamp::from_millis(r.created_at),
                })
            })
            .collect())
    }

    pub async fn revoke_invitation(
        &self,
        actor: &Actor,
        merchant_id: Uuid,
        id: Uuid,
    ) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        if !store::revoke_invitation(&mut tx, merchant_id, id).await? {
            return Err(MerchantError::InvitationNotFound);
        }
        store::audit(
            &mut tx,
            merchant_id,
            actor.user_id,
            "invitation_revoked",
            Some(&id.to_string()),
            now,
        )
        .await?;
        self.ctx.commit(tx).await?;
        Ok(())
    }

    /// The signed-in user takes the invitation the token belongs to, if they are the invited
    /// address and verified it: a forwarded or leaked link grants nothing to anyone else.
    pub async fn accept(&self, user_id: Uuid, token: &str) -> Result<Member> {
        let hash = platform::secrets::token_hash(token);
        let contact = self
            .identity
            .contact(user_id)
            .await?
            .ok_or(MerchantError::InvitationInvalid)?;
        let email = domain::normalize_email(&contact.email).unwrap_or_default();
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let Some(invitation) =
            store::accept_invitation(&mut tx, &hash, &email, user_id, now).await?
        else {
            let pending = store::pending_invitation(&mut tx, &hash, now).await?;
            return Err(match pending {
                Some(_) => MerchantError::InvitationForAnother,
                None => MerchantError::InvitationInvalid,
            });
        };
        if !contact.email_verified {
            return Err(MerchantError::EmailNotVerified);
        }
        let merchant = store::merchant_in(&mut tx, invitation.merchant_id)
            .await?
            .ok_or(MerchantError::NotFound)?;
        if !Self::status_of(&merchant)?.has_staff() {
            return Err(MerchantError::InvitationInvalid);
        }
        let role = MerchantRole::parse(&invitation.role)
            .ok_or_else(|| MerchantError::Corrupt(invitation.role.clone()))?;
        if !store::insert_member(&mut tx, invitation.merchant_id, user_id, role.as_str(), now)
            .await?
        {
            return Err(MerchantError::AlreadyMember);
        }
        store::audit(
            &mut tx,
            invitation.merchant_id,
            user_id,
            "member_joined",
            Some(role.as_str()),
            now,
        )
        .await?;
        bus::publish(
            &mut tx,
            SOURCE,
            &MemberAdded {
                merchant_id: invitation.merchant_id,
                user_id,
                role,
            },
        )
        .await?;
        self.ctx.commit(tx).await?;
        self.memberships.forget(user_id);
        Ok(Member {
            merchant_id: invitation.merchant_id,
            user_id,
            role,
            joined_at: now,
        })
    }

    /// Makes `user_id` staff without an invitation: operator tooling (the demo seed), not an
    /// HTTP route. Audited as `member_enrolled` by `by`.
    pub async fn enroll(
        &self,
        merchant_id: Uuid,
        user_id: Uuid,
        role: MerchantRole,
        by: Uuid,
    ) -> Result<Member> {
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        store::merchant_in(&mut tx, merchant_id)
            .await?
            .ok_or(MerchantError::NotFound)?;
        if !store::insert_member(&mut tx, merchant_id, user_id, role.as_str(), now).await? {
            return Err(MerchantError::AlreadyMember);
        }
        store::audit(
            &mut tx,
            merchant_id,
            by,
            "member_enrolled",
            Some(&format!("{user_id} as {}", role.as_str())),
            now,
        )
        .await?;
        bus::publish(
            &mut tx,
            SOURCE,
            &MemberAdded {
                merchant_id,
                user_id,
                role,
            },
        )
        .await?;
        self.ctx.commit(tx).await?;
        self.memberships.forget(user_id);
        Ok(Member {
            merchant_id,
            user_id,
            role,
            joined_at: now,
        })
    }

    pub async fn remove_member(
        &self,
        actor: &Actor,
        merchant_id: Uuid,
        user_id: Uuid,
    ) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        match store::member_role(&mut tx, merchant_id, user_id)
            .await?
            .as_deref()
        {
            None => return Err(MerchantError::MemberNotFound),
            Some("owner") => return Err(MerchantError::OwnerStays),
            Some(_) => {}
        }
        store::remove_member(&mut tx, merchant_id, user_id).await?;
        store::audit(
            &mut tx,
            merchant_id,
            actor.user_id,
            "member_removed",
            Some(&user_id.to_string()),
            now,
        )
        .await?;
        bus::publish(
            &mut tx,
            SOURCE,
            &MemberRemoved {
                merchant_id,
                user_id,
                by: actor.user_id,
            },
        )
        .await?;
        self.ctx.commit(tx).await?;
        self.memberships.forget(user_id);
        Ok(())
    }
}

/// `GET /merchants/{id}`: what the caller may see.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum MerchantView {
    Detail(Box<MerchantDetail>),
    Public(Box<PublicMerchant>),
}
