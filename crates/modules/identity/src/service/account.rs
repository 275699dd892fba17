//! Sessions of the signed-in user and password change.

use kernel::{Actor, FieldError, Timestamp};
use platform::bus;
use uuid::Uuid;

use super::{Identity, IdentityError, Result};
use crate::api::*;
use crate::domain;
use crate::store;

impl Identity {
    /// Re-checks a signed-in user's password before a sensitive change. Wrong guesses count
    /// towards the login lockout, so a stolen access token cannot be used to guess it.
    pub(super) async fn confirm_password(
        &self,
        user_id: Uuid,
        password: &str,
        field: &str,
    ) -> Result<store::UserRow> {
        let user = store::user_by_id(&self.ctx.db, user_id)
            .await?
            .ok_or(IdentityError::UserNotFound)?;
        let subject = domain::user_subject(user.id);
        self.check_not_locked(&subject).await?;
        if !self
            .verify_password(password, Some(&user.password_hash))
            .await?
        {
            self.count_failure(&subject, Some(user.id)).await?;
            return Err(IdentityError::Invalid(vec![FieldError {
                field: field.into(),
                message: "is incorrect".into(),
            }]));
        }
        Ok(user)
    }

    pub async fn sessions(&self, actor: &Actor) -> Result<Vec<SessionView>> {
        let rows = store::live_sessions(&self.ctx.db, actor.user_id, Timestamp::now()).await?;
        Ok(rows
            .into_iter()
            .map(|row| SessionView {
                current: actor.session_id == Some(row.id),
                id: row.id,
                user_agent: row.user_agent,
                ip: row.ip,
                created_at: Timestamp::from_millis(row.created_at),
                last_used_at: Timestamp::from_millis(row.last_used_at),
                expires_at: Timestamp::from_millis(row.expires_at),
            })
            .collect())
    }

    /// Signs one of the user's devices out. Another user's session is "not found".
    pub async fn revoke_own_session(&self, actor: &Actor, session_id: Uuid) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        match store::session_state(&mut tx, session_id).await? {
            Some((owner, None)) if owner == actor.user_id => {}
            _ => {
                tx.rollback().await?;
                return Err(IdentityError::SessionNotFound);
            }
        }
        store::revoke_session(&mut tx, session_id, now, "revoked_by_user").await?;
        self.announce_revocations(&mut tx, actor.user_id, &[session_id], "revoked_by_user")
            .await?;
        self.ctx.commit(tx).await?;
        self.deny_sessions(&[session_id]).await;
        Ok(())
    }

    /// Needs the current password (wrong guesses count towards the lockout, so a stolen access
    /// token cannot be used to guess it); signs out every other session.
    pub async fn change_password(
        &self,
        actor: &Actor,
        request: ChangePasswordRequest,
    ) -> Result<()> {
        domain::check_password_policy(&request.new_password).map_err(|mut e| {
            e.field = "newPassword".into();
            IdentityError::Invalid(vec![e])
        })?;
        let user = self
            .confirm_password(actor.user_id, &request.current_password, "currentPassword")
            .await?;
        if request.current_password == request.new_password {
            return Err(IdentityError::Invalid(vec![FieldError {
                field: "newPassword".into(),
                message: "must differ from the current password".into(),
            }]));
        }
        let hash = self.hash_password(&request.new_password).await?;
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        store::set_password(&mut tx, user.id, &hash, now).await?;
        let revoked = store::revoke_other_sessions(
            &mut tx,
            user.id,
            actor.session_id,
            now,
            "password_changed",
        )
        .await?;
        self.announce_revocations(&mut tx, user.id, &revoked, "password_changed")
            .await?;
        bus::publish(
            &mut tx,
            crate::api::SOURCE,
            &UserPasswordChanged { user_id: user.id },
        )
        .await?;
        self.ctx.commit(tx).await?;
        self.deny_sessions(&revoked).await;
        Ok(())
    }
}
