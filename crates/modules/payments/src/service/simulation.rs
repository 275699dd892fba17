//! The payment simulator's approve/decline pages and its stand-in for Bakong's API.

use super::*;

impl Payments {
    pub async fn simulator_payment(&self, id: Uuid) -> Result<PaymentRow> {
        store::payment(&self.ctx.db, id)
            .await?
            .ok_or(PaymentsError::NotFound)
    }

    /// The simulator acts as the payer's gateway: for its own payments it sends a signed
    /// webhook; for KHQR payments it records the transfer its Bakong stand-in reports.
    pub async fn simulate(&self, id: Uuid, reported: Reported) -> Result<String> {
        let payment = self.simulator_payment(id).await?;
        match payment.provider.as_str() {
            "simulator" => {
                let event = SimulatorEvent {
                    event_id: kernel::new_id().to_string(),
                    payment_id: payment.id,
                    status: match reported {
                        Reported::Pending => "PENDING",
                        Reported::Succeeded => "SUCCEEDED",
                        Reported::Failed => "FAILED",
                    }
                    .into(),
                    amount: payment.amount,
                    currency: parse_currency(&payment.currency)?,
                };
                simulator::send_webhook(&self.ctx.public_url(), &self.simulator_secret, &event)
                    .await?;
                Ok("webhook_sent".into())
            }
            "khqr" if reported == Reported::Succeeded => {
                let hash = simulator::bakong_hash(&payment.provider_reference);
                store::simulator_mark_paid(
                    &self.ctx.db,
                    &payment.provider_reference,
                    &hash,
                    payment.amount,
                    &payment.currency,
                    Timestamp::now(),
                )
                .await?;
                Ok("transfer_recorded".into())
            }
            "khqr" => Ok("nothing_to_do".into()),
            _ => Err(invalid("paymentId", "is not a simulator or KHQR payment")),
        }
    }

    /// The simulator's stand-in for Bakong's `check_transaction_by_md5`.
    pub async fn bakong_check(&self, md5: &str) -> Result<BakongResponse> {
        let found = store::simulator_khqr(&self.ctx.db, md5).await?;
        Ok(match found {
            Some(t) => {
                let currency = parse_currency(&t.currency)?;
                let scale = 10f64.powi(currency.exponent() as i32);
                BakongResponse {
                    response_code: 0,
                    response_message: "Getting transaction successfully.".into(),
                    data: Some(BakongTransaction {
                        hash: t.hash,
                        amount: t.amount as f64 / scale,
                        currency: t.currency,
                        created_date_ms: t.paid_at,
                    }),
                }
            }
            None => BakongResponse {
                response_code: 1,
                response_message: "Transaction could not be found. Please check and try again."
                    .into(),
                data: None,
            },
        })
    }
}
