//! The platform's own work: admins hear of payments and refunds waiting for an operator, and
//! of voucher books ready for print.

use std::sync::Arc;

use async_trait::async_trait;
use books_contract::VoucherBookReady;
use kernel::{DomainEvent, EventEnvelope};
use payments_contract::PaymentsAwaiting;
use platform::bus::{BoxError, EventHandler};
use platform::db::Tx;
use serde_json::json;

use super::decode;
use crate::domain::Category;
use crate::service::{reach, Message, Notifications};
use crate::store;

pub(super) struct OperatorEvents(pub(super) Arc<Notifications>);

#[async_trait]
impl EventHandler for OperatorEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let (template, context) = match event.event_type.as_str() {
            PaymentsAwaiting::TYPE => {
                let e: PaymentsAwaiting = decode(event)?;
                (
                    "payments_awaiting",
                    json!({
                        "verifications": e.verifications,
                        "refunds": e.refunds,
                        "oldest_since": e.oldest_since,
                    }),
                )
            }
            VoucherBookReady::TYPE => {
                let e: VoucherBookReady = decode(event)?;
                (
                    "voucher_book_ready",
                    json!({
                        "title": e.title,
                        "edition": e.edition,
                        "pages": e.pages,
                        "vouchers": e.vouchers,
                    }),
                )
            }
            _ => return Ok(()),
        };
        for admin in store::admins(tx).await? {
            let message = Message {
                event_id: event.id,
                user_id: Some(admin),
                category: Category::System,
                template,
                context: context.clone(),
                targets: reach(tx, admin).await?,
            };
            self.0.plan(tx, message).await?;
        }
        Ok(())
    }
}
