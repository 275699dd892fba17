//! Loyalty's events: tier changes and points about to expire.

use std::sync::Arc;

use async_trait::async_trait;
use kernel::{DomainEvent, EventEnvelope};
use loyalty_contract::{PointsExpiring, TierChanged};
use platform::bus::{BoxError, EventHandler};
use platform::db::Tx;
use serde_json::json;

use super::decode;
use crate::domain::Category;
use crate::service::{reach, Message, Notifications};

pub(super) struct RewardsEvents(pub(super) Arc<Notifications>);
#[async_trait]
impl EventHandler for RewardsEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let message = match event.event_type.as_str() {
            TierChanged::TYPE => {
                let e: TierChanged = decode(event)?;
                Message {
                    event_id: event.id,
                    user_id: Some(e.customer_id),
                    category: Category::Account,
                    template: "tier_changed",
                    context: json!({ "tier": e.to_name.en, "points": e.qualifying_points }),
                    targets: reach(tx, e.customer_id).await?,
                }
            }
            PointsExpiring::TYPE => {
                let e: PointsExpiring = decode(event)?;
                Message {
                    event_id: event.id,
                    user_id: Some(e.customer_id),
                    category: Category::Account,
                    template: "points_expiring",
                    context: json!({ "points": e.points, "expires_at": e.expires_at.to_rfc3339() }),
                    targets: reach(tx, e.customer_id).await?,
                }
            }
            _ => return Ok(()),
        };
        self.0.plan(tx, message).await?;
        Ok(())
    }
}
