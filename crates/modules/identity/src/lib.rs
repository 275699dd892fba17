//! identity: accounts, credentials, sessions and access tokens.

pub mod api;
pub mod domain;
mod hasher;
mod http;
pub mod oauth;
mod service;
mod store;

use std::sync::Arc;

use async_trait::async_trait;
use platform::bus::BoxError;
use platform::jobs::{JobHandler, JobRun, JobSpec};
use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};

pub use service::{Identity, IdentityError, Verify};

static MIGRATIONS: [Migration; 7] = [
    platform::migration!(1, "0001_identity.sql"),
    platform::migration!(2, "0002_addresses.sql"),
    platform::migration!(3, "0003_verification.sql"),
    platform::migration!(4, "0004_deletion.sql"),
    platform::migration!(5, "0005_oauth.sql"),
    platform::migration!(6, "0006_api_keys.sql"),
    platform::migration!(7, "0007_social.sql"),
];

pub fn module() -> Module {
    Module::new("identity", &MIGRATIONS, build)
        .answers(kernel::call::codes::<identity_contract::IdentityCode>)
        .publishes(identity_contract::events)
        .when_remote(|ctx| {
            ctx.authenticator
                .set_api_key_verifier(api::RemoteApiKeys::new(
                    ctx.services.clone(),
                    &ctx.invalidations,
                ));
        })
}

fn build(ctx: &Context) -> ModuleParts {
    let identity = Identity::new(ctx.clone());
    identity.follow_revocations();
    ctx.authenticator
        .set_api_key_verifier(Arc::new(service::ApiKeyCheck(identity.clone())));
    let warm = identity.clone();
    ModuleParts {
        routes: if ctx.config.auth.mock_oidc {
            http::router(identity.clone()).merge(http::mock_oidc::router(ctx))
        } else {
            http::router(identity.clone())
        },
        subscriptions: Vec::new(),
        jobs: vec![JobSpec {
            name: "identity.purge_expired",
            schedule: Some("0 17 * * * *".into()),
            max_attempts: 3,
            handler: Arc::new(PurgeExpired(identity)),
        }],
        on_start: Some(Box::pin(async move {
            warm.warm_denylist()
                .await
                .map_err(|e| Box::new(e) as BoxError)
        })),
    }
}

/// Hourly: drops expired tokens, sessions, denylist entries and stale failure counts.
struct PurgeExpired(Arc<Identity>);

#[async_trait]
impl JobHandler for PurgeExpired {
    async fn run(&self, _job: &JobRun) -> Result<(), BoxError> {
        let removed = self.0.purge_expired().await?;
        tracing::info!(removed, "identity purge");
        Ok(())
    }
}
