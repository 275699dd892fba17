//! Other modules' facts reviews keeps: deliveries and completions of orders and redemptions of
//! vouchers (what each customer may review), and registrations and deletions of accounts
//! (authors' names).

use std::sync::Arc;

use async_trait::async_trait;
use identity_contract::{UserDeleted, UserRegistered};
use kernel::{DomainEvent, EventEnvelope};
use orders_contract::{OrderCompleted, OrderDelivered};
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;
use vouchers_contract::VoucherRedeemed;

use crate::service::Reviews;

pub fn subscriptions(reviews: Arc<Reviews>) -> Vec<Subscription> {
    vec![Subscription {
        event_types: vec![
            OrderDelivered::TYPE,
            OrderCompleted::TYPE,
            VoucherRedeemed::TYPE,
            UserRegistered::TYPE,
            UserDeleted::TYPE,
        ],
        handler: Arc::new(Events(reviews)),
    }]
}

struct Events(Arc<Reviews>);

#[async_trait]
impl EventHandler for Events {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let reviews = &self.0;
        if let Some(delivered) = event.decode::<OrderDelivered>() {
            reviews.on_order_received(tx, &delivered?.0).await?;
        } else if let Some(completed) = event.decode::<OrderCompleted>() {
            reviews.on_order_received(tx, &completed?.0).await?;
        } else if let Some(redeemed) = event.decode::<VoucherRedeemed>() {
            reviews.on_voucher_redeemed(tx, &redeemed?).await?;
        } else if let Some(registered) = event.decode::<UserRegistered>() {
            let user = registered?;
            reviews
                .on_user_registered(tx, user.user_id, &user.first_name, &user.last_name)
                .await?;
        } else if let Some(deleted) = event.decode::<UserDeleted>() {
            reviews.on_user_deleted(tx, deleted?.user_id).await?;
        }
        Ok(())
    }
}
