//! Small shared key/value state with expiry: the access-token denylist and per-user token
//! cut-offs. In memory in one process; Redis is the shared implementation for split processes.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use async_trait::async_trait;

#[async_trait]
pub trait Cache: Send + Sync {
    async fn get(&self, key: &str) -> Option<String>;
    async fn set(&self, key: &str, value: &str, ttl: Duration);
    async fn delete(&self, key: &str);
    /// Drops expired entries (housekeeping for in-process implementations).
    fn purge_expired(&self) {}
}

#[derive(Default)]
pub struct MemoryCache {
    entries: RwLock<HashMap<String, (String, Instant)>>,
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> Option<String> {
        let entries = self.entries.read().ok()?;
        entries
            .get(key)
            .filter(|(_, expires)| *expires > Instant::now())
            .map(|(value, _)| value.clone())
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) {
        if let Ok(mut entries) = self.entries.write() {
            entries.insert(key.to_owned(), (value.to_owned(), Instant::now() + ttl));
        }
    }

    async fn delete(&self, key: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(key);
        }
    }

    fn purge_expired(&self) {
        let now = Instant::now();
        if let Ok(mut entries) = self.entries.write() {
            entries.retain(|_, (_, expires)| *expires > now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_expire() {
        let cache = MemoryCache::default();
        cache.set("a", "1", Duration::from_millis(30)).await;
        cache.set("b", "2", Duration::from_secs(60)).await;
        assert_eq!(cache.get("a").await.as_deref(), Some("1"));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(cache.get("a").await, None);
        cache.purge_expired();
        assert_eq!(cache.entries.read().unwrap().len(), 1);
        cache.delete("b").await;
        assert_eq!(cache.get("b").await, None);
    }
}
