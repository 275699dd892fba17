//! ledger: double-entry bookkeeping of every money movement (captures, earnings on delivery
//! and redemption, refunds, breakage, payouts), merchant balances and statements, and the
//! weekly payout run.

pub mod api;
pub mod config;
pub mod domain;
mod events;
mod http;
pub mod providers;
mod service;
mod store;

use std::sync::Arc;

use async_trait::async_trait;
use platform::bus::BoxError;
use platform::jobs::{JobHandler, JobRun, JobSpec};
use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};

pub use service::{Ledger, LedgerError, PayoutJob};

static MIGRATIONS: [Migration; 2] = [
    platform::migration!(1, "0001_ledger.sql"),
    platform::migration!(2, "0002_promotion_funded.sql"),
];

pub fn module() -> Module {
    Module::new("ledger", &MIGRATIONS, build)
        .configured::<config::LedgerConfig>()
        .answers(kernel::call::codes::<ledger_contract::LedgerCode>)
        .publishes(ledger_contract::events)
}

fn build(ctx: &Context) -> ModuleParts {
    let ledger = Ledger::new(ctx.clone());
    ModuleParts {
        routes: http::router(ledger.clone()),
        subscriptions: events::subscriptions(ledger.clone()),
        jobs: vec![
            JobSpec {
                name: "ledger.payout_run",
                schedule: Some(
                    ctx.config
                        .section_or_default::<crate::config::LedgerConfig>()
                        .payout_schedule
                        .clone(),
                ),
                max_attempts: 3,
                handler: Arc::new(PayoutRun(ledger.clone())),
            },
            JobSpec {
                name: service::PAYOUT_JOB,
                schedule: None,
                max_attempts: service::PAYOUT_ATTEMPTS,
                handler: Arc::new(ExecutePayout(ledger.clone())),
            },
            JobSpec {
                name: "ledger.credit_held",
                schedule: Some("0 * * * * *".into()),
                max_attempts: 1,
                handler: Arc::new(CreditHeld(ledger)),
            },
        ],
        on_start: None,
    }
}

/// Weekly (configurable): pays every merchant's available balance.
struct PayoutRun(Arc<Ledger>);

#[async_trait]
impl JobHandler for PayoutRun {
    async fn run(&self, _job: &JobRun) -> Result<(), BoxError> {
        match self.0.start_run(None, "schedule").await {
            Ok(_) | Err(LedgerError::RunExists(_)) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }
}

/// Carries one payout to the bank (retried with backoff).
struct ExecutePayout(Arc<Ledger>);

#[async_trait]
impl JobHandler for ExecutePayout {
    async fn run(&self, job: &JobRun) -> Result<(), BoxError> {
        let payout: PayoutJob = serde_json::from_value(job.payload.clone())?;
        let last_attempt = job.attempt >= service::PAYOUT_ATTEMPTS;
        self.0
            .execute_payout(payout.payout_id, last_attempt)
            .await?;
        Ok(())
    }
}

/// Every minute: credits delivered goods whose hold period ended.
struct CreditHeld(Arc<Ledger>);

#[async_trait]
impl JobHandler for CreditHeld {
    async fn run(&self, _job: &JobRun) -> Result<(), BoxError> {
        let credited = self.0.credit_due().await?;
        if credited > 0 {
            tracing::info!(credited, "held earnings credited");
        }
        Ok(())
    }
}
