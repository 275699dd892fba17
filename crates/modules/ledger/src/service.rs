//! ledger's use cases: posting money events, balances and statements, payout runs.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use kernel::{
    Actor, ApiError, FieldError, MerchantPermission, Page, PageQuery, Permission, Timestamp,
};
use platform::db::Tx;
use platform::Context;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::*;
use crate::domain::{self, Account, Kind, Transfer};
use crate::providers::{self, BankSimulator, PayoutProvider, PayoutProviderError};
use crate::store::{self, EarningRow, PayoutRow};
use merchants_contract::MerchantsClient;

pub const SOURCE: &str = "ledger";
pub const PAYOUT_JOB: &str = "ledger.execute_payout";
pub const PAYOUT_ATTEMPTS: i32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("payout run of {0} already started")]
    RunExists(String),
    #[error("payout not found")]
    PayoutNotFound,
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("events: {0}")]
    Bus(#[from] platform::bus::BusError),
    #[error("jobs: {0}")]
    Job(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<LedgerError> for ApiError {
    fn from(err: LedgerError) -> Self {
        match err {
            LedgerError::Invalid(errors) => ApiError::validation(errors),
            LedgerError::RunExists(period) => ApiError::conflict(
                "payout_run_exists",
                format!("The payout run of {period} was already started"),
            )
            .with_extension("period", serde_json::json!(period)),
            LedgerError::PayoutNotFound => {
                ApiError::not_found("payout_not_found", "No such payout")
            }
            LedgerError::Forbidden(detail) => ApiError::forbidden(detail),
            LedgerError::Database(_)
            | LedgerError::Bus(_)
            | LedgerError::Job(_)
            | LedgerError::Corrupt(_) => {
                tracing::error!(error = %err, "ledger failure");
                ApiError::internal()
            }
        }
    }
}

pub type Result<T> = std::result::Result<T, LedgerError>;

/// The job that carries one payout to the bank.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayoutJob {
    pub payout_id: Uuid,
}

pub struct Ledger {
    pub ctx: Context,
    pub config: crate::config::LedgerConfig,
    provider: Box<dyn PayoutProvider>,
    merchants: MerchantsClient,
}

impl Ledger {
    pub fn new(ctx: Context) -> Arc<Self> {
        let provider = Box::new(BankSimulator);
        Arc::new(Self {
            merchants: MerchantsClient::new(ctx.services.clone(), SOURCE),
            config: ctx.config.section_or_default(),
            ctx,
            provider,
        })
    }

    /// Posts one balanced transaction in the caller's transaction. A cause posted before
    /// (same kind and reference) is not posted again.
    pub async fn post(
        &self,
        tx: &mut Tx,
        kind: Kind,
        reference: &str,
        currency: &str,
        memo: &str,
        transfers: &[Transfer],
    ) -> Result<bool> {
        post(tx, kind, reference, currency, memo, transfers).await
    }

    /// Goods delivered: the merchant's earning (`earning.credit_at` is set here), credited
    /// now or when the hold ends.
    pub async fn on_delivered(&self, tx: &mut Tx, earning: EarningRow) -> Result<()> {
        if earning.amount <= 0 && earning.promotion_funded <= 0 {
            return Ok(());
        }
        let now = Timestamp::now();
        let hold = self.config.delivery_hold_days * 86_400;
        let row = EarningRow {
            credit_at: now.plus_seconds(hold).millis(),
            ..earning
        };
        if store::insert_earning(tx, &row, now).await? && hold <= 0 {
            credit_earning(tx, &row, now).await?;
        }
        Ok(())
    }

    /// Goods returned: a held earning is cancelled, a credited one reversed.
    pub async fn on_returned(&self, tx: &mut Tx, order_id: Uuid) -> Result<()> {
        let now = Timestamp::now();
        let Some(row) = store::earning(tx, order_id).await? else {
            return Ok(());
        };
        if store::move_earning(tx, order_id, "HELD", "CANCELLED", now).await? {
            return Ok(());
        }
        if store::move_earning(tx, order_id, "CREDITED", "REVERSED", now).await? {
            post(
                tx,
                Kind::OrderReturned,
                &order_id.to_string(),
                &row.currency,
                &format!("order {order_id} returned"),
                &domain::reversal(
                    row.merchant_id,
                    row.amount,
                    row.commission,
                    row.promotion_funded,
                ),
            )
            .await?;
        }
        Ok(())
    }

    /// Credits the earnings whose hold has ended (the `ledger.credit_held` job).
    pub async fn credit_due(&self) -> Result<usize> {
        let now = Timestamp::now();
        let due = store::due_earnings(&self.ctx.db, now, 200).await?;
        let mut credited = 0;
        for row in due {
            let mut tx = self.ctx.db.begin().await?;
            if store::move_earning(&mut tx, row.order_id, "HELD", "CREDITED", now).await? {
                post_earning(&mut tx, &row).await?;
                credited += 1;
            }
            tx.commit().await?;
        }
        Ok(credited)
    }

    pub async fn balance(&self, actor: &Actor, merchant_id: Uuid) -> Result<MerchantBalance> {
        may_see(actor, merchant_id)?;
        let payable = Account::MerchantPayable(merchant_id).code();
        let transit = Account::PayoutsInTransit(merchant_id).code();
        let rows = store::balances_of(&self.ctx.db, &payable, &transit).await?;
        let held = store::held_of(&self.ctx.db, merchant_id).await?;
        let mut by_currency: BTreeMap<String, CurrencyBalance> = BTreeMap::new();
        fn entry<'a>(
            map: &'a mut BTreeMap<String, CurrencyBalance>,
            currency: &str,
        ) -> &'a mut CurrencyBalance {
            map.entry(currency.to_owned())
                .or_insert_with(|| CurrencyBalance {
                    currency: currency.to_owned(),
                    available: 0,
                    in_transit: 0,
                    held: 0,
                })
        }
        for (account, currency, balance) in rows {
            let line = entry(&mut by_currency, &currency);
            if account == payable {
                line.available = balance;
            } else {
                line.in_transit = balance;
            }
        }
        for (currency, amount) in held {
            entry(&mut by_currency, &currency).held = amount;
        }
        let balances = by_currency.into_values().collect();
        Ok(MerchantBalance {
            merchant_id,
            balances,
        })
    }

    pub async fn statement(
        &self,
        actor: &Actor,
        merchant_id: Uuid,
        query: &StatementQuery,
    ) -> Result<Statement> {
        may_see(actor, merchant_id)?;
        let mut errors = Vec::new();
        let to = parse_time(query.to.as_deref(), "to", &mut errors).unwrap_or_else(Timestamp::now);
        let from = parse_time(query.from.as_deref(), "from", &mut errors)
            .unwrap_or_else(|| to.plus_seconds(-30 * 86_400));
        if from.millis() > to.millis() {
            errors.push(FieldError {
                field: "from".into(),
                message: "must not be after `to`".into(),
            });
        }
        if !errors.is_empty() {
            return Err(LedgerError::Invalid(errors));
        }
        let account = Account::MerchantPayable(merchant_id).code();
        let opening = store::balance_before(&self.ctx.db, &account, from).await?;
        let rows = store::entries(&self.ctx.db, &account, from, to).await?;
        let mut currencies: Vec<CurrencyStatement> = opening
            .into_iter()
            .map(|(currency, balance)| CurrencyStatement {
                currency,
                opening_balance: balance,
                closing_balance: balance,
                entries: Vec::new(),
            })
            .collect();
        for row in rows {
            let i = match currencies.iter().position(|c| c.currency == row.currency) {
                Some(i) => i,
                None => {
                    currencies.push(CurrencyStatement {
                        currency: row.currency.clone(),
                        opening_balance: 0,
                        closing_balance: 0,
                        entries: Vec::new(),
                    });
                    currencies.len() - 1
                }
            };
            let statement = &mut currencies[i];
            statement.closing_balance += row.amount;
            statement.entries.push(StatementEntry {
                at: Timestamp::from_millis(row.created_at),
                transaction_id: row.transaction_id,
                kind: row.kind,
                memo: row.memo,
                amount: row.amount,
                balance: statement.closing_balance,
            });
        }
        if let Some(only) = &query.currency {
            currencies.retain(|c| &c.currency == only);
        }
        currencies.sort_by(|a, b| a.currency.cmp(&b.currency));
        Ok(Statement {
            merchant_id,
            from,
            to,
            currencies,
        })
    }

    /// Every account's balance per currency; each currency's total is zero.
    pub async fn trial_balance(&self, actor: &Actor) -> Result<Vec<TrialBalance>> {
        if !actor.can(Permission::AdminPayments) {
            return Err(LedgerError::Forbidden("the trial balance is for admins"));
        }
        let mut out: Vec<TrialBalance> = Vec::new();
        for (account, currency, balance) in store::all_balances(&self.ctx.db).await? {
            if out.last().is_none_or(|t| t.currency != currency) {
                out.push(TrialBalance {
                    currency: currency.clone(),
                    total: 0,
                    accounts: Vec::new(),
                });
            }
            if let Some(last) = out.last_mut() {
                last.total += balance;
                last.accounts.push(AccountBalance { account, balance });
            }
        }
        Ok(out)
    }

    /// Starts the payout run of a period: per merchant and currency, the available balance
    /// at or above the minimum moves to "in transit" and a payout job is queued, all in one
    /// transaction. A period runs once: a second start is refused.
    pub async fn start_run(&self, period: Option<String>, started_by: &str) -> Result<PayoutRun> {
        let now = Timestamp::now();
        let period = match period {
            Some(p) if domain::valid_period(&p) => p,
            Some(_) => {
                return Err(LedgerError::Invalid(vec![FieldError {
                    field: "period".into(),
                    message: "must be an ISO week like 2026-W48".into(),
                }]))
            }
            None => domain::period_of(now.to_datetime()),
        };
        let minimum = self.config.payout_minimum.max(1);
        let mut tx = self.ctx.db.begin().await?;
        if !store::insert_run(&mut tx, &period, started_by, now).await? {
            return Err(LedgerError::RunExists(period));
        }
        let mut count = 0;
        for (account, currency, balance) in
            store::balances_for_update(&mut tx, "merchant_payable:").await?
        {
            if balance < minimum {
                continue;
            }
            let Some(merchant_id) = account
                .strip_prefix("merchant_payable:")
                .and_then(|id| Uuid::parse_str(id).ok())
            else {
                return Err(LedgerError::Corrupt(format!("account {account}")));
            };
            let row = PayoutRow {
                id: kernel::new_id(),
                period: period.clone(),
                merchant_id,
                currency: currency.clone(),
                amount: balance,
                status: PayoutStatus::Pending.as_str().into(),
                attempts: 0,
                provider_reference: None,
                failure_reason: None,
                created_at: now.millis(),
                updated_at: now.millis(),
            };
            store::insert_payout(&mut tx, &row).await?;
            post(
                &mut tx,
                Kind::Payout,
                &row.id.to_string(),
                &currency,
                &format!("payout {period}"),
                &[Transfer {
                    from: Account::MerchantPayable(merchant_id),
                    to: Account::PayoutsInTransit(merchant_id),
                    amount: balance,
                }],
            )
            .await?;
            let job = serde_json::to_value(PayoutJob { payout_id: row.id })
                .map_err(|e| LedgerError::Job(e.to_string()))?;
            platform::jobs::enqueue(&mut tx, PAYOUT_JOB, &job, now, PAYOUT_ATTEMPTS).await?;
            count += 1;
        }
        store::set_run_count(&mut tx, &period, count).await?;
        tx.commit().await?;
        tracing::info!(%period, payouts = count, "payout run started");
        self.run(&period).await
    }

    pub async fn run(&self, period: &str) -> Result<PayoutRun> {
        let run = store::run(&self.ctx.db, period)
            .await?
            .ok_or(LedgerError::PayoutNotFound)?;
        let payouts = store::payouts_of_run(&self.ctx.db, period).await?;
        Ok(PayoutRun {
            period: run.period,
            started_by: run.started_by,
            started_at: Timestamp::from_millis(run.started_at),
            payouts: payouts.into_iter().map(view).collect::<Result<_>>()?,
        })
    }

    /// Sends one payout to the bank. On success the money leaves "in transit"; after the last
    /// failed attempt it goes back to the merchant's balance for the next run.
    pub async fn execute_payout(&self, payout_id: Uuid, last_attempt: bool) -> Result<()> {
        let Some(row) = store::payout(&self.ctx.db, payout_id).await? else {
            return Err(LedgerError::PayoutNotFound);
        };
        if row.status != PayoutStatus::Pending.as_str() {
            return Ok(());
        }
        let now = Timestamp::now();
        store::count_attempt(&self.ctx.db, payout_id, now).await?;
        // Read at each attempt: an owner who adds or fixes the account is paid on the retry.
        let account = self
            .merchants
            .payout_account(row.merchant_id)
            .await
            .map_err(|e| LedgerError::Job(e.to_string()))?;
        let outcome = match account.account {
            None => Err(PayoutProviderError::Rejected(
                "the merchant has no bank account on file".into(),
            )),
            Some(destination) => {
                let transfer = providers::Transfer {
                    payout_id,
                    merchant_id: row.merchant_id,
                    currency: row.currency.clone(),
                    amount: row.amount,
                    destination,
                };
                self.provider.transfer(&transfer).await
            }
        };
        let mut tx = self.ctx.db.begin().await?;
        match outcome {
            Ok(reference) => {
                if store::settle_payout(&mut tx, payout_id, "PAID", Some(&reference), None, now)
                    .await?
                {
                    post(
                        &mut tx,
                        Kind::PayoutSettled,
                        &payout_id.to_string(),
                        &row.currency,
                        &format!("payout {} sent by {}", row.period, self.provider.name()),
                        &[Transfer {
                            from: Account::PayoutsInTransit(row.merchant_id),
                            to: Account::GatewayReceivable,
                            amount: row.amount,
                        }],
                    )
                    .await?;
                    platform::bus::publish(&mut tx, SOURCE, &PayoutPaid(fact(&row, None))).await?;
                }
            }
            Err(err) if last_attempt => {
                let reason = err.to_string();
                if store::settle_payout(&mut tx, payout_id, "FAILED", None, Some(&reason), now)
                    .await?
                {
                    post(
                        &mut tx,
                        Kind::PayoutFailed,
                        &payout_id.to_string(),
                        &row.currency,
                        &format!("payout {} failed: {reason}", row.period),
                        &[Transfer {
                            from: Account::PayoutsInTransit(row.merchant_id),
                            to: Account::MerchantPayable(row.merchant_id),
                            amount: row.amount,
                        }],
                    )
                    .await?;
                    platform::bus::publish(
                        &mut tx,
                        SOURCE,
                        &PayoutFailed(fact(&row, Some(reason))),
                    )
                    .await?;
                }
            }
            Err(err) => {
                tx.rollback().await?;
                return Err(LedgerError::Job(err.to_string()));
            }
        }
        self.ctx.commit(tx).await?;
        Ok(())
    }

    pub async fn payouts(&self, actor: &Actor, query: &PayoutQuery) -> Result<Page<Payout>> {
        match query.merchant_id {
            Some(merchant) => may_see(actor, merchant)?,
            None if actor.can(Permission::AdminPayments) => {}
            None => {
                return Err(LedgerError::Invalid(vec![FieldError {
                    field: "merchantId".into(),
                    message: "is required for merchant staff".into(),
                }]))
            }
        }
        let page = PageQuery {
            limit: query.limit,
            cursor: query.cursor.clone(),
        };
        let after = page
            .id_cursor()
            .map_err(|e| LedgerError::Invalid(e.errors))?;
        let limit = page.limit();
        let rows = store::list_payouts(
            &self.ctx.db,
            query.merchant_id,
            query.period.as_deref(),
            query.status.map(PayoutStatus::as_str),
            after,
            i64::from(limit) + 1,
        )
        .await?;
        let items = rows.into_iter().map(view).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, limit, |p| p.id.to_string()))
    }
}

/// Writes a transaction and its transfers and moves the running balances.
async fn post(
    tx: &mut Tx,
    kind: Kind,
    reference: &str,
    currency: &str,
    memo: &str,
    transfers: &[Transfer],
) -> Result<bool> {
    if transfers.is_empty() {
        return Ok(false);
    }
    let now = Timestamp::now();
    let id = kernel::new_id();
    if !store::insert_transaction(tx, id, kind.as_str(), reference, currency, memo, now).await? {
        return Ok(false);
    }
    for (seq, transfer) in (1..).zip(transfers) {
        let (debit, credit) = (transfer.from.code(), transfer.to.code());
        store::insert_transfer(tx, id, seq, &debit, &credit, transfer.amount, currency, now)
            .await?;
        store::add_to_balance(tx, &debit, currency, -transfer.amount, now).await?;
        store::add_to_balance(tx, &credit, currency, transfer.amount, now).await?;
    }
    Ok(true)
}

async fn credit_earning(tx: &mut Tx, row: &EarningRow, now: Timestamp) -> Result<()> {
    if store::move_earning(tx, row.order_id, "HELD", "CREDITED", now).await? {
        post_earning(tx, row).await?;
    }
    Ok(())
}

async fn post_earning(tx: &mut Tx, row: &EarningRow) -> Result<()> {
    post(
        tx,
        Kind::OrderEarned,
        &row.order_id.to_string(),
        &row.currency,
        &format!("order {} delivered", row.order_id),
        &domain::earning(
            row.merchant_id,
            row.amount,
            row.commission,
            row.promotion_funded,
        ),
    )
    .await?;
    Ok(())
}

/// Balances, statements and payouts: the merchant's owner and managers, and admins.
fn may_see(actor: &Actor, merchant_id: Uuid) -> Result<()> {
    if actor.can(Permission::AdminPayments)
        || actor.is_staff_with(merchant_id, MerchantPermission::ViewBalance)
    {
        return Ok(());
    }
    Err(LedgerError::Forbidden(
        "only the merchant's owner and managers see its money",
    ))
}

fn parse_time(raw: Option<&str>, field: &str, errors: &mut Vec<FieldError>) -> Option<Timestamp> {
    let raw = raw?;
    match DateTime::parse_from_rfc3339(raw) {
        Ok(at) => Some(Timestamp::from(at.with_timezone(&Utc))),
        Err(_) => {
            errors.push(FieldError {
                field: field.into(),
                message: "must be an RFC 3339 time".into(),
            });
            None
        }
    }
}

fn fact(row: &PayoutRow, reason: Option<String>) -> PayoutFact {
    PayoutFact {
        payout_id: row.id,
        merchant_id: row.merchant_id,
        period: row.period.clone(),
        currency: row.currency.clone(),
        amount: row.amount,
        reason,
    }
}

fn view(row: PayoutRow) -> Result<Payout> {
    let status = PayoutStatus::parse(&row.status)
        .ok_or_else(|| LedgerError::Corrupt(format!("payout status {}", row.status)))?;
    Ok(Payout {
        id: row.id,
        period: row.period,
        merchant_id: row.merchant_id,
        currency: row.currency,
        amount: row.amount,
        status,
        attempts: row.attempts,
        provider_reference: row.provider_reference,
        failure_reason: row.failure_reason,
        created_at: Timestamp::from_millis(row.created_at),
        updated_at: Timestamp::from_millis(row.updated_at),
    })
}
