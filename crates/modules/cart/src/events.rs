//! Checkouts empty the cart of what they ordered. Orders' `checkout.completed` is read by type
//! name: orders depends on cart's client, so cart cannot depend on orders' crate.

use std::sync::Arc;

use async_trait::async_trait;
use kernel::EventEnvelope;
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;
use serde::Deserialize;
use uuid::Uuid;

use crate::api::CartContentLine;
use crate::service::Cart;

const CHECKOUT_COMPLETED: &str = "checkout.completed";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CheckoutCompleted {
    customer_id: Uuid,
    from_cart: bool,
    lines: Vec<CartContentLine>,
    /// The cart lines ordered, with their ids (absent in checkouts recorded before).
    #[serde(default)]
    cart_lines: Vec<CartContentLine>,
}

pub fn subscriptions(cart: Arc<Cart>) -> Vec<Subscription> {
    vec![Subscription {
        event_types: vec![CHECKOUT_COMPLETED],
        handler: Arc::new(Checkouts(cart)),
    }]
}

struct Checkouts(Arc<Cart>);

#[async_trait]
impl EventHandler for Checkouts {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let checkout: CheckoutCompleted = serde_json::from_value(event.payload.clone())?;
        if checkout.from_cart {
            let ordered = if checkout.cart_lines.is_empty() {
                &checkout.lines
            } else {
                &checkout.cart_lines
            };
            self.0
                .checked_out(tx, checkout.customer_id, ordered)
                .await?;
        }
        Ok(())
    }
}
