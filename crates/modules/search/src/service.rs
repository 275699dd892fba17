//! search's use cases: searching, suggesting, the synonyms admins keep, and rebuilds.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use kernel::{ApiError, FieldError, Timestamp};
use platform::Context;

use crate::api::*;
use crate::feed::{FeedError, Indexer};
use crate::query::{self, Plan, SynonymMap};
use crate::store;

/// Synonyms saved on another instance are picked up within this.
const SYNONYMS_TTL: Duration = Duration::from_secs(5);
/// A rebuild request waits this long for the answer (under the edge's request timeout).
const REINDEX_WAIT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("the index is not open yet")]
    Unavailable,
    #[error("a rebuild is already running")]
    Busy,
    #[error("index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("indexer: {0}")]
    Feed(FeedError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<FeedError> for SearchError {
    fn from(err: FeedError) -> Self {
        match err {
            FeedError::Busy => SearchError::Busy,
            other => SearchError::Feed(other),
        }
    }
}

impl From<SearchError> for ApiError {
    fn from(err: SearchError) -> Self {
        match err {
            SearchError::Invalid(errors) => ApiError::validation(errors),
            SearchError::Unavailable => SearchCode::SearchUnavailable
                .problem("The search index is being built; retry in a moment")
                .with_retry_after(2),
            SearchError::Busy => {
                SearchCode::ReindexRunning.problem("A rebuild is already running here")
            }
            SearchError::Index(_) | SearchError::Feed(_) | SearchError::Database(_) => {
                tracing::error!(error = %err, "search failure");
                ApiError::internal()
            }
        }
    }
}

type Result<T> = std::result::Result<T, SearchError>;

pub struct Search {
    pub ctx: Context,
    pub indexer: Arc<Indexer>,
    synonyms: RwLock<(Option<Instant>, Arc<SynonymMap>)>,
}

impl Search {
    pub fn new(ctx: Context, indexer: Arc<Indexer>) -> Arc<Self> {
        Arc::new(Self {
            ctx,
            indexer,
            synonyms: RwLock::new((None, Arc::new(SynonymMap::new()))),
        })
    }

    pub async fn search(&self, q: &SearchQuery) -> Result<SearchResults> {
        let generation = self
            .indexer
            .index
            .current()
            .ok_or(SearchError::Unavailable)?;
        let labels = &self.indexer.suggestions;
        let plan = Plan::new(q, &generation.fields, Timestamp::now().millis(), |c| {
            labels.category_path(c)
        })
        .map_err(SearchError::Invalid)?;
        let synonyms = if plan.has_words() {
            self.synonym_map().await?
        } else {
            Arc::default()
        };
        let labels = labels.clone();
        // CPU-bound (scoring, facets, a second pass with typos): off the request workers.
        let results = tokio::task::spawn_blocking(move || {
            let searcher = generation.searcher();
            plan.run(&searcher, &generation.fields, &synonyms, &labels)
        })
        .await
        .map_err(|err| SearchError::Feed(FeedError::Task(err)))?;
        Ok(results?)
    }

    pub fn suggest(&self, q: &SuggestQuery) -> Result<Vec<Suggestion>> {
        let limit = q.limit.unwrap_or(8);
        let mut errors = Vec::new();
        if !(1..=20).contains(&limit) {
            errors.push(field("limit", "must be between 1 and 20"));
        }
        if q.q.chars().count() > 100 {
            errors.push(field("q", "at most 100 characters"));
        }
        if !errors.is_empty() {
            return Err(SearchError::Invalid(errors));
        }
        Ok(self
            .indexer
            .suggestions
            .lookup(&q.q, limit as usize, Timestamp::now().millis()))
    }

    async fn synonym_map(&self) -> Result<Arc<SynonymMap>> {
        if let Ok(cached) = self.synonyms.read() {
            if cached.0.is_some_and(|at| at.elapsed() < SYNONYMS_TTL) {
                return Ok(cached.1.clone());
            }
        }
        let groups = self.synonyms().await?.groups;
        let map = Arc::new(query::synonym_map(&groups));
        if let Ok(mut cached) = self.synonyms.write() {
            *cached = (Some(Instant::now()), map.clone());
        }
        Ok(map)
    }

    pub async fn synonyms(&self) -> Result<Synonyms> {
        Ok(match store::synonyms(&self.ctx.db).await? {
            Some((groups, _)) => Synonyms {
                groups: serde_json::from_str(&groups).unwrap_or_default(),
            },
            None => Synonyms::default(),
        })
    }

    pub async fn save_synonyms(&self, input: Synonyms) -> Result<Synonyms> {
        let mut errors = Vec::new();
        if input.groups.len() > 1_000 {
            errors.push(field("groups", "at most 1000 groups"));
        }
        let mut groups = Vec::with_capacity(input.groups.len());
        for (i, group) in input.groups.iter().enumerate() {
            let words: Vec<String> = group
                .iter()
                .map(|w| w.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect();
            if !(2..=20).contains(&words.len()) {
                errors.push(field(&format!("groups[{i}]"), "must hold 2 to 20 words"));
            }
            if words.iter().any(|w| w.is_empty() || w.chars().count() > 50) {
                errors.push(field(
                    &format!("groups[{i}]"),
                    "words must be 1 to 50 characters",
                ));
            }
            groups.push(words);
        }
        if !errors.is_empty() {
            return Err(SearchError::Invalid(errors));
        }
        let json = serde_json::to_string(&groups).unwrap_or_else(|_| "[]".into());
        store::save_synonyms(&self.ctx.db, &json, Timestamp::now()).await?;
        if let Ok(mut cached) = self.synonyms.write() {
            *cached = (Some(Instant::now()), Arc::new(query::synonym_map(&groups)));
        }
        Ok(Synonyms { groups })
    }

    /// Starts a rebuild that runs to its end whatever happens to the request, and waits for
    /// it a while: its report, or None when it is still running (see [`Search::reindex_status`]).
    pub async fn reindex(&self) -> Result<Option<ReindexReport>> {
        let indexer = self.indexer.clone();
        let rebuild = tokio::spawn(async move { indexer.rebuild().await });
        match tokio::time::timeout(REINDEX_WAIT, rebuild).await {
            Ok(joined) => {
                Ok(Some(joined.map_err(|err| {
                    SearchError::Feed(FeedError::Task(err))
                })??))
            }
            Err(_) => Ok(None),
        }
    }

    pub fn reindex_status(&self) -> ReindexStatus {
        self.indexer.status()
    }

    /// Drops changes every instance has had time to apply.
    pub async fn prune_changes(&self, retention_days: i64) -> Result<u64> {
        let before = Timestamp::now().millis() - retention_days.max(1) * 86_400_000;
        Ok(store::prune(&self.ctx.db, before).await?)
    }
}

fn field(name: &str, message: &str) -> FieldError {
    FieldError {
        field: name.into(),
        message: message.into(),
    }
}
