//! SKUs from catalog's product events; locations from merchants' outlet events.

use std::sync::Arc;

use async_trait::async_trait;
use catalog::api::{ProductCreated, ProductFact, ProductUpdated};
use kernel::{DomainEvent, EventEnvelope};
use merchants::api::{OutletRemoved, OutletSaved};
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;

use crate::service::Inventory;

pub fn subscriptions(inventory: Arc<Inventory>) -> Vec<Subscription> {
    vec![Subscription {
        event_types: vec![
            ProductCreated::TYPE,
            ProductUpdated::TYPE,
            OutletSaved::TYPE,
            OutletRemoved::TYPE,
        ],
        handler: Arc::new(Facts(inventory)),
    }]
}

struct Facts(Arc<Inventory>);

#[async_trait]
impl EventHandler for Facts {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        match event.event_type.as_str() {
            ProductCreated::TYPE | ProductUpdated::TYPE => {
                let fact: ProductFact = serde_json::from_value(event.payload.clone())?;
                let variants: Vec<_> = fact
                    .variants
                    .into_iter()
                    .map(|v| (v.variant_id, v.sku))
                    .collect();
                self.0
                    .register_skus(tx, fact.merchant_id, fact.product_id, &variants)
                    .await?;
            }
            OutletSaved::TYPE => {
                let e: OutletSaved = serde_json::from_value(event.payload.clone())?;
                self.0
                    .location_saved(tx, e.merchant_id, e.outlet_id, &e.name)
                    .await?;
            }
            OutletRemoved::TYPE => {
                let e: OutletRemoved = serde_json::from_value(event.payload.clone())?;
                self.0.location_removed(tx, e.outlet_id).await?;
            }
            _ => {}
        }
        Ok(())
    }
}
