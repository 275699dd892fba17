//! Payments confirmed by hand: an admin verifies a bank transfer or rejects a payment whose
//! transfer never came (the same effects as a provider's webhook), lists what waits for an
//! operator, reads the audit, and admins are reminded of what waited too long.

use super::*;

pub const REMIND_JOB: &str = "payments.remind_operators";

/// An admin's action, recorded in the transaction of the change it made.
pub(crate) struct Audit {
    pub actor_id: Uuid,
    pub action: &'static str,
    pub detail: serde_json::Value,
}

impl Audit {
    pub async fn record(&self, tx: &mut Tx, payment_id: Uuid) -> Result<()> {
        store::audit(
            tx,
            payment_id,
            self.actor_id,
            self.action,
            &self.detail.to_string(),
            Timestamp::now(),
        )
        .await?;
        Ok(())
    }
}

const BANK_REFERENCE_MAX: usize = 100;
const NOTE_MAX: usize = 500;

impl Payments {
    /// Records a bank transfer found on the statement as the payment's money. One transfer
    /// confirms one payment: the same reference again answers `duplicate`, on another payment
    /// 409. A different amount or currency flags the payment, as a provider's report would.
    pub async fn verify(
        &self,
        actor: &Actor,
        id: Uuid,
        request: VerifyPayment,
    ) -> Result<Verification> {
        actor
            .require(Permission::AdminPayments)
            .map_err(|_| PaymentsError::NotFound)?;
        let bank_reference = request.bank_reference.trim().to_owned();
        let note = request.note.as_deref().map(str::trim).unwrap_or_default();
        let mut errors = Vec::new();
        if bank_reference.is_empty()
            || bank_reference.chars().count() > BANK_REFERENCE_MAX
            || text::has_forbidden(&bank_reference)
        {
            errors.push(field_error(
                "bankReference",
                "is required: the bank's reference of the transfer (at most 100 characters)",
            ));
        }
        if request.amount <= 0 {
            errors.push(field_error("amount", "must be positive (minor units)"));
        }
        if note.chars().count() > NOTE_MAX || text::has_forbidden(note) {
            errors.push(field_error("note", "is at most 500 characters of text"));
        }
        if !errors.is_empty() {
            return Err(PaymentsError::Invalid(errors));
        }
        let payment = self.verified_by_hand(id).await?;
        // Money in another currency cannot be captured against this payment (nor refunded
        // through it): the operator sends it back by hand.
        if request.currency.code() != payment.currency {
            return Err(invalid(
                "currency",
                &format!("must be the payment's ({})", payment.currency),
            ));
        }
        // Bank references are compared as the bank prints them, whatever the admin's case.
        let event_id = format!("transfer:{}", bank_reference.to_uppercase());
        let mut tx = self.ctx.db.begin().await?;
        // The state before the transfer's record: a concurrent verification of the same
        // transfer that commits in between then shows as recorded, not as another outcome.
        let state = State::fold(&entries(&store::transactions_in(&mut tx, id).await?)?);
        match store::webhook_payment(&mut tx, &payment.provider, &event_id).await? {
            Some(Some(seen)) if seen == id => {
                drop(tx);
                return Ok(Verification {
                    outcome: "duplicate".into(),
                    payment: self.view_of(&payment).await?,
                });
            }
            Some(_) => return Err(PaymentsError::BankReferenceInUse),
            None => {}
        }
        drop(tx);
        if state.is_settled() || state.flagged {
            return Err(PaymentsError::AlreadySettled);
        }
        let report = Report {
            event_id,
            payment: PaymentRef::Id(id),
            reported: Reported::Succeeded,
            amount: Some(request.amount),
            currency: Some(request.currency),
        };
        let detail = serde_json::json!({
            "bankReference": bank_reference,
            "amount": request.amount,
            "currency": request.currency,
            "note": (!note.is_empty()).then_some(note),
        });
        let audit = Audit {
            actor_id: actor.user_id,
            action: "verified",
            detail: detail.clone(),
        };
        let outcome = self
            .apply_report(
                &payment.provider,
                &report,
                &detail.to_string(),
                Some(&audit),
            )
            .await?;
        if outcome == "ignored" {
            return Err(PaymentsError::AlreadySettled);
        }
        if outcome == "duplicate" {
            // A concurrent verification recorded this reference first: for which payment?
            let mut tx = self.ctx.db.begin().await?;
            let seen = store::webhook_payment(&mut tx, &payment.provider, &report.event_id).await?;
            if seen != Some(Some(id)) {
                return Err(PaymentsError::BankReferenceInUse);
            }
        }
        Ok(Verification {
            outcome,
            payment: self.view_of(&payment).await?,
        })
    }

    /// No transfer arrived: the payment fails as a provider's decline would (the customer
    /// hears of it and may pay again), audited.
    pub async fn reject(
        &self,
        actor: &Actor,
        id: Uuid,
        request: RejectPayment,
    ) -> Result<Verification> {
        actor
            .require(Permission::AdminPayments)
            .map_err(|_| PaymentsError::NotFound)?;
        let reason = request.reason.trim();
        if reason.is_empty() || reason.chars().count() > NOTE_MAX || text::has_forbidden(reason) {
            return Err(invalid(
                "reason",
                "is required (at most 500 characters of text)",
            ));
        }
        let payment = self.verified_by_hand(id).await?;
        let state = State::fold(&entries(&store::transactions(&self.ctx.db, id).await?)?);
        if state.is_settled() || state.flagged {
            return Err(PaymentsError::AlreadySettled);
        }
        let detail = serde_json::json!({ "reason": reason });
        let audit = Audit {
            actor_id: actor.user_id,
            action: "rejected",
            detail: detail.clone(),
        };
        let report = Report {
            // One rejection per payment: a second click is a duplicate.
            event_id: format!("rejected:{id}"),
            payment: PaymentRef::Id(id),
            reported: Reported::Failed,
            amount: None,
            currency: None,
        };
        let outcome = self
            .apply_report(
                &payment.provider,
                &report,
                &detail.to_string(),
                Some(&audit),
            )
            .await?;
        if outcome == "ignored" {
            return Err(PaymentsError::AlreadySettled);
        }
        Ok(Verification {
            outcome,
            payment: self.view_of(&payment).await?,
        })
    }

    /// What waits for an operator, oldest first (admins).
    pub async fn awaiting(
        &self,
        actor: &Actor,
        kind: Option<AwaitingKind>,
        page: &PageQuery,
    ) -> Result<Page<AwaitingPayment>> {
        actor
            .require(Permission::AdminPayments)
            .map_err(|_| PaymentsError::Forbidden("Only admins see payments awaiting operators"))?;
        let bad_cursor = || invalid("cursor", "is not a valid cursor");
        let after = match page.cursor().map_err(|_| bad_cursor())? {
            Some(cursor) => Some(cursor.keyed_parts().ok_or_else(bad_cursor)?),
            None => None,
        };
        let limit = page.limit();
        let rows = store::awaiting(
            &self.ctx.db,
            kind.map(AwaitingKind::as_str),
            after,
            i64::from(limit) + 1,
        )
        .await?;
        let items = rows
            .into_iter()
            .map(|row| {
                Ok(AwaitingPayment {
                    kind: AwaitingKind::parse(&row.kind)
                        .ok_or_else(|| PaymentsError::Corrupt(format!("kind {}", row.kind)))?,
                    payment_id: row.payment_id,
                    order_group_id: row.order_group_id,
                    customer_id: row.customer_id,
                    method: row.provider,
                    amount: row.amount,
                    currency: parse_currency(&row.currency)?,
                    reference: if row.reference.is_empty() {
                        row.provider_reference
                    } else {
                        row.reference
                    },
                    waiting_since: Timestamp::from_millis(row.since),
                    reminded_at: row.reminded_at.map(Timestamp::from_millis),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, limit, |item| {
            Cursor::keyed(item.waiting_since.millis(), item.payment_id)
        }))
    }

    /// Who did what to a payment by hand (admins).
    pub async fn audit_trail(&self, actor: &Actor, id: Uuid) -> Result<Vec<PaymentAudit>> {
        actor
            .require(Permission::AdminPayments)
            .map_err(|_| PaymentsError::NotFound)?;
        store::payment(&self.ctx.db, id)
            .await?
            .ok_or(PaymentsError::NotFound)?;
        Ok(store::audit_trail(&self.ctx.db, id)
            .await?
            .into_iter()
            .map(|row| PaymentAudit {
                id: row.id,
                payment_id: row.payment_id,
                actor_id: row.actor_id,
                action: row.action,
                detail: serde_json::from_str(&row.detail).unwrap_or_default(),
                created_at: Timestamp::from_millis(row.created_at),
            })
            .collect())
    }

    /// Reminds admins of what has waited longer than `reminders.after_minutes`, at most once
    /// per `reminders.every_minutes` for the same item. Returns whether a reminder went out.
    pub async fn remind_operators(&self) -> Result<bool> {
        let now = Timestamp::now();
        let reminders = &self.config.reminders;
        let mut tx = self.ctx.db.begin().await?;
        let due = store::take_due_reminders(
            &mut tx,
            now.plus_seconds(-reminders.after_minutes.max(0) * 60),
            now.plus_seconds(-reminders.every_minutes.max(1) * 60),
            now,
        )
        .await?;
        let Some(oldest) = due.iter().map(|(_, _, since)| *since).min() else {
            return Ok(false);
        };
        let count_of = |kind: AwaitingKind| {
            due.iter()
                .find(|(k, _, _)| k == kind.as_str())
                .map_or(0, |(_, count, _)| *count)
        };
        publish(
            &mut tx,
            &PaymentsAwaiting {
                verifications: count_of(AwaitingKind::Verification),
                refunds: count_of(AwaitingKind::Refund),
                oldest_since: Timestamp::from_millis(oldest),
            },
        )
        .await?;
        self.ctx.commit(tx).await?;
        Ok(true)
    }

    /// The payment, if an admin confirms its money (bank transfers).
    async fn verified_by_hand(&self, id: Uuid) -> Result<PaymentRow> {
        let payment = store::payment(&self.ctx.db, id)
            .await?
            .ok_or(PaymentsError::NotFound)?;
        if !self
            .providers
            .get(&payment.provider)
            .is_some_and(|p| p.verified_by_hand())
        {
            return Err(PaymentsError::NotVerifiable);
        }
        Ok(payment)
    }

    async fn view_of(&self, payment: &PaymentRow) -> Result<Payment> {
        view(
            payment,
            &store::transactions(&self.ctx.db, payment.id).await?,
        )
    }
}

fn field_error(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}
