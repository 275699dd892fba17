//! Money events of other modules, each posted as one balanced transaction in the same
//! database transaction that records the event as consumed (so it is posted exactly once).
//! Payloads are read by type name: those modules do not depend on ledger and ledger needs
//! only a few fields.

use std::sync::Arc;

use async_trait::async_trait;
use kernel::EventEnvelope;
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::{self, Account, Kind, Transfer};
use crate::service::Ledger;

const PAYMENT_SUCCEEDED: &str = "payment.succeeded";
const PAYMENT_REFUNDED: &str = "payment.refunded";
const ORDER_DELIVERED: &str = "order.delivered";
const ORDER_RETURNED: &str = "order.returned";
const VOUCHER_REDEEMED: &str = "voucher.redeemed";
const VOUCHER_EXPIRED: &str = "voucher.expired";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaymentSucceeded {
    payment_id: Uuid,
    amount: i64,
    currency: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaymentRefunded {
    payment_id: Uuid,
    refund_id: String,
    amount: i64,
    currency: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderLine {
    product_type: String,
    line_total: i64,
    commission: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderFact {
    order_id: Uuid,
    number: String,
    merchant_id: Uuid,
    currency: String,
    lines: Vec<OrderLine>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VoucherRedeemed {
    redemption_id: Uuid,
    merchant_id: Uuid,
    code: String,
    currency: String,
    /// The part of what the customer paid that this redemption earns.
    earned: i64,
    commission: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VoucherExpired {
    instance_id: Uuid,
    code: String,
    currency: String,
    /// Paid value never redeemed.
    unearned: i64,
}

pub fn subscriptions(ledger: Arc<Ledger>) -> Vec<Subscription> {
    vec![Subscription {
        event_types: vec![
            PAYMENT_SUCCEEDED,
            PAYMENT_REFUNDED,
            ORDER_DELIVERED,
            ORDER_RETURNED,
            VOUCHER_REDEEMED,
            VOUCHER_EXPIRED,
        ],
        handler: Arc::new(MoneyEvents(ledger)),
    }]
}

struct MoneyEvents(Arc<Ledger>);

fn decode<T: for<'de> Deserialize<'de>>(event: &EventEnvelope) -> Result<T, serde_json::Error> {
    serde_json::from_value(event.payload.clone())
}

#[async_trait]
impl EventHandler for MoneyEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let ledger = &self.0;
        match event.event_type.as_str() {
            PAYMENT_SUCCEEDED => {
                let e: PaymentSucceeded = decode(event)?;
                ledger
                    .post(
                        tx,
                        Kind::PaymentCaptured,
                        &e.payment_id.to_string(),
                        &e.currency,
                        &format!("payment {} captured", e.payment_id),
                        &[Transfer {
                            from: Account::GatewayReceivable,
                            to: Account::CustomerClearing,
                            amount: e.amount,
                        }],
                    )
                    .await?;
            }
            PAYMENT_REFUNDED => {
                let e: PaymentRefunded = decode(event)?;
                ledger
                    .post(
                        tx,
                        Kind::PaymentRefunded,
                        &format!("{}:{}", e.payment_id, e.refund_id),
                        &e.currency,
                        &format!("payment {} refunded", e.payment_id),
                        &[Transfer {
                            from: Account::CustomerClearing,
                            to: Account::GatewayReceivable,
                            amount: e.amount,
                        }],
                    )
                    .await?;
            }
            ORDER_DELIVERED => {
                // Vouchers in the order are earned when redeemed, not on delivery.
                let e: OrderFact = decode(event)?;
                let physical = e.lines.iter().filter(|l| l.product_type == "PHYSICAL");
                let (amount, commission) =
                    physical.fold((0, 0), |(a, c), l| (a + l.line_total, c + l.commission));
                tracing::debug!(order = %e.number, amount, "delivery earned");
                ledger
                    .on_delivered(
                        tx,
                        e.order_id,
                        e.merchant_id,
                        &e.currency,
                        amount,
                        commission,
                    )
                    .await?;
            }
            ORDER_RETURNED => {
                let e: OrderFact = decode(event)?;
                ledger.on_returned(tx, e.order_id).await?;
            }
            VOUCHER_REDEEMED => {
                let e: VoucherRedeemed = decode(event)?;
                ledger
                    .post(
                        tx,
                        Kind::VoucherRedeemed,
                        &e.redemption_id.to_string(),
                        &e.currency,
                        &format!("voucher {} redeemed", e.code),
                        &domain::earning(e.merchant_id, e.earned, e.commission),
                    )
                    .await?;
            }
            VOUCHER_EXPIRED => {
                let e: VoucherExpired = decode(event)?;
                if e.unearned > 0 {
                    ledger
                        .post(
                            tx,
                            Kind::VoucherExpired,
                            &e.instance_id.to_string(),
                            &e.currency,
                            &format!("voucher {} expired unredeemed", e.code),
                            &[Transfer {
                                from: Account::CustomerClearing,
                                to: Account::Breakage,
                                amount: e.unearned,
                            }],
                        )
                        .await?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}
