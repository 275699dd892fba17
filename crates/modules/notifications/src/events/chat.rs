//! Chat's events: a message stored while nobody of the receiving side was connected reaches
//! them as a notification; the messages after it, until they read, do not.

use std::sync::Arc;

use async_trait::async_trait;
use chat_contract::{ChatMessagePosted, Side};
use kernel::EventEnvelope;
use platform::bus::{BoxError, EventHandler};
use platform::db::Tx;
use serde_json::json;

use super::{decode, tell_staff};
use crate::domain::Category;
use crate::service::{reach, Message, Notifications};
use crate::store;

pub(super) struct ChatEvents(pub(super) Arc<Notifications>);

#[async_trait]
impl EventHandler for ChatEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let e: ChatMessagePosted = decode(event)?;
        if e.recipient_online || !e.notify {
            return Ok(());
        }
        let preview = json!({ "preview": e.preview });
        match e.sender_side {
            Side::Customer => {
                tell_staff(
                    &self.0,
                    tx,
                    e.merchant_id,
                    event.id,
                    Category::Chat,
                    "chat_to_staff",
                    preview,
                )
                .await
            }
            Side::Merchant => {
                let Some((_, business_name)) = store::merchant_owner(tx, e.merchant_id).await?
                else {
                    return Ok(());
                };
                let message = Message {
                    event_id: event.id,
                    user_id: Some(e.customer_id),
                    category: Category::Chat,
                    template: "chat_to_customer",
                    context: json!({ "business_name": business_name, "preview": e.preview }),
                    targets: reach(tx, e.customer_id).await?,
                };
                self.0.plan(tx, message).await?;
                Ok(())
            }
        }
    }
}
