//! Applications, profiles and status: apply, review, suspend, close; reads for the public,
//! staff and admins.

use super::*;

impl Merchants {
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
}
