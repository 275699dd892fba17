//! vouchers: offers published by merchants, issuance on payment and by claim, the wallet with
//! signed rotating QR codes, gifts, refunds, expiry, and redemption at the counter with fraud
//! scoring and an admin case queue.

pub mod api;
pub mod config;
pub mod domain;
mod events;
mod http;
pub mod qr;
mod service;
mod store;

use std::sync::Arc;

use async_trait::async_trait;
use platform::bus::BoxError;
use platform::jobs::{JobHandler, JobRun, JobSpec};
use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};

pub use service::{Vouchers, VouchersError};

static MIGRATIONS: [Migration; 4] = [
    platform::migration!(1, "0001_vouchers.sql"),
    platform::migration!(2, "0002_voided_orders.sql"),
    platform::migration!(3, "0003_promotion_funded.sql"),
    platform::migration!(4, "0004_ratings.sql"),
];

pub fn module() -> Module {
    Module::new("vouchers", &MIGRATIONS, build)
        .configured::<config::VouchersConfig>()
        // Printed codes verify until their voucher expires: retired keys are kept that long.
        .signs_offline_codes(|config| {
            let section: config::VouchersConfig = config.section_or_default();
            section.code_key_retention_days * 86_400
        })
        .answers(kernel::call::codes::<vouchers_contract::VouchersCode>)
        .publishes(vouchers_contract::events)
}

fn build(ctx: &Context) -> ModuleParts {
    let vouchers = Vouchers::new(ctx.clone());
    ModuleParts {
        routes: http::router(vouchers.clone()),
        subscriptions: events::subscriptions(vouchers.clone()),
        jobs: vec![
            JobSpec {
                name: "vouchers.expire",
                schedule: Some("30 * * * * *".into()),
                max_attempts: 1,
                handler: Arc::new(Expire(vouchers.clone())),
            },
            JobSpec {
                name: "vouchers.remind_expiring",
                schedule: Some("0 5 * * * *".into()),
                max_attempts: 1,
                handler: Arc::new(Remind(vouchers)),
            },
        ],
        on_start: None,
    }
}

/// Every minute: expires vouchers past their date.
struct Expire(Arc<Vouchers>);

#[async_trait]
impl JobHandler for Expire {
    async fn run(&self, _job: &JobRun) -> Result<(), BoxError> {
        let expired = self.0.expire_due().await?;
        if expired > 0 {
            tracing::info!(expired, "vouchers expired");
        }
        Ok(())
    }
}

/// Hourly: `voucher.expiring` for vouchers expiring within `vouchers.reminder_days`.
struct Remind(Arc<Vouchers>);

#[async_trait]
impl JobHandler for Remind {
    async fn run(&self, _job: &JobRun) -> Result<(), BoxError> {
        let reminded = self.0.remind_due().await?;
        if reminded > 0 {
            tracing::info!(reminded, "expiry reminders published");
        }
        Ok(())
    }
}
