//! search: an embedded tantivy index over listed products and public voucher offers, in
//! English, Khmer and Indonesian, with typo tolerance, synonyms, facets, geo radius and
//! autocomplete. Each process running search keeps its own index, fed from a change log
//! that events fill.

pub mod analysis;
pub mod api;
pub mod config;
mod events;
mod feed;
mod geo;
mod http;
mod index;
mod query;
mod service;
mod store;
mod suggest;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use catalog_contract::CatalogClient;
use inventory_contract::InventoryClient;
use platform::bus::BoxError;
use platform::jobs::{JobHandler, JobRun, JobSpec};
use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};
use vouchers_contract::VouchersClient;

pub use service::{Search, SearchError};

use crate::config::SearchConfig;
use crate::feed::sources::Sources;
use crate::feed::Indexer;
use crate::index::SearchIndex;
use crate::suggest::Suggestions;

static MIGRATIONS: [Migration; 1] = [platform::migration!(1, "0001_search.sql")];

const SOURCE: &str = "search";

pub fn module() -> Module {
    Module::new("search", &MIGRATIONS, build)
        .configured::<SearchConfig>()
        .answers(kernel::call::codes::<search_contract::SearchCode>)
}

fn build(ctx: &Context) -> ModuleParts {
    let config: SearchConfig = ctx.config.section_or_default();
    let dir = if config.dir.trim().is_empty() {
        ctx.config.data_dir.join("search")
    } else {
        PathBuf::from(config.dir.trim())
    };
    let index = Arc::new(SearchIndex::new(
        dir,
        config.writer_memory_mb.clamp(16, 1024),
    ));
    let sources = Sources {
        db: ctx.db.clone(),
        catalog: CatalogClient::new(ctx.services.clone(), SOURCE),
        vouchers: VouchersClient::new(ctx.services.clone(), SOURCE),
        inventory: InventoryClient::new(ctx.services.clone(), SOURCE),
    };
    let indexer = Arc::new(Indexer::new(
        index,
        Arc::new(Suggestions::default()),
        sources,
        Duration::from_millis(config.poll_ms.clamp(10, 10_000)),
    ));
    let search = Search::new(ctx.clone(), indexer.clone());
    ModuleParts {
        routes: http::router(search.clone()),
        subscriptions: events::subscriptions(),
        jobs: vec![JobSpec {
            name: "search.prune_changes",
            schedule: Some("0 15 3 * * *".into()),
            max_attempts: 3,
            handler: Arc::new(PruneChanges(
                search,
                config.change_retention_days.clamp(1, 3650),
            )),
        }],
        // The indexer runs beside the server: a first build must not hold the start up.
        on_start: Some(Box::pin(async move {
            tokio::spawn(indexer.run());
            Ok(())
        })),
    }
}

/// Nightly: drops changes older than the retention.
struct PruneChanges(Arc<Search>, i64);

#[async_trait]
impl JobHandler for PruneChanges {
    async fn run(&self, _job: &JobRun) -> Result<(), BoxError> {
        let pruned = self.0.prune_changes(self.1).await?;
        tracing::info!(pruned, "search change log pruned");
        Ok(())
    }
}
