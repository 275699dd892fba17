//! Money events of other modules, each posted as one balanced transaction in the same
//! database transaction that records the event as consumed (so it is posted exactly once).

use std::sync::Arc;

use async_trait::async_trait;
use kernel::{DomainEvent, EventEnvelope};
use orders_contract::{OrderDelivered, OrderReturned};
use payments_contract::{PaymentRefunded, PaymentSucceeded};
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;
use serde::de::DeserializeOwned;
use vouchers_contract::{VoucherExpired, VoucherRedeemed};

use crate::domain::{self, Account, Kind, Transfer};
use crate::service::Ledger;
use crate::store::EarningRow;

pub fn subscriptions(ledger: Arc<Ledger>) -> Vec<Subscription> {
    vec![Subscription {
        event_types: vec![
            PaymentSucceeded::TYPE,
            PaymentRefunded::TYPE,
            OrderDelivered::TYPE,
            OrderReturned::TYPE,
            VoucherRedeemed::TYPE,
            VoucherExpired::TYPE,
        ],
        handler: Arc::new(MoneyEvents(ledger)),
    }]
}

struct MoneyEvents(Arc<Ledger>);

fn decode<T: DeserializeOwned>(event: &EventEnvelope) -> Result<T, serde_json::Error> {
    serde_json::from_value(event.payload.clone())
}

#[async_trait]
impl EventHandler for MoneyEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let ledger = &self.0;
        match event.event_type.as_str() {
            PaymentSucceeded::TYPE => {
                let e: PaymentSucceeded = decode(event)?;
                ledger
                    .post(
                        tx,
                        Kind::PaymentCaptured,
                        &e.payment_id.to_string(),
                        e.currency.code(),
                        &format!("payment {} captured", e.payment_id),
                        &[Transfer {
                            from: Account::GatewayReceivable,
                            to: Account::CustomerClearing,
                            amount: e.amount,
                        }],
                    )
                    .await?;
            }
            PaymentRefunded::TYPE => {
                let e: PaymentRefunded = decode(event)?;
                ledger
                    .post(
                        tx,
                        Kind::PaymentRefunded,
                        &format!("{}:{}", e.payment_id, e.refund_id),
                        e.currency.code(),
                        &format!("payment {} refunded", e.payment_id),
                        &[Transfer {
                            from: Account::CustomerClearing,
                            to: Account::GatewayReceivable,
                            amount: e.amount,
                        }],
                    )
                    .await?;
            }
            OrderDelivered::TYPE => {
                // Vouchers in the order are earned when redeemed, not on delivery. What the
                // customer paid for the goods and their shipping is earned (the merchant pays
                // the courier); platform-funded discounts are paid on top.
                let OrderDelivered(e) = decode(event)?;
                let physical = e.lines.iter().filter(|l| l.product_type == "PHYSICAL");
                let (goods, commission, goods_funded) = physical.fold((0, 0, 0), |(a, c, f), l| {
                    (
                        a + l.line_total - l.discount,
                        c + l.commission,
                        f + l.platform_discount,
                    )
                });
                let (shipping, shipping_funded) = e.shipping.as_ref().map_or((0, 0), |s| {
                    (s.option.amount - s.discount, s.platform_discount)
                });
                let amount = goods + shipping;
                let funded = goods_funded + shipping_funded;
                tracing::debug!(order = %e.number, amount, "delivery earned");
                let row = EarningRow {
                    order_id: e.order_id,
                    merchant_id: e.merchant_id,
                    currency: e.currency.code().to_owned(),
                    amount,
                    commission,
                    credit_at: 0,
                    promotion_funded: funded,
                };
                ledger.on_delivered(tx, row).await?;
            }
            OrderReturned::TYPE => {
                let OrderReturned(e) = decode(event)?;
                ledger.on_returned(tx, e.order_id).await?;
            }
            VoucherRedeemed::TYPE => {
                let e: VoucherRedeemed = decode(event)?;
                ledger
                    .post(
                        tx,
                        Kind::VoucherRedeemed,
                        &e.redemption_id.to_string(),
                        e.currency.code(),
                        &format!("voucher {} redeemed", e.code),
                        &domain::earning(e.merchant_id, e.earned, e.commission, e.promotion_funded),
                    )
                    .await?;
            }
            VoucherExpired::TYPE => {
                let e: VoucherExpired = decode(event)?;
                if e.unearned > 0 {
                    ledger
                        .post(
                            tx,
                            Kind::VoucherExpired,
                            &e.instance_id.to_string(),
                            e.currency.code(),
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
