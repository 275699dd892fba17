//! Small shared key/value state with expiry: the access-token denylist and per-user token
//! cut-offs. In memory in one process; Redis ([`RedisCache`]) is shared by split processes.

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

/// The cache shared by every process of a deployment. Errors are logged and read as a miss (a
/// set or delete that fails is lost): Redis being down degrades to what one process knows, and
/// readiness reports it so a load balancer can take the process out.
pub struct RedisCache {
    connection: redis::aio::ConnectionManager,
    prefix: String,
}

impl RedisCache {
    pub fn new(connection: redis::aio::ConnectionManager, prefix: &str) -> Self {
        Self {
            connection,
            prefix: format!("{prefix}:cache:"),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Option<String> {
        let mut connection = self.connection.clone();
        let result: redis::RedisResult<Option<String>> = redis::cmd("GET")
            .arg(self.key(key))
            .query_async(&mut connection)
            .await;
        result
            .inspect_err(|err| tracing::warn!(error = %err, "redis cache read failed"))
            .ok()
            .flatten()
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) {
        let mut connection = self.connection.clone();
        let millis = ttl.as_millis().clamp(1, u64::MAX as u128) as u64;
        let result: redis::RedisResult<()> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(millis)
            .query_async(&mut connection)
            .await;
        if let Err(err) = result {
            tracing::warn!(error = %err, "redis cache write failed");
        }
    }

    async fn delete(&self, key: &str) {
        let mut connection = self.connection.clone();
        let result: redis::RedisResult<()> = redis::cmd("DEL")
            .arg(self.key(key))
            .query_async(&mut connection)
            .await;
        if let Err(err) = result {
            tracing::warn!(error = %err, "redis cache delete failed");
        }
    }
}

/// Connects to Redis; the manager reconnects by itself after a restart.
pub async fn connect_redis(url: &str) -> redis::RedisResult<redis::aio::ConnectionManager> {
    let client = redis::Client::open(url)?;
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(3)))
        .set_response_timeout(Some(Duration::from_secs(2)));
    redis::aio::ConnectionManager::new_with_config(client, config).await
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

    #[tokio::test]
    async fn redis_entries_are_shared_and_expire() {
        let connection = connect_redis("redis://127.0.0.1:6379")
            .await
            .expect("Redis is required at 127.0.0.1:6379");
        let prefix = format!("test-{}", uuid::Uuid::new_v4().simple());
        let writer = RedisCache::new(connection.clone(), &prefix);
        let reader = RedisCache::new(connection, &prefix);
        writer
            .set("deny:jti:1", "1", Duration::from_millis(200))
            .await;
        writer.set("deny:jti:2", "1", Duration::from_secs(60)).await;
        assert_eq!(reader.get("deny:jti:1").await.as_deref(), Some("1"));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(reader.get("deny:jti:1").await, None);
        reader.delete("deny:jti:2").await;
        assert_eq!(writer.get("deny:jti:2").await, None);
    }
}
