//! What providers report (webhooks, and polls of open payments) applied to payments and
//! their orders.

use super::*;

impl Payments {
    /// A webhook: verified on the raw body, applied once per provider event id.
    pub async fn webhook(
        &self,
        provider: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<WebhookAck> {
        let provider_impl = self
            .providers
            .get(provider)
            .ok_or(PaymentsError::UnknownProvider)?;
        let report = provider_impl.verify_webhook(headers, body)?;
        // Some callbacks only say "look again": their provider's API decides (no lock held).
        // Asking the provider costs a call: not for a payment that is unknown here or already
        // settled (forged Pi Pay returns cost nothing more than the digest).
        if provider_impl.confirms_callbacks()
            && !self.is_open(provider_impl.name(), &report.payment).await?
        {
            return Ok(WebhookAck {
                outcome: "ignored".into(),
            });
        }
        let report = provider_impl.confirm(report).await?;
        let payload = String::from_utf8_lossy(body).into_owned();
        let reference = match &report.payment {
            PaymentRef::ProviderReference(reference) => reference.as_str(),
            PaymentRef::Id(_) => "",
        };
        if [payload.as_str(), report.event_id.as_str(), reference]
            .iter()
            .any(|text| text::has_forbidden(text))
        {
            return Err(invalid("body", text::MESSAGE));
        }
        let outcome = self
            .apply_report(provider_impl.name(), &report, &payload, None)
            .await?;
        Ok(WebhookAck { outcome })
    }

    /// Whether the payment a report names is here, with this provider, and not settled yet.
    async fn is_open(&self, provider: &str, payment: &PaymentRef) -> Result<bool> {
        let mut tx = self.ctx.db.begin().await?;
        let row = match payment {
            PaymentRef::Id(id) => store::payment_in(&mut tx, *id).await?,
            PaymentRef::ProviderReference(reference) => {
                store::payment_by_reference(&mut tx, provider, reference).await?
            }
        }
        .filter(|p| p.provider == provider);
        let Some(row) = row else {
            return Ok(false);
        };
        let state = State::fold(&entries(&store::transactions_in(&mut tx, row.id).await?)?);
        Ok(!state.is_settled())
    }

    /// Applies a verified report in one transaction: the report is recorded once, the log gets
    /// at most one forward entry, and the matching event is published. An admin's report is
    /// audited in the same transaction.
    pub(crate) async fn apply_report(
        &self,
        provider: &str,
        report: &Report,
        payload: &str,
        audit: Option<&Audit>,
    ) -> Result<String> {
        for _ in 0..APPEND_ATTEMPTS {
            let mut tx = self.ctx.db.begin().await?;
            let payment = match &report.payment {
                PaymentRef::Id(id) => store::payment_in(&mut tx, *id).await?,
                PaymentRef::ProviderReference(reference) => {
                    store::payment_by_reference(&mut tx, provider, reference).await?
                }
            }
            .filter(|p| p.provider == provider);
            let Some(payment) = payment else {
                let fresh = store::record_webhook(
                    &mut tx,
                    provider,
                    &report.event_id,
                    None,
                    "unknown_payment",
                    payload,
                    Timestamp::now(),
                )
                .await?;
                tx.commit().await?;
                return Ok(if fresh {
                    "unknown_payment"
                } else {
                    "duplicate"
                }
                .into());
            };
            match self
                .apply_to(&mut tx, provider, &payment, report, payload)
                .await
            {
                // An admin's report that changed nothing is not kept: no audit, and the bank
                // reference stays free for the payment it belongs to.
                Ok(outcome) if audit.is_some() && outcome == "ignored" => return Ok(outcome),
                Ok(outcome) => {
                    if outcome != "duplicate" {
                        if let Some(audit) = audit {
                            audit.record(&mut tx, payment.id).await?;
                        }
                        self.ctx.commit(tx).await?;
                    }
                    return Ok(outcome);
                }
                Err(PaymentsError::Database(err)) if is_unique_violation(&err) => {
                    // A concurrent report appended first: decide again on what it wrote.
                    drop(tx);
                    if store::webhook_outcome(&self.ctx.db, provider, &report.event_id)
                        .await?
                        .is_some()
                    {
                        return Ok("duplicate".into());
                    }
                    continue;
                }
                Err(err) => return Err(err),
            }
        }
        Err(PaymentsError::Contended)
    }

    pub(crate) async fn apply_to(
        &self,
        tx: &mut Tx,
        provider: &str,
        payment: &PaymentRow,
        report: &Report,
        payload: &str,
    ) -> Result<String> {
        let currency = parse_currency(&payment.currency)?;
        let state = State::fold(&entries(&store::transactions_in(tx, payment.id).await?)?);
        let entry = domain::on_report(
            &state,
            report.reported,
            report.amount,
            report.currency,
            payment.amount,
            currency,
        );
        let outcome = match &entry {
            None => "ignored",
            Some(e) if e.kind == TxKind::Flagged => "flagged",
            Some(_) => "applied",
        };
        let now = Timestamp::now();
        if !store::record_webhook(
            tx,
            provider,
            &report.event_id,
            Some(payment.id),
            outcome,
            payload,
            now,
        )
        .await?
        {
            return Ok("duplicate".into());
        }
        let Some(entry) = entry else {
            return Ok(outcome.into());
        };
        if matches!(
            entry.kind,
            TxKind::Succeeded | TxKind::Failed | TxKind::Flagged
        ) {
            store::done_awaiting(tx, payment.id, AwaitingKind::Verification.as_str(), "").await?;
        }
        let detail = serde_json::json!({
            "eventId": report.event_id,
            "reportedAmount": report.amount,
            "reportedCurrency": report.currency,
        })
        .to_string();
        store::append(
            tx,
            payment.id,
            state.last_seq + 1,
            entry.kind.as_str(),
            entry.amount,
            &payment.currency,
            Some(&report.event_id),
            Some(&detail),
            now,
        )
        .await?;
        match entry.kind {
            TxKind::Succeeded => {
                let orders = paid_orders(payment)?;
                publish(
                    tx,
                    &PaymentSucceeded {
                        payment_id: payment.id,
                        order_group_id: payment.order_group_id,
                        customer_id: payment.customer_id,
                        method: payment.provider.clone(),
                        amount: payment.amount,
                        currency,
                        orders,
                    },
                )
                .await?;
            }
            TxKind::Failed => {
                publish(
                    tx,
                    &PaymentFailed {
                        payment_id: payment.id,
                        order_group_id: payment.order_group_id,
                        customer_id: payment.customer_id,
                        method: payment.provider.clone(),
                    },
                )
                .await?;
            }
            TxKind::Flagged => {
                tracing::warn!(payment = %payment.id, "payment flagged: reported money does not match");
                publish(
                    tx,
                    &PaymentFlagged {
                        payment_id: payment.id,
                        order_group_id: payment.order_group_id,
                        expected_amount: payment.amount,
                        expected_currency: currency,
                        reported_amount: report.amount,
                        reported_currency: report.currency,
                    },
                )
                .await?;
            }
            _ => {}
        }
        Ok(outcome.into())
    }

    /// Asks polling providers (KHQR) about open payments; returns how many were settled.
    pub async fn poll_open(&self) -> Result<usize> {
        let mut settled = 0;
        let since = Timestamp::now().plus_seconds(-POLL_WINDOW_SECS);
        for name in self.providers.names() {
            let Some(provider) = self.providers.get(name).filter(|p| p.polls()) else {
                continue;
            };
            for row in store::open_payments(&self.ctx.db, name, since, 100).await? {
                let record = record_of(&row)?;
                match provider.poll(&record).await {
                    Ok(Some(report)) => {
                        let payload = serde_json::json!({ "polled": report.event_id }).to_string();
                        // One payment that cannot be applied must not stop the others.
                        match self.apply_report(name, &report, &payload, None).await {
                            Ok(outcome) if outcome == "applied" => settled += 1,
                            Ok(_) => {}
                            Err(err) => {
                                tracing::warn!(payment = %row.id, error = %err, "polled report not applied")
                            }
                        }
                    }
                    Ok(None) => {}
                    Err(err) => tracing::warn!(payment = %row.id, error = %err, "poll failed"),
                }
            }
        }
        Ok(settled)
    }
}
