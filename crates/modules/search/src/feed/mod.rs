//! The indexer: every process running search keeps its own index, tailing the change log
//! from the position its last commit recorded, re-reading what changed from the modules
//! that own it, and committing documents and position together. A missing, unreadable or
//! too-old index is rebuilt aside and swapped in.

pub mod sources;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use platform::db::Db;
use tantivy::collector::TopDocs;
use tantivy::query::TermQuery;
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{TantivyDocument, Term};
use uuid::Uuid;

use self::sources::{Extras, SourceError, Sources};
use crate::api::{ReindexReport, ReindexStatus, SearchHit};
use crate::index::{Generation, IndexError, SearchIndex};
use crate::store;
use crate::suggest::Suggestions;

/// Changes applied per commit.
const BATCH: i64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("index task: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("a rebuild is already running")]
    Busy,
}

type Result<T> = std::result::Result<T, FeedError>;

pub struct Indexer {
    pub index: Arc<SearchIndex>,
    pub suggestions: Arc<Suggestions>,
    sources: Sources,
    poll: Duration,
    rebuilding: tokio::sync::Mutex<()>,
    /// Held while suggestions and the index change together (a step, a swap).
    applying: tokio::sync::Mutex<()>,
    status: std::sync::Mutex<ReindexStatus>,
}

fn db_closed(db: &Db) -> bool {
    match db {
        Db::Sqlite(pool, _) => pool.is_closed(),
        Db::Pg(pool) => pool.is_closed(),
    }
}

impl Indexer {
    pub fn new(
        index: Arc<SearchIndex>,
        suggestions: Arc<Suggestions>,
        sources: Sources,
        poll: Duration,
    ) -> Self {
        Self {
            index,
            suggestions,
            sources,
            poll,
            rebuilding: tokio::sync::Mutex::new(()),
            applying: tokio::sync::Mutex::new(()),
            status: std::sync::Mutex::new(ReindexStatus::default()),
        }
    }

    fn db(&self) -> &Db {
        &self.sources.db
    }

    /// Runs until the process closes its database.
    pub async fn run(self: Arc<Self>) {
        if let Err(err) = self.prepare().await {
            tracing::error!(error = %err, "search index could not be prepared; retrying");
        }
        let mut failures = 0u32;
        while !db_closed(self.db()) {
            // After repeated failures, one change at a time; a single change that keeps failing
            // (a product its owner cannot serve) is skipped, so it cannot stall every other.
            let (limit, skip) = match failures {
                0..=2 => (BATCH, false),
                3..=5 => (1, false),
                _ => (1, true),
            };
            match self.step(limit, skip).await {
                Ok(true) => failures = 0,
                Ok(false) => {
                    failures = 0;
                    tokio::time::sleep(self.poll).await;
                }
                Err(_) if db_closed(self.db()) => break,
                Err(err) => {
                    failures += 1;
                    tracing::warn!(error = %err, failures, "search indexer step failed");
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(failures.min(10))))
                        .await;
                }
            }
        }
    }

    /// Rebuilds what cannot be used; loads the suggestions of an index that can.
    async fn prepare(&self) -> Result<()> {
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || index.load()).await??;
        // Behind the pruned log it missed changes; ahead of the log it belongs to another
        // database (restored, reset): either way it is rebuilt.
        let usable = match self.index.current() {
            None => false,
            Some(generation) => {
                let position = generation.position()?;
                position >= store::pruned_upto(self.db()).await?
                    && position <= store::head(self.db()).await?
            }
        };
        if !usable {
            self.rebuild().await?;
            return Ok(());
        }
        if let Some(generation) = self.index.current() {
            let suggestions = self.suggestions.clone();
            tokio::task::spawn_blocking(move || load_suggestions(&generation, &suggestions))
                .await??;
        }
        Ok(())
    }

    /// Applies the next `limit` changes (or skips the next one); false when there were none.
    async fn step(&self, limit: i64, skip: bool) -> Result<bool> {
        let Some(generation) = self.index.current() else {
            self.rebuild().await?;
            return Ok(true);
        };
        let from = generation.position()?;
        if from < store::pruned_upto(self.db()).await? {
            self.rebuild().await?;
            return Ok(true);
        }
        let changes = store::changes_after(self.db(), from, limit).await?;
        let Some(last) = changes.last().map(store::ChangeRow::position) else {
            return Ok(false);
        };
        if skip {
            tracing::error!(kind = %changes[0].kind, subject = %changes[0].subject_id,
                "search skips a change it could not apply; the next change of it (or a reindex) repairs it");
            let _applying = self.applying.lock().await;
            tokio::task::spawn_blocking(move || generation.apply(&[], &[], last)).await??;
            return Ok(true);
        }
        let mut products = BTreeSet::new();
        let mut merchants = BTreeSet::new();
        for change in &changes {
            match change.kind.as_str() {
                "PRODUCT" => {
                    products.insert(change.subject_id);
                }
                "MERCHANT" => {
                    merchants.insert(change.subject_id);
                }
                "OFFER" => products.extend(product_of(&generation, "offer_id", change.subject_id)),
                "VARIANT" => {
                    products.extend(product_of(&generation, "variant_id", change.subject_id))
                }
                _ => {}
            }
        }
        let mut batch = self
            .sources
            .products(&products.into_iter().collect::<Vec<_>>())
            .await?;
        for merchant in merchants {
            let mut more = self.sources.merchant(merchant).await?;
            batch.products.append(&mut more.products);
            batch.docs.append(&mut more.docs);
        }
        // A product can come both by itself and with its merchant: one document each.
        let mut seen = std::collections::HashSet::new();
        batch.docs.retain(|doc| seen.insert(doc.key()));
        batch.products.sort_unstable();
        batch.products.dedup();
        let _applying = self.applying.lock().await;
        if !self
            .index
            .current()
            .is_some_and(|current| Arc::ptr_eq(&current, &generation))
        {
            // A rebuild swapped generations meanwhile: the new one replays these changes.
            return Ok(true);
        }
        suggest(&self.suggestions, &batch);
        tokio::task::spawn_blocking(move || generation.apply(&batch.products, &batch.docs, last))
            .await??;
        Ok(true)
    }

    /// Builds a new index from the modules' data beside the one in use, then swaps it in.
    pub async fn rebuild(&self) -> Result<ReindexReport> {
        let Ok(_running) = self.rebuilding.try_lock() else {
            return Err(FeedError::Busy);
        };
        self.set_status(|s| s.running = true);
        let result = self.build_and_swap().await;
        self.set_status(|s| {
            s.running = false;
            match &result {
                Ok(report) => {
                    s.last = Some(report.clone());
                    s.last_error = None;
                }
                Err(err) => s.last_error = Some(err.to_string()),
            }
        });
        result
    }

    pub fn status(&self) -> ReindexStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn set_status(&self, change: impl FnOnce(&mut ReindexStatus)) {
        if let Ok(mut status) = self.status.lock() {
            change(&mut status);
        }
    }

    async fn build_and_swap(&self) -> Result<ReindexReport> {
        let started = Instant::now();
        let head = store::head(self.db()).await?;
        let index = self.index.clone();
        let generation =
            Arc::new(tokio::task::spawn_blocking(move || index.create_generation()).await??);
        let extras = Extras::all(self.db()).await?;
        let suggestions = Suggestions::default();
        let mut documents = 0u64;
        let mut after = None;
        loop {
            let (batch, next) = self.sources.page(after, &extras).await?;
            documents += batch.docs.len() as u64;
            suggest(&suggestions, &batch);
            let generation = generation.clone();
            tokio::task::spawn_blocking(move || generation.add(&batch.docs)).await??;
            match next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let index = self.index.clone();
        let generation = Arc::try_unwrap(generation).map_err(|_| IndexError::Poisoned)?;
        let _applying = self.applying.lock().await;
        tokio::task::spawn_blocking(move || index.install(generation, head)).await??;
        self.suggestions.replace(suggestions);
        let millis = started.elapsed().as_millis() as u64;
        tracing::info!(documents, millis, "search index rebuilt");
        Ok(ReindexReport { documents, millis })
    }
}

/// Replaces the suggestions of every product of `batch` (none for one without documents).
fn suggest(suggestions: &Suggestions, batch: &sources::Batch) {
    let mut by_product: HashMap<Uuid, Vec<&SearchHit>> =
        batch.products.iter().map(|p| (*p, Vec::new())).collect();
    for doc in &batch.docs {
        by_product
            .entry(doc.hit.product_id)
            .or_default()
            .push(&doc.hit);
    }
    for (product, hits) in by_product {
        suggestions.put(product, &hits);
    }
}

/// The product a document field names (an offer or a variant), from the index itself.
fn product_of(generation: &Generation, field: &str, id: Uuid) -> Option<Uuid> {
    let field = generation.index.schema().get_field(field).ok()?;
    let searcher = generation.searcher();
    let query = TermQuery::new(
        Term::from_field_text(field, &id.to_string()),
        IndexRecordOption::Basic,
    );
    let (_, address) = searcher
        .search(&query, &TopDocs::with_limit(1).order_by_score())
        .ok()?
        .into_iter()
        .next()?;
    let doc: TantivyDocument = searcher.doc(address).ok()?;
    let text = doc
        .get_first(generation.fields.product_id)?
        .as_str()?
        .to_owned();
    Uuid::parse_str(&text).ok()
}

/// Suggestions of an index opened from disk: every stored hit, by product.
fn load_suggestions(generation: &Generation, suggestions: &Suggestions) -> Result<()> {
    let searcher = generation.searcher();
    let mut by_product: HashMap<Uuid, Vec<SearchHit>> = HashMap::new();
    for segment in searcher.segment_readers() {
        let store = segment.get_store_reader(64).map_err(IndexError::from)?;
        for doc in store.iter::<TantivyDocument>(segment.alive_bitset()) {
            let Ok(doc) = doc else { continue };
            let Some(hit) = doc
                .get_first(generation.fields.payload)
                .and_then(|v| v.as_str())
                .and_then(|p| serde_json::from_str::<SearchHit>(p).ok())
            else {
                continue;
            };
            by_product.entry(hit.product_id).or_default().push(hit);
        }
    }
    for (product, hits) in by_product {
        suggestions.put(product, &hits.iter().collect::<Vec<_>>());
    }
    Ok(())
}
