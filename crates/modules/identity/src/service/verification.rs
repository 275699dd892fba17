//! One-time codes for email and phone verification, and password reset by emailed token.

use kernel::{Actor, FieldError, Timestamp};
use platform::bus;
use ring::rand::SecureRandom;
use uuid::Uuid;

use super::{user_view, Identity, IdentityError, Result};
use crate::api::*;
use crate::domain::{self, CodePurpose, UserStatus};
use crate::store;

/// Which address a code verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    Email,
    Phone,
}

impl Verify {
    fn purpose(self) -> CodePurpose {
        match self {
            Verify::Email => CodePurpose::VerifyEmail,
            Verify::Phone => CodePurpose::VerifyPhone,
        }
    }
}

impl Identity {
    fn new_code(&self) -> Result<String> {
        loop {
            let mut bytes = [0u8; 4];
            self.random
                .fill(&mut bytes)
                .map_err(|_| IdentityError::Crypto("no randomness".into()))?;
            if let Some(code) = domain::six_digit_code(u32::from_le_bytes(bytes)) {
                return Ok(code);
            }
        }
    }

    /// Sends a new code, retiring any earlier one; at most one per cooldown period.
    pub async fn request_verification(&self, actor: &Actor, what: Verify) -> Result<CodeSent> {
        let user = store::user_by_id(&self.ctx.db, actor.user_id)
            .await?
            .ok_or(IdentityError::UserNotFound)?;
        let destination = match what {
            Verify::Email if user.email_verified_at.is_some() => {
                return Err(IdentityError::AlreadyVerified)
            }
            Verify::Email => user.email.clone(),
            Verify::Phone => match (&user.phone, user.phone_verified_at) {
                (None, _) => return Err(IdentityError::NoPhone),
                (Some(_), Some(_)) => return Err(IdentityError::AlreadyVerified),
                (Some(phone), None) => phone.clone(),
            },
        };
        let purpose = what.purpose().as_str();
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        store::lock_user(&mut tx, user.id).await?;
        let (last, _) = store::code_history(&mut tx, user.id, purpose, now).await?;
        if let Some(last) = last {
            let wait = (last + domain::RESEND_COOLDOWN_SECS * 1000 - now.millis()) / 1000;
            if wait > 0 {
                tx.rollback().await?;
                return Err(IdentityError::CodeCooldown {
                    retry_after_secs: wait,
                });
            }
        }
        store::retire_codes(&mut tx, user.id, purpose, now).await?;
        let code = self.new_code()?;
        let id = kernel::new_id();
        store::insert_code(
            &mut tx,
            &store::NewCode {
                id,
                user_id: user.id,
                purpose,
                destination: &destination,
                code_hash: &domain::hash_code(id, &code),
                now,
                expires_at: now.plus_seconds(domain::CODE_TTL_MINUTES * 60),
            },
        )
        .await?;
        bus::publish(
            &mut tx,
            SOURCE,
            &VerificationRequested {
                user_id: user.id,
                channel: match what {
                    Verify::Email => "email".into(),
                    Verify::Phone => "phone".into(),
                },
                destination: destination.clone(),
                code: self
                    .ctx
                    .sealer
                    .seal(&code)
                    .map_err(|e| IdentityError::Crypto(e.to_string()))?,
                expires_in_minutes: domain::CODE_TTL_MINUTES,
            },
        )
        .await?;
        self.ctx.commit(tx).await?;
        Ok(CodeSent {
            sent_to: domain::mask_destination(&destination),
            expires_in_seconds: domain::CODE_TTL_MINUTES * 60,
            resend_after_seconds: domain::RESEND_COOLDOWN_SECS,
        })
    }

    /// Checks a code. Each check spends one of five attempts, atomically; the fifth wrong one
    /// locks the code.
    pub async fn confirm_verification(
        &self,
        actor: &Actor,
        what: Verify,
        code: &str,
    ) -> Result<UserView> {
        let purpose = what.purpose().as_str();
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let Some(attempt) = store::attempt_code(
            &mut tx,
            actor.user_id,
            purpose,
            now,
            domain::MAX_CODE_ATTEMPTS,
        )
        .await?
        else {
            let exhausted = store::has_exhausted_code(&mut tx, actor.user_id, purpose, now).await?;
            tx.rollback().await?;
            return Err(if exhausted {
                IdentityError::CodeLocked
            } else {
                IdentityError::NoActiveCode
            });
        };
        // Comparing digests: timing could only hint at a digest, not at the code, and every
        // guess costs one of five attempts anyway.
        let matches = domain::hash_code(attempt.id, code.trim()) == attempt.code_hash;
        if !matches {
            // The spent attempt must stick even though the answer is an error.
            self.ctx.commit(tx).await?;
            let attempts_left = domain::MAX_CODE_ATTEMPTS - attempt.attempts;
            return Err(if attempts_left <= 0 {
                IdentityError::CodeLocked
            } else {
                IdentityError::WrongCode { attempts_left }
            });
        }
        if store::consume_code(&mut tx, attempt.id, now).await? == 0 {
            tx.rollback().await?;
            return Err(IdentityError::NoActiveCode);
        }
        match what {
            Verify::Email => store::mark_email_verified(&mut tx, actor.user_id, now).await?,
            Verify::Phone => {
                if store::mark_phone_verified(&mut tx, actor.user_id, &attempt.destination, now)
                    .await?
                    == 0
                {
                    // The number changed after the code was sent.
                    tx.rollback().await?;
                    return Err(IdentityError::NoActiveCode);
                }
            }
        }
        let user = store::user_by_id_in(&mut tx, actor.user_id)
            .await?
            .ok_or(IdentityError::UserNotFound)?;
        bus::publish(
            &mut tx,
            SOURCE,
            &UserUpdated {
                user_id: user.id,
                email: user.email.clone(),
                phone: user.phone.clone(),
            },
        )
        .await?;
        self.ctx.commit(tx).await?;
        Ok(user_view(&user))
    }

    /// Always succeeds from the caller's point of view, so it reveals nothing about which
    /// emails have accounts. At most three reset emails per account per hour.
    pub async fn forgot_password(&self, request: ForgotPasswordRequest) -> Result<()> {
        let Ok(email) = domain::normalize_email(&request.email) else {
            return Err(IdentityError::Invalid(vec![FieldError {
                field: "email".into(),
                message: "is not a valid email address".into(),
            }]));
        };
        let Some(user) = store::user_by_email(&self.ctx.db, &email).await? else {
            return Ok(());
        };
        if UserStatus::parse(&user.status) != Some(UserStatus::Active) {
            return Ok(());
        }
        let purpose = CodePurpose::ResetPassword.as_str();
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        store::lock_user(&mut tx, user.id).await?;
        let (_, last_hour) =
            store::code_history(&mut tx, user.id, purpose, now.plus_seconds(-3600)).await?;
        if last_hour >= domain::RESET_REQUESTS_PER_HOUR {
            tx.rollback().await?;
            tracing::info!(user_id = %user.id, "password reset request over the hourly limit ignored");
            return Ok(());
        }
        store::retire_codes(&mut tx, user.id, purpose, now).await?;
        let token = self.new_refresh_token()?;
        store::insert_code(
            &mut tx,
            &store::NewCode {
                id: kernel::new_id(),
                user_id: user.id,
                purpose,
                destination: &user.email,
                code_hash: &domain::hash_refresh_token(&token),
                now,
                expires_at: now.plus_seconds(domain::RESET_TTL_MINUTES * 60),
            },
        )
        .await?;
        bus::publish(
            &mut tx,
            SOURCE,
            &PasswordResetRequested {
                user_id: user.id,
                email: user.email.clone(),
                token: self
                    .ctx
                    .sealer
                    .seal(&token)
                    .map_err(|e| IdentityError::Crypto(e.to_string()))?,
                expires_in_minutes: domain::RESET_TTL_MINUTES,
            },
        )
        .await?;
        self.ctx.commit(tx).await?;
        Ok(())
    }

    /// Sets a new password with a single-use token and signs out every session. Using the
    /// token proves the email address, so it is marked verified too.
    pub async fn reset_password(&self, request: ResetPasswordRequest) -> Result<()> {
        domain::check_password_policy(&request.new_password).map_err(|mut e| {
            e.field = "newPassword".into();
            IdentityError::Invalid(vec![e])
        })?;
        let hash = self.hash_password(&request.new_password).await?;
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let Some(user_id) =
            store::consume_reset_token(&mut tx, &domain::hash_refresh_token(&request.token), now)
                .await?
        else {
            tx.rollback().await?;
            return Err(IdentityError::InvalidResetToken);
        };
        store::set_password(&mut tx, user_id, &hash, now).await?;
        store::mark_email_verified(&mut tx, user_id, now).await?;
        let revoked =
            store::revoke_other_sessions(&mut tx, user_id, None, now, "password_reset").await?;
        self.announce_revocations(&mut tx, user_id, &revoked, "password_reset")
            .await?;
        bus::publish(&mut tx, SOURCE, &UserPasswordChanged { user_id }).await?;
        self.ctx.commit(tx).await?;
        self.deny_sessions(&revoked).await;
        store::clear_failures(&self.ctx.db, &domain::user_subject(user_id)).await?;
        Ok(())
    }

    pub(super) async fn announce_revocations(
        &self,
        tx: &mut platform::Tx,
        user_id: Uuid,
        sessions: &[Uuid],
        reason: &str,
    ) -> Result<()> {
        for session_id in sessions {
            bus::publish(
                tx,
                SOURCE,
                &SessionRevoked {
                    user_id,
                    session_id: *session_id,
                    reason: reason.to_owned(),
                },
            )
            .await?;
        }
        Ok(())
    }
}
