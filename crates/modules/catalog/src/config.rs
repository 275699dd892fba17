//! catalog's settings: the `[catalog]` section of the configuration (`PASAR_CATALOG__...`).

use platform::config::ModuleConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CatalogConfig {
    /// Public product reads are served from a per-process cache invalidated on every change
    /// made here; changes made by another process are seen within this bound. 0 disables it.
    pub read_cache_secs: u64,
    pub read_cache_entries: usize,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        Self {
            read_cache_secs: 30,
            read_cache_entries: 20_000,
        }
    }
}

impl ModuleConfig for CatalogConfig {
    const SECTION: &'static str = "catalog";
}
