//! Staff: members and their roles, invitations (sealed tokens), enrolment, removal.

use super::*;

impl Merchants {
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
