//! media: uploads checked by their content, images cleaned of metadata and thumbnailed, bytes
//! on local disk or an S3-compatible store, served with long cache lifetimes (public) or only
//! to those entitled (private documents), attached to products, merchants, users and reviews,
//! and unattached uploads removed after a grace period.

pub mod api;
pub mod config;
pub mod domain;
mod http;
mod service;
mod storage;
mod store;

use std::sync::Arc;

use async_trait::async_trait;
use platform::bus::BoxError;
use platform::jobs::{JobHandler, JobRun, JobSpec};
use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};

pub use service::{MediaError, MediaLibrary};

static MIGRATIONS: [Migration; 1] = [platform::migration!(1, "0001_media.sql")];

pub fn module() -> Module {
    Module::new("media", &MIGRATIONS, build)
        .configured::<config::MediaConfig>()
        .publishes(media_contract::events)
        .answers(kernel::call::codes::<media_contract::MediaCode>)
}

fn build(ctx: &Context) -> ModuleParts {
    let media = MediaLibrary::new(ctx.clone());
    let opening = media.clone();
    ModuleParts {
        routes: http::router(media.clone()),
        jobs: vec![
            JobSpec {
                name: "media.remove_orphans",
                schedule: Some("0 20 * * * *".into()),
                max_attempts: 3,
                handler: Arc::new(RemoveOrphans(media.clone())),
            },
            JobSpec {
                name: "media.empty_trash",
                schedule: Some("0 */5 * * * *".into()),
                max_attempts: 3,
                handler: Arc::new(EmptyTrash(media)),
            },
        ],
        // The store is opened (the local directory made) only when serving.
        on_start: Some(Box::pin(async move {
            opening.open_storage()?;
            Ok(())
        })),
        ..ModuleParts::default()
    }
}

/// Hourly: unattached uploads past the grace period go.
struct RemoveOrphans(Arc<MediaLibrary>);

#[async_trait]
impl JobHandler for RemoveOrphans {
    async fn run(&self, _job: &JobRun) -> Result<(), BoxError> {
        let removed = self.0.remove_orphans().await?;
        tracing::info!(removed, "orphaned uploads removed");
        Ok(())
    }
}

/// Every five minutes: objects whose rows are gone leave the store.
struct EmptyTrash(Arc<MediaLibrary>);

#[async_trait]
impl JobHandler for EmptyTrash {
    async fn run(&self, _job: &JobRun) -> Result<(), BoxError> {
        let left = self.0.empty_trash().await?;
        if left > 0 {
            tracing::warn!(left, "media objects not yet removed from the store");
        }
        Ok(())
    }
}
