//! The platform's own work: admins hear of payments and refunds waiting for an operator.

use std::sync::Arc;

use async_trait::async_trait;
use kernel::{DomainEvent, EventEnvelope};
use payments_contract::PaymentsAwaiting;
use platform::bus::{BoxError, EventHandler};
use platform::db::Tx;
use serde_json::json;

use super::decode;
use crate::domain::Category;
use crate::service::{reach, Message, Notifications};
use crate::store;

pub(super) struct OperatorEvents(pub(super) Arc<Notifications>);

#[async_trait]
impl EventHandler for OperatorEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        if event.event_type != PaymentsAwaiting::TYPE {
            return Ok(());
        }
        let e: PaymentsAwaiting = decode(event)?;
        let context = json!({
            "verifications": e.verifications,
            "refunds": e.refunds,
            "oldest_since": e.oldest_since,
        });
        for admin in store::admins(tx).await? {
            let message = Message {
                event_id: event.id,
                user_id: Some(admin),
                category: Category::System,
                template: "payments_awaiting",
                context: context.clone(),
                targets: reach(tx, admin).await?,
            };
            self.0.plan(tx, message).await?;
        }
        Ok(())
    }
}
