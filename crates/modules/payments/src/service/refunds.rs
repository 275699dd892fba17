//! Refunds: requested by other modules' events or by admins, within what each scope may
//! draw on, executed by a job, settled by hand where the provider has no refund API.

use super::*;

impl Payments {
    /// Orders asked for money back: recorded on the payment and handed to the refund job, in
    /// the consumer's transaction. Never more than what is still refundable.
    pub async fn on_refund_requested(
        &self,
        tx: &mut Tx,
        request: &payments_contract::RequestedRefund,
    ) -> Result<()> {
        let Some(payment) = store::payment_in(tx, request.payment_id).await? else {
            tracing::error!(payment = %request.payment_id, "refund requested for an unknown payment");
            return Ok(());
        };
        let reference = request.request_id.to_string();
        let state = State::fold(&entries(&store::transactions_in(tx, payment.id).await?)?);
        if state.refund_references.contains(&reference) {
            return Ok(());
        }
        let scope = RefundScope::of(request.reason, request.order_id);
        let amount = request
            .amount
            .min(state.refundable_in(scope, &paid_orders(&payment)?));
        if amount < request.amount {
            tracing::warn!(payment = %payment.id, requested = request.amount, granted = amount,
                scope = scope.name(), "refund requested beyond what is refundable in its scope");
        }
        if amount <= 0 {
            return Ok(());
        }
        self.request_refund(
            tx,
            &payment,
            &state,
            &reference,
            amount,
            scope,
            request.reason.as_str(),
        )
        .await
    }

    /// An admin refund (full or partial).
    pub async fn admin_refund(
        &self,
        actor: &Actor,
        id: Uuid,
        request: RefundRequest,
        attempt: Option<&Attempt>,
    ) -> Result<RefundAccepted> {
        actor
            .require(Permission::AdminPayments)
            .map_err(|_| PaymentsError::NotFound)?;
        let reason = request.reason.trim().to_owned();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(invalid("reason", "is required (at most 500 characters)"));
        }
        if request.amount.is_some_and(|a| a <= 0) {
            return Err(invalid("amount", "must be positive"));
        }
        for _ in 0..APPEND_ATTEMPTS {
            let mut tx = self.ctx.db.begin().await?;
            let payment = store::payment_in(&mut tx, id)
                .await?
                .ok_or(PaymentsError::NotFound)?;
            let orders = paid_orders(&payment)?;
            let state = State::fold(&entries(&store::transactions_in(&mut tx, id).await?)?);
            if !state.is_settled() {
                return Err(PaymentsError::NotCaptured);
            }
            let scope = admin_scope(&state, &orders, request.order_id)?;
            let refundable = state.refundable_in(scope, &orders);
            let amount = request.amount.unwrap_or(refundable);
            if amount > refundable || amount <= 0 {
                return Err(PaymentsError::RefundTooLarge(refundable));
            }
            let refund_id = kernel::new_id().to_string();
            match self
                .request_refund(
                    &mut tx, &payment, &state, &refund_id, amount, scope, &reason,
                )
                .await
            {
                Ok(()) => {}
                Err(PaymentsError::Database(err)) if is_unique_violation(&err) => continue,
                Err(err) => return Err(err),
            }
            let accepted = RefundAccepted {
                refund_id,
                amount,
                currency: parse_currency(&payment.currency)?,
                status: "REQUESTED".into(),
            };
            if let Some(attempt) = attempt {
                if !idempotency::complete(&mut tx, attempt, StatusCode::ACCEPTED, &accepted).await?
                {
                    return Err(PaymentsError::Contended);
                }
            }
            self.ctx.commit(tx).await?;
            return Ok(accepted);
        }
        Err(PaymentsError::Contended)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn request_refund(
        &self,
        tx: &mut Tx,
        payment: &PaymentRow,
        state: &State,
        reference: &str,
        amount: i64,
        scope: RefundScope,
        reason: &str,
    ) -> Result<()> {
        let order_id = scope.order_id();
        let detail =
            serde_json::json!({ "orderId": order_id, "reason": reason, "scope": scope.name() })
                .to_string();
        let now = Timestamp::now();
        store::append(
            tx,
            payment.id,
            state.last_seq + 1,
            TxKind::RefundRequested.as_str(),
            amount,
            &payment.currency,
            Some(reference),
            Some(&detail),
            now,
        )
        .await?;
        let job = RefundJob {
            payment_id: payment.id,
            refund_id: reference.to_owned(),
            amount,
            order_id,
            reason: reason.to_owned(),
        };
        let payload =
            serde_json::to_value(&job).map_err(|e| PaymentsError::Corrupt(e.to_string()))?;
        jobs::enqueue(tx, REFUND_JOB, &payload, now, REFUND_ATTEMPTS).await?;
        Ok(())
    }

    /// The refund job: the provider moves the money (outside any transaction), then the log
    /// records it and `payment.refunded` goes out. Safe to run again: the provider gets the same
    /// refund id and the log settles a refund once.
    pub async fn execute_refund(&self, job: &RefundJob, last_attempt: bool) -> Result<()> {
        let payment = store::payment(&self.ctx.db, job.payment_id)
            .await?
            .ok_or(PaymentsError::NotFound)?;
        let state = State::fold(&entries(
            &store::transactions(&self.ctx.db, payment.id).await?,
        )?);
        if state.settled_references.contains(&job.refund_id) {
            return Ok(());
        }
        let provider = self
            .providers
            .get(&payment.provider)
            .ok_or(PaymentsError::UnknownProvider)?;
        let outcome = match provider
            .refund(&record_of(&payment)?, &job.refund_id, job.amount)
            .await
        {
            Ok(outcome) => outcome,
            Err(err) if last_attempt => {
                tracing::error!(payment = %payment.id, refund = %job.refund_id, error = %err, "refund failed for good");
                self.append_settlement(&payment, job, TxKind::RefundFailed, &err.to_string(), None)
                    .await?;
                return Ok(());
            }
            Err(err) => return Err(err.into()),
        };
        match outcome {
            RefundOutcome::Succeeded { reference } => {
                self.append_settlement(&payment, job, TxKind::Refunded, &reference, None)
                    .await
            }
            RefundOutcome::Manual { note } => {
                tracing::warn!(payment = %payment.id, refund = %job.refund_id, note = %note, "refund needs an operator");
                let mut tx = self.ctx.db.begin().await?;
                // An operator may have settled it already (from the payment itself).
                let state = State::fold(&entries(
                    &store::transactions_in(&mut tx, payment.id).await?,
                )?);
                if !state.refund_pending(&job.refund_id) {
                    return Ok(());
                }
                store::await_operator(
                    &mut tx,
                    payment.id,
                    AwaitingKind::Refund.as_str(),
                    &job.refund_id,
                    job.amount,
                    Timestamp::now(),
                )
                .await?;
                tx.commit().await?;
                Ok(())
            }
        }
    }

    /// Records a refund an operator paid back by hand (admins): `REFUNDED`, then
    /// `payment.refunded` as for any refund.
    pub async fn settle_manual_refund(
        &self,
        actor: &Actor,
        id: Uuid,
        refund_id: &str,
        request: ManualRefund,
    ) -> Result<Payment> {
        actor
            .require(Permission::AdminPayments)
            .map_err(|_| PaymentsError::NotFound)?;
        let reference = request.reference.trim();
        if reference.is_empty() || reference.chars().count() > 200 {
            return Err(invalid("reference", "is required (at most 200 characters)"));
        }
        let payment = store::payment(&self.ctx.db, id)
            .await?
            .ok_or(PaymentsError::NotFound)?;
        let rows = store::transactions(&self.ctx.db, id).await?;
        let requested = rows
            .iter()
            .find(|t| {
                t.kind == TxKind::RefundRequested.as_str()
                    && t.reference.as_deref() == Some(refund_id)
            })
            .ok_or(PaymentsError::RefundNotFound)?;
        if !State::fold(&entries(&rows)?).refund_pending(refund_id) {
            return Err(PaymentsError::RefundNotPending);
        }
        let detail: serde_json::Value = requested
            .detail
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or_default();
        let job = RefundJob {
            payment_id: id,
            refund_id: refund_id.to_owned(),
            amount: requested.amount,
            order_id: detail["orderId"].as_str().and_then(|o| o.parse().ok()),
            reason: detail["reason"].as_str().unwrap_or("refund").to_owned(),
        };
        let audit = Audit {
            actor_id: actor.user_id,
            action: "refund_settled",
            detail: serde_json::json!({ "refundId": refund_id, "bankReference": reference, "amount": requested.amount }),
        };
        self.append_settlement(
            &payment,
            &job,
            TxKind::Refunded,
            &format!("manual:{reference}"),
            Some(&audit),
        )
        .await?;
        let rows = store::transactions(&self.ctx.db, id).await?;
        view(&payment, &rows)
    }

    pub(crate) async fn append_settlement(
        &self,
        payment: &PaymentRow,
        job: &RefundJob,
        kind: TxKind,
        provider_reference: &str,
        audit: Option<&Audit>,
    ) -> Result<()> {
        let currency = parse_currency(&payment.currency)?;
        for _ in 0..APPEND_ATTEMPTS {
            let mut tx = self.ctx.db.begin().await?;
            let state = State::fold(&entries(
                &store::transactions_in(&mut tx, payment.id).await?,
            )?);
            if state.settled_references.contains(&job.refund_id) {
                return Ok(());
            }
            let detail =
                serde_json::json!({ "provider": provider_reference, "orderId": job.order_id })
                    .to_string();
            match store::append(
                &mut tx,
                payment.id,
                state.last_seq + 1,
                kind.as_str(),
                job.amount,
                &payment.currency,
                Some(&job.refund_id),
                Some(&detail),
                Timestamp::now(),
            )
            .await
            {
                Ok(()) => {}
                Err(err) if is_unique_violation(&err) => continue,
                Err(err) => return Err(err.into()),
            }
            store::done_awaiting(
                &mut tx,
                payment.id,
                AwaitingKind::Refund.as_str(),
                &job.refund_id,
            )
            .await?;
            if let Some(audit) = audit {
                audit.record(&mut tx, payment.id).await?;
            }
            if kind == TxKind::Refunded {
                publish(
                    &mut tx,
                    &PaymentRefunded {
                        payment_id: payment.id,
                        order_group_id: payment.order_group_id,
                        customer_id: Some(payment.customer_id),
                        order_id: job.order_id,
                        refund_id: job.refund_id.clone(),
                        amount: job.amount,
                        currency,
                        reason: job.reason.clone(),
                    },
                )
                .await?;
            }
            self.ctx.commit(tx).await?;
            return Ok(());
        }
        Err(PaymentsError::Contended)
    }
}

/// The scope a refund request was recorded with (its detail: `scope`, `orderId`, `reason`).
pub(crate) fn recorded_scope(row: &TxRow) -> RefundScope {
    let detail: serde_json::Value = row
        .detail
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or_default();
    let order_id = detail["orderId"].as_str().and_then(|id| id.parse().ok());
    RefundScope::recorded(
        detail["scope"].as_str(),
        detail["reason"].as_str(),
        order_id,
    )
}

/// What an admin's refund draws on: the goods of the order named; without one, the whole
/// payment only when it bought no vouchers (or paid for nothing: flagged), because voucher
/// value goes back only by voiding the vouchers.
pub(crate) fn admin_scope(
    state: &State,
    orders: &[PayableOrder],
    order_id: Option<Uuid>,
) -> Result<RefundScope> {
    if let Some(order_id) = order_id {
        if !orders.iter().any(|o| o.order_id == order_id) {
            return Err(invalid("orderId", "is not an order of this payment"));
        }
        return Ok(RefundScope::Goods(order_id));
    }
    let bought_vouchers = orders
        .iter()
        .any(|o| o.voucher_amount.is_some_and(|v| v > 0));
    if bought_vouchers && !state.flagged {
        return Err(invalid(
            "orderId",
            "is required: this payment bought vouchers, and their value goes back only when they are voided (refund them from the wallet)",
        ));
    }
    Ok(RefundScope::Payment)
}
