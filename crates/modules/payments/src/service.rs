//! payments' use cases: create a payment of an order group through a provider, apply verified
//! provider reports (webhooks and polls) forward only, refunds (requested by orders or by an
//! admin, executed by a job through the provider), and the simulator's gateway actions.

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use kernel::{
    Actor, ActorKind, ApiError, Currency, DomainEvent, FieldError, Permission, Timestamp,
};
use orders_contract::{OrdersClient, OrdersCode, PayableOrder};
use platform::bus;
use platform::db::{is_unique_violation, Tx};
use platform::http::text;
use platform::idempotency::{self, Attempt};
use platform::jobs;
use platform::services::CallError;
use platform::Context;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::*;
use crate::domain::{self, Entry, RefundScope, Reported, State, TxKind};
use crate::providers::khqr::{BakongResponse, BakongTransaction};
use crate::providers::simulator::{self, SimulatorEvent};
use crate::providers::{
    PaymentIntent, PaymentRecord, PaymentRef, ProviderError, Providers, RefundOutcome, Report,
};
use crate::store::{self, PaymentRow, TxRow};

pub const SOURCE: &str = "payments";
pub const REFUND_JOB: &str = "payments.execute_refund";
pub const REFUND_ATTEMPTS: i32 = 8;
/// Concurrent appends to one payment's log retry this often before giving up.
const APPEND_ATTEMPTS: usize = 5;
/// Open KHQR payments are polled this long after creation.
const POLL_WINDOW_SECS: i64 = 2 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("payment not found")]
    NotFound,
    #[error("order group not found")]
    GroupNotFound,
    #[error("unknown provider")]
    UnknownProvider,
    #[error("method {0} is not available; use one of {1:?}")]
    MethodUnavailable(String, Vec<&'static str>),
    #[error("already paid")]
    AlreadyPaid,
    #[error("nothing to pay")]
    NothingToPay,
    #[error("payment window closed")]
    WindowClosed,
    #[error("not captured")]
    NotCaptured,
    #[error("refund exceeds what is refundable: {0}")]
    RefundTooLarge(i64),
    #[error("no such refund")]
    RefundNotFound,
    #[error("the refund is not pending")]
    RefundNotPending,
    #[error("invalid signature")]
    InvalidSignature,
    #[error(transparent)]
    Provider(ProviderError),
    #[error("the payment changed concurrently")]
    Contended,
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("events: {0}")]
    Bus(#[from] platform::bus::BusError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<PaymentsError> for ApiError {
    fn from(err: PaymentsError) -> Self {
        match err {
            PaymentsError::Invalid(errors) => ApiError::validation(errors),
            PaymentsError::NotFound => ApiError::not_found("payment_not_found", "No such payment"),
            PaymentsError::GroupNotFound => {
                ApiError::not_found("order_group_not_found", "No such order group")
            }
            PaymentsError::UnknownProvider => {
                ApiError::not_found("provider_not_found", "No such payment provider here")
            }
            PaymentsError::MethodUnavailable(method, available) => ApiError::validation_one(
                "method",
                &format!(
                    "{method} is not available; use one of: {}",
                    available.join(", ")
                ),
            )
            .with_code("payment_method_unavailable"),
            PaymentsError::AlreadyPaid => {
                ApiError::conflict("already_paid", "This order group is already paid")
            }
            PaymentsError::NothingToPay => ApiError::conflict(
                "nothing_to_pay",
                "No order of this group is awaiting payment (expired or cancelled)",
            ),
            PaymentsError::WindowClosed => ApiError::conflict(
                "payment_window_closed",
                "The time to pay this order group has passed",
            ),
            PaymentsError::NotCaptured => {
                ApiError::conflict("not_captured", "Nothing was captured to refund")
            }
            PaymentsError::RefundTooLarge(refundable) => ApiError::conflict(
                "refund_exceeds_captured",
                format!("At most {refundable} can still be refunded"),
            )
            .with_extension("refundable", serde_json::json!(refundable)),
            PaymentsError::RefundNotFound => {
                ApiError::not_found("refund_not_found", "No such refund of this payment")
            }
            PaymentsError::RefundNotPending => ApiError::conflict(
                "refund_not_pending",
                "This refund is already settled or failed",
            ),
            PaymentsError::InvalidSignature => {
                ApiError::unauthorized("invalid_signature", "The webhook signature does not verify")
            }
            PaymentsError::Provider(ProviderError::Unsupported(detail)) => {
                ApiError::validation_one("method", &detail).with_code("payment_method_unsupported")
            }
            PaymentsError::Provider(ProviderError::Malformed(detail)) => {
                ApiError::bad_request("malformed_webhook", detail)
            }
            PaymentsError::Provider(err) => {
                tracing::warn!(error = %err, "payment provider failed");
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "provider_failed",
                    "The payment provider failed; try again",
                )
            }
            PaymentsError::Contended => ApiError::conflict(
                "concurrent_change",
                "The payment changed concurrently; retry",
            ),
            PaymentsError::Forbidden(detail) => ApiError::forbidden(detail),
            PaymentsError::Call(err) => err.into(),
            PaymentsError::Database(_) | PaymentsError::Bus(_) | PaymentsError::Corrupt(_) => {
                tracing::error!(error = %err, "payments failure");
                ApiError::internal()
            }
        }
    }
}

impl From<ProviderError> for PaymentsError {
    fn from(err: ProviderError) -> Self {
        match err {
            ProviderError::InvalidSignature => PaymentsError::InvalidSignature,
            other => PaymentsError::Provider(other),
        }
    }
}

pub type Result<T> = std::result::Result<T, PaymentsError>;

/// The job that carries a refund to the provider.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundJob {
    pub payment_id: Uuid,
    pub refund_id: String,
    pub amount: i64,
    pub order_id: Option<Uuid>,
    pub reason: String,
}

pub struct Payments {
    pub ctx: Context,
    pub config: crate::config::PaymentsConfig,
    orders: OrdersClient,
    pub providers: Providers,
    simulator_secret: String,
}

impl Payments {
    pub fn new(ctx: Context) -> Arc<Self> {
        let config: crate::config::PaymentsConfig = ctx.config.section_or_default();
        let simulator_secret = config
            .simulator
            .webhook_secret
            .clone()
            .or_else(|| platform::secrets::random_token().ok())
            .unwrap_or_else(|| kernel::new_id().to_string());
        Arc::new(Self {
            orders: OrdersClient::new(ctx.services.clone(), SOURCE),
            providers: Providers::from_config(&ctx, &config, &simulator_secret),
            simulator_secret,
            config,
            ctx,
        })
    }

    // ---- creating and reading ----

    pub async fn create(
        &self,
        actor: &Actor,
        request: CreatePayment,
        attempt: Option<&Attempt>,
    ) -> Result<Payment> {
        if actor.kind != ActorKind::User {
            return Err(PaymentsError::Forbidden("Only the customer pays an order"));
        }
        let provider = self.providers.get(&request.method).ok_or_else(|| {
            PaymentsError::MethodUnavailable(request.method.clone(), self.providers.names())
        })?;
        let payable = match self.orders.payable(request.order_group_id).await {
            Ok(payable) => payable,
            Err(err) if err.is(OrdersCode::OrderNotFound) => {
                return Err(PaymentsError::GroupNotFound)
            }
            Err(err) => return Err(err.into()),
        };
        // Another customer's group does not exist for this one.
        if payable.customer_id != actor.user_id {
            return Err(PaymentsError::GroupNotFound);
        }
        if payable.paid {
            return Err(PaymentsError::AlreadyPaid);
        }
        if payable.orders.is_empty() || payable.amount <= 0 {
            return Err(PaymentsError::NothingToPay);
        }
        if payable.expires_at.millis() <= Timestamp::now().millis() {
            return Err(PaymentsError::WindowClosed);
        }
        let id = kernel::new_id();
        // The provider is asked before any transaction opens: no lock is held across the network.
        let initiated = provider
            .initiate(&PaymentIntent {
                payment_id: id,
                group_number: &payable.group_number,
                amount: payable.amount,
                currency: payable.currency,
                expires_at: payable.expires_at,
            })
            .await?;
        let now = Timestamp::now();
        let row = PaymentRow {
            id,
            order_group_id: payable.group_id,
            customer_id: actor.user_id,
            provider: provider.name().to_owned(),
            amount: payable.amount,
            currency: payable.currency.code().to_owned(),
            orders: to_json(&payable.orders)?,
            provider_reference: initiated.provider_reference,
            instructions: to_json(&initiated.instructions)?,
            created_at: now.millis(),
        };
        let mut tx = self.ctx.db.begin().await?;
        store::insert_payment(&mut tx, &row).await?;
        store::append(
            &mut tx,
            id,
            1,
            TxKind::Initiated.as_str(),
            0,
            &row.currency,
            None,
            None,
            now,
        )
        .await?;
        let view = view(
            &row,
            &[TxRow {
                seq: 1,
                kind: TxKind::Initiated.as_str().to_owned(),
                amount: 0,
                currency: row.currency.clone(),
                reference: None,
                detail: None,
                created_at: now.millis(),
            }],
        )?;
        if let Some(attempt) = attempt {
            if !idempotency::complete(&mut tx, attempt, StatusCode::CREATED, &view).await? {
                return Err(PaymentsError::Contended);
            }
        }
        tx.commit().await?;
        Ok(view)
    }

    async fn visible(&self, actor: &Actor, id: Uuid) -> Result<PaymentRow> {
        let row = store::payment(&self.ctx.db, id)
            .await?
            .ok_or(PaymentsError::NotFound)?;
        let own = actor.kind == ActorKind::User && actor.user_id == row.customer_id;
        if !own && !actor.can(Permission::AdminPayments) {
            return Err(PaymentsError::NotFound);
        }
        Ok(row)
    }

    pub async fn get(&self, actor: &Actor, id: Uuid) -> Result<Payment> {
        let row = self.visible(actor, id).await?;
        let txs = store::transactions(&self.ctx.db, id).await?;
        view(&row, &txs)
    }

    pub async fn instructions(&self, actor: &Actor, id: Uuid) -> Result<Instructions> {
        let row = self.visible(actor, id).await?;
        serde_json::from_str(&row.instructions).map_err(|e| PaymentsError::Corrupt(e.to_string()))
    }

    pub async fn of_group(&self, actor: &Actor, group_id: Uuid) -> Result<Vec<Payment>> {
        let rows = store::payments_of_group(&self.ctx.db, group_id).await?;
        let mut views = Vec::new();
        for row in rows {
            let own = actor.kind == ActorKind::User && actor.user_id == row.customer_id;
            if own || actor.can(Permission::AdminPayments) {
                let txs = store::transactions(&self.ctx.db, row.id).await?;
                views.push(view(&row, &txs)?);
            }
        }
        Ok(views)
    }

    // ---- provider reports ----

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
            .apply_report(provider_impl.name(), &report, &payload)
            .await?;
        Ok(WebhookAck { outcome })
    }

    /// Applies a verified report in one transaction: the report is recorded once, the log gets
    /// at most one forward entry, and the matching event is published.
    async fn apply_report(&self, provider: &str, report: &Report, payload: &str) -> Result<String> {
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
                Ok(outcome) => {
                    if outcome != "duplicate" {
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

    async fn apply_to(
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
                        if self.apply_report(name, &report, &payload).await? == "applied" {
                            settled += 1;
                        }
                    }
                    Ok(None) => {}
                    Err(err) => tracing::warn!(payment = %row.id, error = %err, "poll failed"),
                }
            }
        }
        Ok(settled)
    }

    // ---- refunds ----

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
    async fn request_refund(
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
                self.append_settlement(&payment, job, TxKind::RefundFailed, &err.to_string())
                    .await?;
                return Ok(());
            }
            Err(err) => return Err(err.into()),
        };
        match outcome {
            RefundOutcome::Succeeded { reference } => {
                self.append_settlement(&payment, job, TxKind::Refunded, &reference)
                    .await
            }
            RefundOutcome::Manual { note } => {
                tracing::warn!(payment = %payment.id, refund = %job.refund_id, note = %note, "refund needs an operator");
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
        self.append_settlement(
            &payment,
            &job,
            TxKind::Refunded,
            &format!("manual:{reference}"),
        )
        .await?;
        let rows = store::transactions(&self.ctx.db, id).await?;
        view(&payment, &rows)
    }

    async fn append_settlement(
        &self,
        payment: &PaymentRow,
        job: &RefundJob,
        kind: TxKind,
        provider_reference: &str,
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
            if kind == TxKind::Refunded {
                publish(
                    &mut tx,
                    &PaymentRefunded {
                        payment_id: payment.id,
                        order_group_id: payment.order_group_id,
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

    // ---- the simulator ----

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

async fn publish<E: DomainEvent>(tx: &mut Tx, event: &E) -> Result<()> {
    bus::publish(tx, SOURCE, event).await?;
    Ok(())
}

fn invalid(field: &str, message: &str) -> PaymentsError {
    PaymentsError::Invalid(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

fn to_json(value: &impl Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| PaymentsError::Corrupt(e.to_string()))
}

fn parse_currency(text: &str) -> Result<Currency> {
    Currency::parse(text).ok_or_else(|| PaymentsError::Corrupt(format!("currency {text}")))
}

fn entries(rows: &[TxRow]) -> Result<Vec<Entry>> {
    rows.iter()
        .map(|r| {
            let kind = TxKind::parse(&r.kind)
                .ok_or_else(|| PaymentsError::Corrupt(format!("kind {}", r.kind)))?;
            Ok(Entry {
                kind,
                amount: r.amount,
                reference: r.reference.clone(),
                scope: (kind == TxKind::RefundRequested).then(|| recorded_scope(r)),
            })
        })
        .collect()
}

/// The scope a refund request was recorded with (its detail: `scope`, `orderId`, `reason`).
fn recorded_scope(row: &TxRow) -> RefundScope {
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
fn admin_scope(
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

fn paid_orders(payment: &PaymentRow) -> Result<Vec<PayableOrder>> {
    serde_json::from_str(&payment.orders).map_err(|e| PaymentsError::Corrupt(e.to_string()))
}

fn record_of(row: &PaymentRow) -> Result<PaymentRecord> {
    Ok(PaymentRecord {
        id: row.id,
        provider_reference: row.provider_reference.clone(),
        amount: row.amount,
        currency: parse_currency(&row.currency)?,
        created_at: Timestamp::from_millis(row.created_at),
    })
}

fn view(row: &PaymentRow, txs: &[TxRow]) -> Result<Payment> {
    let state = State::fold(&entries(txs)?);
    let currency = parse_currency(&row.currency)?;
    Ok(Payment {
        id: row.id,
        order_group_id: row.order_group_id,
        customer_id: row.customer_id,
        method: row.provider.clone(),
        amount: row.amount,
        currency,
        status: state.status(),
        captured: state.captured,
        refunded: state.refunded,
        refund_pending: state.refund_requested - state.refunded,
        provider_reference: row.provider_reference.clone(),
        created_at: Timestamp::from_millis(row.created_at),
        transactions: txs
            .iter()
            .map(|t| {
                Ok(Transaction {
                    seq: t.seq,
                    kind: TxKind::parse(&t.kind)
                        .ok_or_else(|| PaymentsError::Corrupt(t.kind.clone()))?,
                    amount: t.amount,
                    currency: parse_currency(&t.currency)?,
                    reference: t.reference.clone(),
                    detail: t
                        .detail
                        .as_deref()
                        .and_then(|d| serde_json::from_str(d).ok()),
                    created_at: Timestamp::from_millis(t.created_at),
                })
            })
            .collect::<Result<Vec<_>>>()?,
    })
}
