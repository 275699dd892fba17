//! Orders' facts shipping acts on: a shipped order gets its shipment.

use std::sync::Arc;

use async_trait::async_trait;
use kernel::{DomainEvent, EventEnvelope};
use orders_contract::OrderShipped;
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;

use crate::service::Shipping;

pub fn subscriptions(shipping: Arc<Shipping>) -> Vec<Subscription> {
    vec![Subscription {
        event_types: vec![OrderShipped::TYPE],
        handler: Arc::new(Events(shipping)),
    }]
}

struct Events(Arc<Shipping>);

#[async_trait]
impl EventHandler for Events {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        if let Some(shipped) = event.decode::<OrderShipped>() {
            self.0.on_order_shipped(tx, &shipped?.0).await?;
        }
        Ok(())
    }
}
