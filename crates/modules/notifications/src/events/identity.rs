//! Identity's events: contact details kept, account and security messages sent.

use std::sync::Arc;

use async_trait::async_trait;
use identity_contract::{
    PasswordResetRequested, UserDeleted, UserPasswordChanged, UserRegistered, UserRolesChanged,
    UserUpdated, VerificationRequested,
};
use kernel::{DomainEvent, EventEnvelope, Role, Timestamp};
use platform::bus::{BoxError, EventHandler};
use platform::db::Tx;
use serde_json::json;

use super::decode;
use crate::domain::Category;
use crate::service::{reach, Message, Notifications, Target};
use crate::store;

pub(super) struct IdentityEvents(pub(super) Arc<Notifications>);
#[async_trait]
impl EventHandler for IdentityEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let now = Timestamp::now();
        let message = match event.event_type.as_str() {
            UserRegistered::TYPE => {
                let e: UserRegistered = decode(event)?;
                store::upsert_contact(tx, e.user_id, Some(&e.email), e.phone.as_deref(), now)
                    .await?;
                Message {
                    event_id: event.id,
                    user_id: Some(e.user_id),
                    category: Category::Account,
                    template: "welcome",
                    context: json!({ "first_name": e.first_name }),
                    targets: vec![Target::InApp(e.user_id), Target::Email(e.email)],
                }
            }
            UserUpdated::TYPE => {
                let e: UserUpdated = decode(event)?;
                store::upsert_contact(tx, e.user_id, Some(&e.email), e.phone.as_deref(), now)
                    .await?;
                return Ok(());
            }
            VerificationRequested::TYPE => {
                let e: VerificationRequested = decode(event)?;
                let target = match e.channel.as_str() {
                    "phone" => Target::Sms(e.destination),
                    _ => Target::Email(e.destination),
                };
                Message {
                    event_id: event.id,
                    user_id: Some(e.user_id),
                    category: Category::Security,
                    template: "verification_code",
                    context: json!({ "code": self.0.ctx.sealer.open(&e.code)?, "minutes": e.expires_in_minutes }),
                    targets: vec![target],
                }
            }
            PasswordResetRequested::TYPE => {
                let e: PasswordResetRequested = decode(event)?;
                Message {
                    event_id: event.id,
                    user_id: Some(e.user_id),
                    category: Category::Security,
                    template: "password_reset",
                    context: json!({ "token": self.0.ctx.sealer.open(&e.token)?, "minutes": e.expires_in_minutes }),
                    targets: vec![Target::Email(e.email)],
                }
            }
            UserPasswordChanged::TYPE => {
                let e: UserPasswordChanged = decode(event)?;
                Message {
                    event_id: event.id,
                    user_id: Some(e.user_id),
                    category: Category::Security,
                    template: "password_changed",
                    context: json!({}),
                    targets: reach(tx, e.user_id).await?,
                }
            }
            UserRolesChanged::TYPE => {
                let e: UserRolesChanged = decode(event)?;
                store::set_admin(tx, e.user_id, e.roles.contains(&Role::Admin)).await?;
                return Ok(());
            }
            UserDeleted::TYPE => {
                let e: UserDeleted = decode(event)?;
                store::erase_user(tx, e.user_id).await?;
                return Ok(());
            }
            _ => return Ok(()),
        };
        self.0.plan(tx, message).await?;
        Ok(())
    }
}
