//! payments: payments of order groups through providers behind one trait (simulator, KHQR,
//! ABA PayWay, Wing, Pi Pay, bank transfer, Midtrans, Xendit), an append-only transaction log
//! per payment, verified and deduplicated webhooks, polling for KHQR, bank transfers verified
//! by admins, and refunds through the provider or settled by hand.

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

pub use service::{Payments, PaymentsError, RefundJob};

static MIGRATIONS: [Migration; 2] = [
    platform::migration!(1, "0001_payments.sql"),
    platform::migration!(2, "0002_manual.sql"),
];

pub fn module() -> Module {
    Module::new("payments", &MIGRATIONS, build)
        .configured::<config::PaymentsConfig>()
        .answers(kernel::call::codes::<payments_contract::PaymentsCode>)
        .publishes(payments_contract::events)
}

fn build(ctx: &Context) -> ModuleParts {
    let payments = Payments::new(ctx.clone());
    let simulator_on = ctx
        .config
        .section_or_default::<crate::config::PaymentsConfig>()
        .simulator
        .enabled;
    ModuleParts {
        routes: http::router(payments.clone()),
        subscriptions: events::subscriptions(payments.clone()),
        jobs: vec![
            JobSpec {
                name: service::REFUND_JOB,
                schedule: None,
                max_attempts: service::REFUND_ATTEMPTS,
                handler: Arc::new(ExecuteRefund(payments.clone())),
            },
            JobSpec {
                name: "payments.poll_providers",
                schedule: Some("*/5 * * * * *".into()),
                max_attempts: 1,
                handler: Arc::new(PollProviders(payments.clone())),
            },
            JobSpec {
                name: service::REMIND_JOB,
                schedule: Some("0 */5 * * * *".into()),
                max_attempts: 1,
                handler: Arc::new(RemindOperators(payments)),
            },
        ],
        on_start: simulator_on.then(|| -> platform::module::StartHook {
            Box::pin(async {
                tracing::warn!(
                    "the payment simulator is on: anyone can approve or decline any payment \
                     through its pages; turn it off in production \
                     (payments.simulator.enabled = false)"
                );
                Ok(())
            })
        }),
    }
}

/// Carries one refund to its provider (retried with backoff).
struct ExecuteRefund(Arc<Payments>);

#[async_trait]
impl JobHandler for ExecuteRefund {
    async fn run(&self, job: &JobRun) -> Result<(), BoxError> {
        let refund: RefundJob = serde_json::from_value(job.payload.clone())?;
        let last_attempt = job.attempt >= service::REFUND_ATTEMPTS;
        self.0.execute_refund(&refund, last_attempt).await?;
        Ok(())
    }
}

/// Every 5 s: asks providers without webhooks (KHQR) about open payments.
struct PollProviders(Arc<Payments>);

#[async_trait]
impl JobHandler for PollProviders {
    async fn run(&self, _job: &JobRun) -> Result<(), BoxError> {
        let settled = self.0.poll_open().await?;
        if settled > 0 {
            tracing::info!(settled, "payments settled by polling");
        }
        Ok(())
    }
}

/// Every 5 minutes: reminds admins of bank transfers to verify and refunds to pay back that
/// have waited too long.
struct RemindOperators(Arc<Payments>);

#[async_trait]
impl JobHandler for RemindOperators {
    async fn run(&self, _job: &JobRun) -> Result<(), BoxError> {
        if self.0.remind_operators().await? {
            tracing::info!("admins reminded of payments awaiting an operator");
        }
        Ok(())
    }
}
