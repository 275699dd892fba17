//! Other modules' events turned into messages (and identity's and merchants' into the
//! contact details, staff and outlet names messages need). One file per producer.

mod chat;
mod identity;
mod merchants;
mod operators;
mod orders;
mod reviews;
mod rewards;
mod shipments;
mod vouchers;

use std::sync::Arc;

use books_contract::VoucherBookReady;
use chat_contract::ChatMessagePosted;
use identity_contract::{
    PasswordResetRequested, UserDeleted, UserPasswordChanged, UserRegistered, UserRolesChanged,
    UserUpdated, VerificationRequested,
};
use inventory_contract::InventoryLow;
use kernel::{DomainEvent, EventEnvelope};
use ledger_contract::{PayoutFailed, PayoutPaid};
use loyalty_contract::{PointsExpiring, TierChanged};
use merchants_contract::{
    MemberAdded, MemberInvited, MemberRemoved, MerchantApplied, MerchantApproved, MerchantRejected,
    MerchantSuspended, MerchantUpdated, OutletSaved,
};
use orders_contract::{OrderCancelled, OrderCreated, OrderExpired, OrderPaid};
use payments_contract::{PaymentFailed, PaymentRefunded, PaymentsAwaiting};
use platform::bus::{BoxError, Subscription};
use platform::db::Tx;
use reviews_contract::{ReviewApproved, ReviewResponded};
use shipping_contract::{ShipmentCreated, ShipmentDelivered, ShipmentUpdated};
use uuid::Uuid;
use vouchers_contract::{VoucherExpiring, VoucherGifted, VoucherIssued, VoucherRedeemed};

use crate::domain::Category;
use crate::service::{self, reach, Notifications};
use crate::store;

pub fn subscriptions(notifications: Arc<Notifications>) -> Vec<Subscription> {
    let n = notifications;
    vec![
        Subscription {
            event_types: vec![
                MemberInvited::TYPE,
                MemberAdded::TYPE,
                MemberRemoved::TYPE,
                MerchantUpdated::TYPE,
                OutletSaved::TYPE,
                MerchantApplied::TYPE,
                MerchantApproved::TYPE,
                MerchantRejected::TYPE,
                MerchantSuspended::TYPE,
            ],
            handler: Arc::new(merchants::MerchantEvents(n.clone())),
        },
        Subscription {
            event_types: vec![
                UserRegistered::TYPE,
                UserUpdated::TYPE,
                VerificationRequested::TYPE,
                PasswordResetRequested::TYPE,
                UserPasswordChanged::TYPE,
                UserRolesChanged::TYPE,
                UserDeleted::TYPE,
            ],
            handler: Arc::new(identity::IdentityEvents(n.clone())),
        },
        Subscription {
            event_types: vec![InventoryLow::TYPE],
            handler: Arc::new(merchants::StockEvents(n.clone())),
        },
        Subscription {
            event_types: vec![PayoutPaid::TYPE, PayoutFailed::TYPE],
            handler: Arc::new(merchants::PayoutEvents(n.clone())),
        },
        Subscription {
            event_types: vec![
                OrderCreated::TYPE,
                OrderPaid::TYPE,
                OrderCancelled::TYPE,
                OrderExpired::TYPE,
            ],
            handler: Arc::new(orders::OrderEvents(n.clone())),
        },
        Subscription {
            event_types: vec![PaymentFailed::TYPE, PaymentRefunded::TYPE],
            handler: Arc::new(orders::PaymentEvents(n.clone())),
        },
        Subscription {
            event_types: vec![PaymentsAwaiting::TYPE, VoucherBookReady::TYPE],
            handler: Arc::new(operators::OperatorEvents(n.clone())),
        },
        Subscription {
            event_types: vec![
                VoucherGifted::TYPE,
                VoucherExpiring::TYPE,
                VoucherIssued::TYPE,
                VoucherRedeemed::TYPE,
            ],
            handler: Arc::new(vouchers::VoucherEvents(n.clone())),
        },
        Subscription {
            event_types: vec![TierChanged::TYPE, PointsExpiring::TYPE],
            handler: Arc::new(rewards::RewardsEvents(n.clone())),
        },
        Subscription {
            event_types: vec![ReviewApproved::TYPE, ReviewResponded::TYPE],
            handler: Arc::new(reviews::ReviewEvents(n.clone())),
        },
        Subscription {
            event_types: vec![ChatMessagePosted::TYPE],
            handler: Arc::new(chat::ChatEvents(n.clone())),
        },
        Subscription {
            event_types: vec![
                ShipmentCreated::TYPE,
                ShipmentUpdated::TYPE,
                ShipmentDelivered::TYPE,
            ],
            handler: Arc::new(shipments::ShipmentEvents(n)),
        },
    ]
}

fn decode<E: DomainEvent>(event: &EventEnvelope) -> Result<E, BoxError> {
    Ok(serde_json::from_value(event.payload.clone())?)
}

/// The key of the staff's copy of a customer's news: deliveries are keyed by (key, channel,
/// destination), so with the event's own id a customer who is also staff would get only one.
fn staff_copy(event_id: Uuid) -> Uuid {
    Uuid::from_u128(event_id.as_u128() ^ 0x5354_4146_465f_434f_5059_0000_0000_0001)
}

/// Plans one message per staff member (owner and managers) of `merchant_id`, each in their
/// own language. Returns the business name, or None when the merchant is unknown here.
async fn tell_staff(
    notifications: &Notifications,
    tx: &mut Tx,
    merchant_id: Uuid,
    key: Uuid,
    category: Category,
    template: &'static str,
    context: serde_json::Value,
) -> Result<(), BoxError> {
    let Some((_, business_name)) = store::merchant_owner(tx, merchant_id).await? else {
        return Ok(());
    };
    let mut context = context;
    context["business_name"] = business_name.into();
    for user_id in store::owner_and_managers(tx, merchant_id).await? {
        let message = service::Message {
            event_id: key,
            user_id: Some(user_id),
            category,
            template,
            context: context.clone(),
            targets: reach(tx, user_id).await?,
        };
        notifications.plan(tx, message).await?;
    }
    Ok(())
}
