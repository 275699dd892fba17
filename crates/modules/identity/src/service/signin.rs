//! Signing up and in: registration, login with lockout, refresh-token rotation with reuse
//! detection, logout.

use super::*;

impl Identity {
    pub async fn register(
        &self,
        request: RegisterRequest,
        client: &ClientInfo,
    ) -> Result<RegisterResponse> {
        let mut errors = Vec::new();
        let email = domain::normalize_email(&request.email)
            .map_err(|e| errors.push(e))
            .ok();
        let phone = match request.phone.as_deref() {
            Some(raw) => domain::normalize_phone(raw)
                .map_err(|e| errors.push(e))
                .ok(),
            None => None,
        };
        let first_name = domain::validate_name("firstName", &request.first_name)
            .map_err(|e| errors.push(e))
            .ok();
        let last_name = domain::validate_name("lastName", &request.last_name)
            .map_err(|e| errors.push(e))
            .ok();
        if let Err(e) = domain::check_password_policy(&request.password) {
            errors.push(e);
        }
        let (Some(email), Some(first_name), Some(last_name), true) =
            (email, first_name, last_name, errors.is_empty())
        else {
            return Err(IdentityError::Invalid(errors));
        };
        let password_hash = self.hash_password(&request.password).await?;
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let user = self
            .insert_user(
                &mut tx,
                &NewAccount {
                    email: &email,
                    phone: phone.as_deref(),
                    password_hash: &password_hash,
                    first_name: &first_name,
                    last_name: &last_name,
                    roles: &[Role::Customer],
                },
                now,
            )
            .await?;
        let tokens = self.open_session(&mut tx, &user, client, now).await?;
        self.ctx.commit(tx).await?;
        Ok(RegisterResponse {
            user: user_view(&user),
            tokens,
        })
    }

    /// Inserts a user and announces it, in the caller's transaction.
    pub(super) async fn insert_user(
        &self,
        tx: &mut Tx,
        account: &NewAccount<'_>,
        now: Timestamp,
    ) -> Result<UserRow> {
        let id = kernel::new_id();
        let roles_text = domain::roles_to_text(account.roles);
        let user = store::insert_user(
            tx,
            &store::NewUser {
                id,
                email: account.email,
                phone: account.phone,
                password_hash: account.password_hash,
                first_name: account.first_name,
                last_name: account.last_name,
                roles: &roles_text,
                now,
            },
        )
        .await
        .map_err(unique_conflict)?;
        bus::publish(
            tx,
            SOURCE,
            &UserRegistered {
                user_id: id,
                email: account.email.to_owned(),
                phone: account.phone.map(str::to_owned),
                first_name: account.first_name.to_owned(),
                last_name: account.last_name.to_owned(),
            },
        )
        .await?;
        Ok(user)
    }

    pub async fn login(&self, request: LoginRequest, client: &ClientInfo) -> Result<TokenResponse> {
        let identifier = match (request.email.as_deref(), request.phone.as_deref()) {
            (Some(email), None) => LoginIdentifier::Email(
                domain::normalize_email(email).map_err(|e| IdentityError::Invalid(vec![e]))?,
            ),
            (None, Some(phone)) => LoginIdentifier::Phone(
                domain::normalize_phone(phone).map_err(|e| IdentityError::Invalid(vec![e]))?,
            ),
            _ => {
                return Err(IdentityError::Invalid(vec![FieldError {
                    field: "email".into(),
                    message: "exactly one of email or phone is required".into(),
                }]))
            }
        };
        let user = self.authenticate(&identifier, &request.password).await?;
        let mut tx = self.ctx.db.begin().await?;
        let tokens = self
            .open_session(&mut tx, &user, client, Timestamp::now())
            .await?;
        self.ctx.commit(tx).await?;
        Ok(tokens)
    }

    /// Checks a password against an account, with the lockout: unknown accounts and wrong
    /// passwords look the same, and failures count atomically.
    pub(crate) async fn authenticate(
        &self,
        identifier: &LoginIdentifier,
        password: &str,
    ) -> Result<UserRow> {
        let user = match identifier {
            LoginIdentifier::Email(email) => store::user_by_email(&self.ctx.db, email).await?,
            LoginIdentifier::Phone(phone) => store::user_by_phone(&self.ctx.db, phone).await?,
        };
        let subject = match &user {
            Some(user) => domain::user_subject(user.id),
            None => identifier.anonymous_subject(),
        };
        self.check_not_locked(&subject).await?;
        let verified = self
            .verify_password(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await?;
        let user = match (verified, user) {
            (true, Some(user)) => user,
            (_, user) => {
                self.count_failure(&subject, user.as_ref().map(|u| u.id))
                    .await?;
                return Err(IdentityError::InvalidCredentials);
            }
        };
        store::clear_failures(&self.ctx.db, &subject).await?;
        if UserStatus::parse(&user.status) != Some(UserStatus::Active) {
            return Err(IdentityError::Suspended);
        }
        Ok(user)
    }

    pub(crate) async fn check_not_locked(&self, subject: &str) -> Result<()> {
        match store::locked_until(&self.ctx.db, subject).await? {
            Some(until_ms) if until_ms > Timestamp::now().millis() => {
                Err(IdentityError::Locked { until_ms })
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed password check; the failure that reaches the threshold locks the
    /// subject and is answered as locked.
    pub(crate) async fn count_failure(&self, subject: &str, user_id: Option<Uuid>) -> Result<()> {
        let auth = &self.ctx.config.auth;
        let locked = store::record_failure(
            &self.ctx.db,
            subject,
            &store::FailurePolicy {
                now: Timestamp::now(),
                window_secs: auth.lockout_window_secs,
                threshold: auth.lockout_threshold,
                lock_secs: auth.lockout_duration_secs,
            },
        )
        .await?;
        match (locked, user_id) {
            (Some(until_ms), Some(user_id)) => {
                self.announce_lockout(user_id).await;
                Err(IdentityError::Locked { until_ms })
            }
            (Some(until_ms), None) => Err(IdentityError::Locked { until_ms }),
            (None, _) => Ok(()),
        }
    }

    pub(crate) async fn announce_lockout(&self, user_id: Uuid) {
        let result: Result<()> = async {
            let mut tx = self.ctx.db.begin().await?;
            bus::publish(&mut tx, SOURCE, &UserLockedOut { user_id }).await?;
            self.ctx.commit(tx).await?;
            Ok(())
        }
        .await;
        if let Err(err) = result {
            tracing::warn!(error = %err, "could not publish user.locked_out");
        }
    }

    pub async fn refresh(&self, request: RefreshRequest) -> Result<TokenResponse> {
        self.refresh_for(&request.refresh_token, None).await
    }

    /// Rotates a refresh token. A session opened through an OAuth2 client refreshes only
    /// through that (authenticated) client, and a first-party session only first-party.
    pub(crate) async fn refresh_for(
        &self,
        refresh_token: &str,
        oauth_client: Option<&str>,
    ) -> Result<TokenResponse> {
        let hash = domain::hash_refresh_token(refresh_token);
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let Some((session_id, user_id)) = store::spend_refresh_token(&mut tx, &hash, now).await?
        else {
            return self.refuse_refresh(tx, &hash, now).await;
        };
        let session = store::session_state(&mut tx, session_id).await?;
        if !matches!(session, Some((_, None))) {
            tx.rollback().await?;
            return Err(IdentityError::InvalidRefreshToken);
        }
        let (session_client, session_scope) = store::session_client(&mut tx, session_id).await?;
        if session_client.as_deref() != oauth_client {
            tx.rollback().await?;
            return Err(IdentityError::InvalidRefreshToken);
        }
        let user = store::user_by_id_in(&mut tx, user_id)
            .await?
            .ok_or(IdentityError::InvalidRefreshToken)?;
        if UserStatus::parse(&user.status) != Some(UserStatus::Active) {
            tx.rollback().await?;
            return Err(IdentityError::Suspended);
        }
        let refresh_token = self.new_refresh_token()?;
        let expires_at = now.plus_seconds(self.refresh_ttl());
        store::insert_refresh_token(
            &mut tx,
            &domain::hash_refresh_token(&refresh_token),
            session_id,
            user_id,
            now,
            expires_at,
        )
        .await?;
        store::touch_session(&mut tx, session_id, now, expires_at).await?;
        let oauth = session_client.as_deref().zip(session_scope.as_deref());
        let tokens = self.token_pair(&user, session_id, refresh_token, oauth)?;
        self.ctx.commit(tx).await?;
        Ok(tokens)
    }

    /// A token that could not be spent: unknown or expired, or spent before. A spent token
    /// presented again means it was stolen or replayed: the whole family is revoked.
    pub(crate) async fn refuse_refresh(
        &self,
        mut tx: Tx,
        hash: &str,
        now: Timestamp,
    ) -> Result<TokenResponse> {
        let Some(row) = store::refresh_token(&mut tx, hash).await? else {
            tx.rollback().await?;
            return Err(IdentityError::InvalidRefreshToken);
        };
        if row.used_at.is_none() {
            tx.rollback().await?;
            return Err(IdentityError::InvalidRefreshToken);
        }
        let revoked =
            store::revoke_session(&mut tx, row.session_id, now, "refresh_token_reuse").await?;
        if revoked > 0 {
            bus::publish(
                &mut tx,
                SOURCE,
                &SessionRevoked {
                    user_id: row.user_id,
                    session_id: row.session_id,
                    reason: "refresh_token_reuse".into(),
                },
            )
            .await?;
        }
        self.ctx.commit(tx).await?;
        self.deny_sessions(&[row.session_id]).await;
        tracing::warn!(user_id = %row.user_id, session_id = %row.session_id, "refresh token reuse detected; session revoked");
        Err(IdentityError::RefreshTokenReused)
    }

    pub(crate) async fn deny_sessions(&self, sessions: &[Uuid]) {
        let ttl = self.ctx.authenticator.deny_ttl();
        for session in sessions {
            self.ctx
                .cache
                .set(&denied_session_key(*session), "1", ttl)
                .await;
        }
    }

    /// Ends the session of the presented refresh token (if it is the caller's) and of the
    /// access token used, and denies that access token until it expires.
    pub async fn logout(&self, actor: &Actor, request: LogoutRequest) -> Result<()> {
        let now = Timestamp::now();
        let hash = domain::hash_refresh_token(&request.refresh_token);
        let mut tx = self.ctx.db.begin().await?;
        let mut sessions = Vec::new();
        if let Some(row) = store::refresh_token(&mut tx, &hash).await? {
            if row.user_id == actor.user_id {
                sessions.push(row.session_id);
            }
        }
        if let Some(current) = actor.session_id {
            if !sessions.contains(&current) {
                sessions.push(current);
            }
        }
        for session_id in &sessions {
            if store::revoke_session(&mut tx, *session_id, now, "logout").await? > 0 {
                bus::publish(
                    &mut tx,
                    SOURCE,
                    &SessionRevoked {
                        user_id: actor.user_id,
                        session_id: *session_id,
                        reason: "logout".into(),
                    },
                )
                .await?;
            }
        }
        store::insert_revoked_access_token(&mut tx, &actor.token_id, actor.token_expires_at)
            .await?;
        self.ctx.commit(tx).await?;
        self.deny_sessions(&sessions).await;
        let remaining = (actor.token_expires_at - now.seconds()).max(0) as u64;
        self.ctx
            .cache
            .set(
                &denied_token_key(&actor.token_id),
                "1",
                Duration::from_secs(remaining + self.ctx.config.auth.leeway_secs + 5),
            )
            .await;
        Ok(())
    }
}
