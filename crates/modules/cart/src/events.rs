//! Checkouts empty the cart of what they ordered.

use std::sync::Arc;

use async_trait::async_trait;
use kernel::{DomainEvent, EventEnvelope};
use orders_contract::CheckoutCompleted;
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;

use crate::api::CartContentLine;
use crate::service::Cart;

pub fn subscriptions(cart: Arc<Cart>) -> Vec<Subscription> {
    vec![Subscription {
        event_types: vec![CheckoutCompleted::TYPE],
        handler: Arc::new(Checkouts(cart)),
    }]
}

struct Checkouts(Arc<Cart>);

#[async_trait]
impl EventHandler for Checkouts {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let Some(checkout) = event.decode::<CheckoutCompleted>() else {
            return Ok(());
        };
        let checkout = checkout?;
        if checkout.from_cart {
            // Checkouts recorded before cart lines were carried name only variants.
            let ordered: Vec<CartContentLine> = if checkout.cart_lines.is_empty() {
                checkout
                    .lines
                    .iter()
                    .map(|l| CartContentLine {
                        variant_id: l.variant_id,
                        quantity: l.quantity,
                        line_id: None,
                    })
                    .collect()
            } else {
                checkout.cart_lines
            };
            self.0
                .checked_out(tx, checkout.customer_id, &ordered, &checkout.coupon_codes)
                .await?;
        }
        Ok(())
    }
}
