//! The public read cache: serialized product details and list pages, so the hottest requests
//! of the platform are answered without touching the database.
//!
//! Validity is one generation counter. Every catalog change bumps it after commit, and a reader
//! stores what it read only if the generation did not move while it read, so a page read
//! before a change is never kept after it. Other processes' changes are seen within the TTL.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use uuid::Uuid;

struct Entry {
    body: Bytes,
    /// The merchant of a product detail (its staff get the full view instead).
    merchant_id: Option<Uuid>,
    generation: u64,
    stored_at: Instant,
}

pub struct ReadCache {
    ttl: Duration,
    capacity: usize,
    generation: AtomicU64,
    entries: RwLock<HashMap<String, Entry>>,
}

/// A cache hit.
pub struct Hit {
    pub body: Bytes,
    pub merchant_id: Option<Uuid>,
}

impl ReadCache {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            generation: AtomicU64::new(0),
            entries: RwLock::default(),
        }
    }

    fn enabled(&self) -> bool {
        !self.ttl.is_zero() && self.capacity > 0
    }

    /// The generation to pass to [`ReadCache::put`]; take it before reading the database.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn get(&self, key: &str) -> Option<Hit> {
        if !self.enabled() {
            return None;
        }
        let current = self.generation();
        let entries = self.entries.read().ok()?;
        let entry = entries.get(key)?;
        (entry.generation == current && entry.stored_at.elapsed() < self.ttl).then(|| Hit {
            body: entry.body.clone(),
            merchant_id: entry.merchant_id,
        })
    }

    pub fn put(&self, key: String, body: Bytes, merchant_id: Option<Uuid>, read_at: u64) {
        if !self.enabled() || self.generation() != read_at {
            return;
        }
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= self.capacity {
                // Whole-cache reset: cheaper than LRU bookkeeping on every hit, and rare.
                entries.clear();
            }
            entries.insert(
                key,
                Entry {
                    body,
                    merchant_id,
                    generation: read_at,
                    stored_at: Instant::now(),
                },
            );
        }
    }

    /// Everything cached so far is stale.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_raced_a_change_is_not_kept() {
        let cache = ReadCache::new(Duration::from_secs(60), 10);
        let before = cache.generation();
        cache.invalidate();
        cache.put("k".into(), Bytes::from_static(b"old"), None, before);
        assert!(cache.get("k").is_none());
        let now = cache.generation();
        cache.put("k".into(), Bytes::from_static(b"new"), None, now);
        assert_eq!(cache.get("k").unwrap().body, Bytes::from_static(b"new"));
        cache.invalidate();
        assert!(cache.get("k").is_none());
    }

    #[test]
    fn capacity_and_ttl_bound_the_cache() {
        let cache = ReadCache::new(Duration::from_millis(20), 2);
        for key in ["a", "b", "c"] {
            cache.put(
                key.into(),
                Bytes::from_static(b"x"),
                None,
                cache.generation(),
            );
        }
        assert!(cache.get("a").is_none(), "cleared when full");
        assert!(cache.get("c").is_some());
        std::thread::sleep(Duration::from_millis(30));
        assert!(cache.get("c").is_none(), "expired");
        let off = ReadCache::new(Duration::ZERO, 10);
        off.put("a".into(), Bytes::from_static(b"x"), None, 0);
        assert!(off.get("a").is_none());
    }
}
