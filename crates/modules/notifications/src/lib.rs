//! notifications: turns events into messages on the in-app, email, SMS and push channels.

pub mod api;
mod channels;
pub mod config;
pub mod domain;
mod events;
mod http;
mod service;
mod store;
mod templates;

use std::sync::Arc;

use async_trait::async_trait;
use platform::bus::BoxError;
use platform::jobs::{JobHandler, JobRun, JobSpec};
use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};

pub use service::Notifications;

static MIGRATIONS: [Migration; 4] = [
    platform::migration!(1, "0001_notifications.sql"),
    platform::migration!(2, "0002_merchant_owners.sql"),
    platform::migration!(3, "0003_commerce.sql"),
    platform::migration!(4, "0004_admins.sql"),
];

pub fn module() -> Module {
    Module::new("notifications", &MIGRATIONS, build)
        .configured::<config::NotificationsConfig>()
        .answers(kernel::call::codes::<notifications_contract::NotificationsCode>)
}

fn build(ctx: &Context) -> ModuleParts {
    let notifications = Arc::new(Notifications::new(ctx.clone()));
    let max_attempts = ctx
        .config
        .section_or_default::<crate::config::NotificationsConfig>()
        .max_attempts
        .max(1);
    ModuleParts {
        routes: http::router(notifications.clone()),
        subscriptions: events::subscriptions(notifications.clone()),
        jobs: vec![
            JobSpec {
                name: service::DELIVER_JOB,
                schedule: None,
                max_attempts,
                handler: Arc::new(Deliver(notifications.clone())),
            },
            JobSpec {
                name: service::SEND_SCHEDULED_JOB,
                schedule: None,
                max_attempts,
                handler: Arc::new(SendScheduled(notifications)),
            },
        ],
        on_start: None,
    }
}

struct Deliver(Arc<Notifications>);

#[async_trait]
impl JobHandler for Deliver {
    async fn run(&self, job: &JobRun) -> Result<(), BoxError> {
        self.0.deliver(job).await
    }
}

struct SendScheduled(Arc<Notifications>);

#[async_trait]
impl JobHandler for SendScheduled {
    async fn run(&self, job: &JobRun) -> Result<(), BoxError> {
        self.0.send_scheduled(job).await
    }
}
