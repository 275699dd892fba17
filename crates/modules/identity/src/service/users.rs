//! Users as they and admins see them: contact, profile, listing, suspension, the first
//! admin.

use super::*;

impl Identity {
    pub async fn contact(&self, user_id: Uuid) -> Result<Option<UserContact>> {
        Ok(store::user_by_id(&self.ctx.db, user_id)
            .await?
            .map(|u| UserContact {
                user_id: u.id,
                email: u.email,
                email_verified: u.email_verified_at.is_some(),
                phone: u.phone,
                phone_verified: u.phone_verified_at.is_some(),
            }))
    }

    pub async fn me(&self, user_id: Uuid) -> Result<UserView> {
        store::user_by_id(&self.ctx.db, user_id)
            .await?
            .map(|u| user_view(&u))
            .ok_or(IdentityError::UserNotFound)
    }

    pub async fn update_me(&self, user_id: Uuid, request: UpdateMeRequest) -> Result<UserView> {
        let mut errors = Vec::new();
        let mut optional_name = |field: &str, value: Option<&str>| match value
            .map(|n| domain::validate_name(field, n))
        {
            Some(Ok(name)) => Some(name),
            Some(Err(e)) => {
                errors.push(e);
                None
            }
            None => None,
        };
        let first_name = optional_name("firstName", request.first_name.as_deref());
        let last_name = optional_name("lastName", request.last_name.as_deref());
        let phone = match &request.phone {
            None => None,
            Some(None) => Some(None),
            Some(Some(raw)) => match domain::normalize_phone(raw) {
                Ok(phone) => Some(Some(phone)),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(IdentityError::Invalid(errors));
        }
        let mut tx = self.ctx.db.begin().await?;
        let change = store::ProfileChange {
            first_name: first_name.as_deref(),
            last_name: last_name.as_deref(),
            phone: phone.as_ref().map(|p| p.as_deref()),
        };
        let updated = store::update_profile(&mut tx, user_id, &change, Timestamp::now())
            .await
            .map_err(unique_conflict)?
            .ok_or(IdentityError::UserNotFound)?;
        bus::publish(
            &mut tx,
            SOURCE,
            &UserUpdated {
                user_id,
                email: updated.email.clone(),
                phone: updated.phone.clone(),
            },
        )
        .await?;
        self.ctx.commit(tx).await?;
        Ok(user_view(&updated))
    }

    pub async fn list_users(
        &self,
        filter: &UserFilter,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<UserView>> {
        if let Some(status) = &filter.status {
            if UserStatus::parse(status).is_none() {
                return Err(IdentityError::Invalid(vec![FieldError {
                    field: "status".into(),
                    message: "must be ACTIVE, SUSPENDED or DELETED".into(),
                }]));
            }
        }
        let rows = store::list_users(
            &self.ctx.db,
            filter.email.as_deref().filter(|e| !e.is_empty()),
            filter.status.as_deref(),
            before,
            limit,
        )
        .await?;
        Ok(rows.iter().map(user_view).collect())
    }

    /// Suspends a user and ends every session they have, so live access tokens stop working
    /// at once.
    pub async fn suspend(&self, admin: &Actor, user_id: Uuid) -> Result<UserView> {
        if admin.user_id == user_id {
            return Err(IdentityError::SelfSuspension);
        }
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        self.transition(
            &mut tx,
            user_id,
            UserStatus::Active,
            UserStatus::Suspended,
            now,
        )
        .await?;
        let sessions = store::revoke_user_sessions(&mut tx, user_id, now, "suspended").await?;
        self.announce_revocations(&mut tx, user_id, &sessions, "suspended")
            .await?;
        bus::publish(
            &mut tx,
            SOURCE,
            &UserSuspended {
                user_id,
                by: admin.user_id,
            },
        )
        .await?;
        let user = store::user_by_id_in(&mut tx, user_id)
            .await?
            .ok_or(IdentityError::UserNotFound)?;
        self.ctx.commit(tx).await?;
        self.deny_sessions(&sessions).await;
        Ok(user_view(&user))
    }

    pub async fn reactivate(&self, user_id: Uuid) -> Result<UserView> {
        let mut tx = self.ctx.db.begin().await?;
        self.transition(
            &mut tx,
            user_id,
            UserStatus::Suspended,
            UserStatus::Active,
            Timestamp::now(),
        )
        .await?;
        bus::publish(&mut tx, SOURCE, &UserReactivated { user_id }).await?;
        let user = store::user_by_id_in(&mut tx, user_id)
            .await?
            .ok_or(IdentityError::UserNotFound)?;
        self.ctx.commit(tx).await?;
        Ok(user_view(&user))
    }

    pub(crate) async fn transition(
        &self,
        tx: &mut Tx,
        user_id: Uuid,
        from: UserStatus,
        to: UserStatus,
        now: Timestamp,
    ) -> Result<()> {
        if store::transition_status(tx, user_id, from.as_str(), to.as_str(), now).await? == 1 {
            return Ok(());
        }
        match store::user_by_id_in(tx, user_id).await? {
            None => Err(IdentityError::UserNotFound),
            Some(_) => Err(IdentityError::WrongStatus {
                expected: match from {
                    UserStatus::Active => "active",
                    UserStatus::Suspended => "suspended",
                    UserStatus::Deleted => "deleted",
                },
            }),
        }
    }

    /// Marks a user's email verified on an operator's word (demo data, support tooling).
    pub async fn mark_email_verified(&self, user_id: Uuid) -> Result<()> {
        let mut tx = self.ctx.db.begin().await?;
        store::mark_email_verified(&mut tx, user_id, Timestamp::now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates an admin, or grants the admin role to an existing account with this email.
    /// Returns the user and whether it was created.
    pub async fn bootstrap_admin(&self, email: &str, password: &str) -> Result<(UserView, bool)> {
        let email = domain::normalize_email(email).map_err(|e| IdentityError::Invalid(vec![e]))?;
        if let Some(existing) = store::user_by_email(&self.ctx.db, &email).await? {
            let mut roles = domain::roles_from_text(&existing.roles);
            let mut tx = self.ctx.db.begin().await?;
            if !roles.contains(&Role::Admin) {
                roles.push(Role::Admin);
                store::set_roles(
                    &mut tx,
                    existing.id,
                    &domain::roles_to_text(&roles),
                    Timestamp::now(),
                )
                .await?;
            }
            // Announced even when nothing changed: running `pasar admin create` again for an
            // admin from before notifications kept a list of admins puts them on it.
            bus::publish(
                &mut tx,
                SOURCE,
                &UserRolesChanged {
                    user_id: existing.id,
                    roles,
                },
            )
            .await?;
            self.ctx.commit(tx).await?;
            let user = self.me(existing.id).await?;
            return Ok((user, false));
        }
        domain::check_password_policy(password).map_err(|e| IdentityError::Invalid(vec![e]))?;
        let hash = self.hash_password(password).await?;
        let mut tx = self.ctx.db.begin().await?;
        let user = self
            .insert_user(
                &mut tx,
                &NewAccount {
                    email: &email,
                    phone: None,
                    password_hash: &hash,
                    first_name: "Platform",
                    last_name: "Admin",
                    roles: &[Role::Customer, Role::Admin],
                },
                Timestamp::now(),
            )
            .await?;
        // Other modules learn who the admins are from role changes (notifications sends them
        // operational reminders): a new admin's roles are announced like a granted one's.
        bus::publish(
            &mut tx,
            SOURCE,
            &UserRolesChanged {
                user_id: user.id,
                roles: vec![Role::Customer, Role::Admin],
            },
        )
        .await?;
        self.ctx.commit(tx).await?;
        let user = user_view(&user);
        Ok((user, true))
    }
}
