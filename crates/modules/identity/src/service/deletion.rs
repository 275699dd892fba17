//! Account deletion (personal data erased, the row kept anonymous) and data export.

use kernel::{Actor, Timestamp};
use platform::bus;

use super::{user_view, Identity, IdentityError, Result};
use crate::api::*;
use crate::domain;
use crate::store;

impl Identity {
    /// Needs the password (wrong guesses count towards the lockout). Erases what identity holds,
    /// ends every session and announces `user.deleted` so other modules erase theirs.
    pub async fn delete_account(&self, actor: &Actor, request: DeleteAccountRequest) -> Result<()> {
        let user = self
            .confirm_password(actor.user_id, &request.password, "password")
            .await?;
        let subject = domain::user_subject(user.id);
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        store::lock_user(&mut tx, user.id).await?;
        if store::anonymize_user(&mut tx, user.id, now).await? == 0 {
            tx.rollback().await?;
            return Err(IdentityError::UserNotFound);
        }
        store::erase_user_data(&mut tx, user.id).await?;
        let revoked = store::revoke_user_sessions(&mut tx, user.id, now, "account_deleted").await?;
        self.announce_revocations(&mut tx, user.id, &revoked, "account_deleted")
            .await?;
        bus::publish(&mut tx, SOURCE, &UserDeleted { user_id: user.id }).await?;
        self.ctx.commit(tx).await?;
        self.deny_sessions(&revoked).await;
        store::clear_failures(&self.ctx.db, &subject).await?;
        Ok(())
    }

    pub async fn export(&self, actor: &Actor) -> Result<AccountExport> {
        let user = store::user_by_id(&self.ctx.db, actor.user_id)
            .await?
            .ok_or(IdentityError::UserNotFound)?;
        let sessions = store::session_history(&self.ctx.db, user.id)
            .await?
            .into_iter()
            .map(|s| SessionRecord {
                id: s.id,
                user_agent: s.user_agent,
                ip: s.ip,
                created_at: Timestamp::from_millis(s.created_at),
                last_used_at: Timestamp::from_millis(s.last_used_at),
                revoked_at: s.revoked_at.map(Timestamp::from_millis),
                revoked_reason: s.revoked_reason,
            })
            .collect();
        Ok(AccountExport {
            exported_at: Timestamp::now(),
            addresses: self.addresses(user.id).await?,
            user: user_view(&user),
            sessions,
        })
    }
}
