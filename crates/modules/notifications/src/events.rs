//! Other modules' events turned into messages (and identity's into a copy of contact
//! details).

use std::sync::Arc;

use async_trait::async_trait;
use identity_contract::{
    PasswordResetRequested, UserDeleted, UserPasswordChanged, UserRegistered, UserUpdated,
    VerificationRequested,
};
use inventory_contract::InventoryLow;
use kernel::{DomainEvent, EventEnvelope, Timestamp};
use loyalty_contract::{PointsExpiring, TierChanged};
use merchants_contract::{
    MemberInvited, MerchantApplied, MerchantApproved, MerchantRejected, MerchantStatusFact,
    MerchantSuspended,
};
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;
use serde_json::json;
use shipping_contract::{ShipmentCreated, ShipmentDelivered, ShipmentStatus, ShipmentUpdated};
use uuid::Uuid;
use vouchers_contract::{VoucherExpiring, VoucherGifted};

use crate::domain::Category;
use crate::service::{Message, Notifications, Target};
use crate::store;

pub fn subscriptions(notifications: Arc<Notifications>) -> Vec<Subscription> {
    vec![
        Subscription {
            event_types: vec![
                MemberInvited::TYPE,
                MerchantApplied::TYPE,
                MerchantApproved::TYPE,
                MerchantRejected::TYPE,
                MerchantSuspended::TYPE,
            ],
            handler: Arc::new(MerchantEvents(notifications.clone())),
        },
        Subscription {
            event_types: vec![
                UserRegistered::TYPE,
                UserUpdated::TYPE,
                VerificationRequested::TYPE,
                PasswordResetRequested::TYPE,
                UserPasswordChanged::TYPE,
                UserDeleted::TYPE,
            ],
            handler: Arc::new(IdentityEvents(notifications.clone())),
        },
        Subscription {
            event_types: vec![InventoryLow::TYPE],
            handler: Arc::new(StockEvents(notifications.clone())),
        },
        Subscription {
            event_types: vec![VoucherGifted::TYPE, VoucherExpiring::TYPE],
            handler: Arc::new(VoucherEvents(notifications.clone())),
        },
        Subscription {
            event_types: vec![TierChanged::TYPE, PointsExpiring::TYPE],
            handler: Arc::new(RewardsEvents(notifications.clone())),
        },
        Subscription {
            event_types: vec![
                ShipmentCreated::TYPE,
                ShipmentUpdated::TYPE,
                ShipmentDelivered::TYPE,
            ],
            handler: Arc::new(ShipmentEvents(notifications)),
        },
    ]
}

struct IdentityEvents(Arc<Notifications>);

fn decode<E: DomainEvent>(event: &EventEnvelope) -> Result<E, BoxError> {
    Ok(serde_json::from_value(event.payload.clone())?)
}

/// The user's in-app inbox, email and devices.
async fn everywhere(tx: &mut Tx, user_id: Uuid) -> Result<Vec<Target>, BoxError> {
    let mut targets = vec![Target::InApp(user_id)];
    if let Some(email) = store::recipient(tx, user_id).await?.and_then(|r| r.email) {
        targets.push(Target::Email(email));
    }
    for token in store::device_tokens(tx, user_id).await? {
        targets.push(Target::Push(token));
    }
    Ok(targets)
}

#[async_trait]
impl EventHandler for IdentityEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let now = Timestamp::now();
        let message = match event.event_type.as_str() {
            UserRegistered::TYPE => {
                let e: UserRegistered = decode(event)?;
                store::upsert_contact(tx, e.user_id, Some(&e.email), e.phone.as_deref(), now)
                    .await?;
                Message {
                    event_id: event.id,
                    user_id: Some(e.user_id),
                    category: Category::Account,
                    template: "welcome",
                    context: json!({ "first_name": e.first_name }),
                    targets: vec![Target::InApp(e.user_id), Target::Email(e.email)],
                }
            }
            UserUpdated::TYPE => {
                let e: UserUpdated = decode(event)?;
                store::upsert_contact(tx, e.user_id, Some(&e.email), e.phone.as_deref(), now)
                    .await?;
                return Ok(());
            }
            VerificationRequested::TYPE => {
                let e: VerificationRequested = decode(event)?;
                let target = match e.channel.as_str() {
                    "phone" => Target::Sms(e.destination),
                    _ => Target::Email(e.destination),
                };
                Message {
                    event_id: event.id,
                    user_id: Some(e.user_id),
                    category: Category::Security,
                    template: "verification_code",
                    context: json!({ "code": self.0.ctx.sealer.open(&e.code)?, "minutes": e.expires_in_minutes }),
                    targets: vec![target],
                }
            }
            PasswordResetRequested::TYPE => {
                let e: PasswordResetRequested = decode(event)?;
                Message {
                    event_id: event.id,
                    user_id: Some(e.user_id),
                    category: Category::Security,
                    template: "password_reset",
                    context: json!({ "token": self.0.ctx.sealer.open(&e.token)?, "minutes": e.expires_in_minutes }),
                    targets: vec![Target::Email(e.email)],
                }
            }
            UserPasswordChanged::TYPE => {
                let e: UserPasswordChanged = decode(event)?;
                Message {
                    event_id: event.id,
                    user_id: Some(e.user_id),
                    category: Category::Security,
                    template: "password_changed",
                    context: json!({}),
                    targets: everywhere(tx, e.user_id).await?,
                }
            }
            UserDeleted::TYPE => {
                let e: UserDeleted = decode(event)?;
                store::erase_user(tx, e.user_id).await?;
                return Ok(());
            }
            _ => return Ok(()),
        };
        self.0.plan(tx, message).await?;
        Ok(())
    }
}

/// Merchant invitations and the owner's news about their application.
struct MerchantEvents(Arc<Notifications>);

#[async_trait]
impl EventHandler for MerchantEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let status_message = |template: &'static str, fact: MerchantStatusFact| Message {
            event_id: event.id,
            user_id: Some(fact.owner_user_id),
            category: Category::Account,
            template,
            context: json!({ "business_name": fact.business_name, "reason": fact.reason }),
            targets: Vec::new(),
        };
        let mut message = match event.event_type.as_str() {
            MemberInvited::TYPE => {
                let e: MemberInvited = decode(event)?;
                Message {
                    event_id: event.id,
                    user_id: None,
                    category: Category::Account,
                    template: "merchant_invitation",
                    context: json!({
                        "business_name": e.business_name,
                        "role": e.role.as_str(),
                        "token": self.0.ctx.sealer.open(&e.token)?,
                        "expires_at": e.expires_at.to_rfc3339(),
                    }),
                    targets: vec![Target::Email(e.email)],
                }
            }
            MerchantApplied::TYPE => {
                let fact = decode::<MerchantApplied>(event)?.0;
                store::upsert_merchant_owner(
                    tx,
                    fact.merchant_id,
                    fact.owner_user_id,
                    &fact.business_name,
                )
                .await?;
                return Ok(());
            }
            MerchantApproved::TYPE => {
                status_message("merchant_approved", decode::<MerchantApproved>(event)?.0)
            }
            MerchantRejected::TYPE => {
                status_message("merchant_rejected", decode::<MerchantRejected>(event)?.0)
            }
            MerchantSuspended::TYPE => {
                status_message("merchant_suspended", decode::<MerchantSuspended>(event)?.0)
            }
            _ => return Ok(()),
        };
        if let Some(owner) = message.user_id.filter(|_| message.targets.is_empty()) {
            message.targets = everywhere(tx, owner).await?;
        }
        self.0.plan(tx, message).await?;
        Ok(())
    }
}

/// Low-stock alerts, to the merchant's owner.
struct StockEvents(Arc<Notifications>);

#[async_trait]
impl EventHandler for StockEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let e: InventoryLow = decode(event)?;
        let Some((owner, business_name)) = store::merchant_owner(tx, e.merchant_id).await? else {
            return Ok(());
        };
        let message = Message {
            event_id: event.id,
            user_id: Some(owner),
            category: Category::System,
            template: "inventory_low",
            context: json!({
                "business_name": business_name,
                "sku": e.sku,
                "available": e.available,
                "threshold": e.threshold,
            }),
            targets: everywhere(tx, owner).await?,
        };
        self.0.plan(tx, message).await?;
        Ok(())
    }
}

/// Gifts reach their recipient (who may not have an account yet); expiry reminders reach
/// the holder.
struct VoucherEvents(Arc<Notifications>);

#[async_trait]
impl EventHandler for VoucherEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let message = match event.event_type.as_str() {
            VoucherGifted::TYPE => {
                let e: VoucherGifted = decode(event)?;
                let target = match (e.to_email, e.to_phone) {
                    (Some(email), _) => Target::Email(email),
                    (None, Some(phone)) => Target::Sms(phone),
                    (None, None) => return Ok(()),
                };
                Message {
                    event_id: event.id,
                    user_id: None,
                    category: Category::Account,
                    template: "voucher_gift",
                    context: json!({
                        "title": e.title,
                        "message": e.message,
                        "token": self.0.ctx.sealer.open(&e.token)?,
                        "expires_at": e.expires_at.to_rfc3339(),
                    }),
                    targets: vec![target],
                }
            }
            VoucherExpiring::TYPE => {
                let e: VoucherExpiring = decode(event)?;
                Message {
                    event_id: event.id,
                    user_id: Some(e.owner_id),
                    category: Category::Account,
                    template: "voucher_expiring",
                    context: json!({
                        "title": e.title,
                        "balance": e.balance,
                        "currency": e.currency.code(),
                        "expires_at": e.expires_at.to_rfc3339(),
                    }),
                    targets: everywhere(tx, e.owner_id).await?,
                }
            }
            _ => return Ok(()),
        };
        self.0.plan(tx, message).await?;
        Ok(())
    }
}

struct RewardsEvents(Arc<Notifications>);

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
                    targets: everywhere(tx, e.customer_id).await?,
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
                    targets: everywhere(tx, e.customer_id).await?,
                }
            }
            _ => return Ok(()),
        };
        self.0.plan(tx, message).await?;
        Ok(())
    }
}

/// The customer hears that the order was shipped, goes out for delivery, and was delivered.
struct ShipmentEvents(Arc<Notifications>);

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
            targets: everywhere(tx, fact.customer_id).await?,
        };
        self.0.plan(tx, message).await?;
        Ok(())
    }
}
