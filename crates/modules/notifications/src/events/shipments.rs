//! Shipping's events: the customer hears that the order was shipped, goes out for delivery,
//! and was delivered.

use std::sync::Arc;

use async_trait::async_trait;
use kernel::{DomainEvent, EventEnvelope};
use platform::bus::{BoxError, EventHandler};
use platform::db::Tx;
use serde_json::json;
use shipping_contract::{ShipmentCreated, ShipmentDelivered, ShipmentStatus, ShipmentUpdated};

use super::decode;
use crate::domain::Category;
use crate::service::{reach, Message, Notifications};

pub(super) struct ShipmentEvents(pub(super) Arc<Notifications>);

#[async_trait]
impl EventHandler for ShipmentEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let (template, fact) = match event.event_type.as_str() {
            ShipmentCreated::TYPE => ("order_shipped", decode::<ShipmentCreated>(event)?.0),
            ShipmentUpdated::TYPE => {
                let fact = decode::<ShipmentUpdated>(event)?.0;
                // Every other move is in the tracking timeline; delivery has its own event.
                if fact.status != ShipmentStatus::OutForDelivery {
                    return Ok(());
                }
                ("order_out_for_delivery", fact)
            }
            ShipmentDelivered::TYPE => ("order_delivered", decode::<ShipmentDelivered>(event)?.0),
            _ => return Ok(()),
        };
        let message = Message {
            event_id: event.id,
            user_id: Some(fact.customer_id),
            category: Category::Order,
            template,
            context: json!({
                "order_number": fact.order_number,
                "courier": fact.courier_name,
                "tracking_number": fact.tracking_number,
            }),
            targets: reach(tx, fact.customer_id).await?,
        };
        self.0.plan(tx, message).await?;
        Ok(())
    }
}
