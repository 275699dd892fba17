//! Reviews' events: the merchant's staff hear of a review made public, its author of the
//! merchant's answer.

use std::sync::Arc;

use async_trait::async_trait;
use kernel::{DomainEvent, EventEnvelope};
use platform::bus::{BoxError, EventHandler};
use platform::db::Tx;
use reviews_contract::{ReviewApproved, ReviewResponded};
use serde_json::json;
use uuid::Uuid;

use super::{decode, tell_staff};
use crate::domain::Category;
use crate::service::{reach, Message, Notifications};
use crate::store;

pub(super) struct ReviewEvents(pub(super) Arc<Notifications>);

/// Keyed by the review, not the event: a review approved again after an edit was announced
/// once already.
fn review_key(review_id: Uuid) -> Uuid {
    Uuid::from_u128(review_id.as_u128() ^ 0x5245_5649_4557_5f4e_4557_0000_0000_0001)
}

#[async_trait]
impl EventHandler for ReviewEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        match event.event_type.as_str() {
            ReviewApproved::TYPE => {
                let e: ReviewApproved = decode(event)?;
                tell_staff(
                    &self.0,
                    tx,
                    e.merchant_id,
                    review_key(e.review_id),
                    Category::System,
                    "review_new",
                    json!({ "rating": e.rating }),
                )
                .await
            }
            ReviewResponded::TYPE => {
                let e: ReviewResponded = decode(event)?;
                let Some((_, business_name)) = store::merchant_owner(tx, e.merchant_id).await?
                else {
                    return Ok(());
                };
                let message = Message {
                    event_id: event.id,
                    user_id: Some(e.customer_id),
                    category: Category::Account,
                    template: "review_response",
                    context: json!({ "business_name": business_name }),
                    targets: reach(tx, e.customer_id).await?,
                };
                self.0.plan(tx, message).await?;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
