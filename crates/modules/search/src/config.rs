//! search's settings: the `[search]` section of the configuration (`PASAR_SEARCH__...`).

use platform::config::ModuleConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchConfig {
    /// Where this process keeps its index; empty: `search` in the data dir. Each process
    /// running search keeps its own.
    pub dir: String,
    /// How often the indexer looks for changes, in milliseconds (a change is searchable
    /// within about this plus a commit).
    pub poll_ms: u64,
    /// Indexing memory per writer thread, in MiB (16 to 1024).
    pub writer_memory_mb: usize,
    /// Changes are kept this many days (1 to 3650); an index offline for longer is rebuilt
    /// on start.
    pub change_retention_days: i64,
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self {
            dir: String::new(),
            poll_ms: 100,
            writer_memory_mb: 32,
            change_retention_days: 7,
        }
    }
}

impl ModuleConfig for SearchConfig {
    const SECTION: &'static str = "search";
}
