//! Small shared key/value state with expiry: the access-token denylist and per-user token
//! cut-offs. In memory in one process; Redis ([`RedisCache`]) is shared by split processes.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures_util::StreamExt;
use tokio::sync::watch;

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

type Subscriber = Arc<dyn Fn(&str) + Send + Sync>;

/// Invalidation of per-process read caches across processes: a [`Fanout`] on its own channel.
/// A module that changes what other processes may have cached publishes `(topic, key)`, `*`
/// meaning everything; the caller has invalidated its own cache.
pub type Invalidations = Fanout;

/// Best-effort signals to every other process of the deployment: a module publishes `(topic,
/// text)` and every process (itself included) calls the subscribers of the topic with the
/// text. Through Redis pub/sub when `cache.url` is set; in one process there is nobody else to
/// tell, so publishing does nothing (the caller handles its own process). After a lost Redis
/// connection every subscriber gets `*`: what was published meanwhile is unknown.
#[derive(Clone, Default)]
pub struct Fanout {
    inner: Arc<FanoutInner>,
}

#[derive(Default)]
struct FanoutInner {
    subscribers: RwLock<HashMap<String, Vec<Subscriber>>>,
    redis: OnceLock<(redis::aio::ConnectionManager, String)>,
}

impl Fanout {
    pub fn subscribe(&self, topic: &str, subscriber: impl Fn(&str) + Send + Sync + 'static) {
        if let Ok(mut subscribers) = self.inner.subscribers.write() {
            subscribers
                .entry(topic.to_owned())
                .or_default()
                .push(Arc::new(subscriber));
        }
    }

    /// Tells the other processes (without waiting for Redis).
    pub fn publish(&self, topic: &str, key: &str) {
        let Some((connection, channel)) = self.inner.redis.get() else {
            return;
        };
        let mut connection = connection.clone();
        let command = redis::cmd("PUBLISH")
            .arg(channel)
            .arg(format!("{topic}\n{key}"))
            .to_owned();
        tokio::spawn(async move {
            if let Err(err) = command.query_async::<i64>(&mut connection).await {
                tracing::warn!(error = %err, "cannot publish on a fan-out channel");
            }
        });
    }

    fn deliver(&self, topic: &str, key: &str) {
        let subscribers: Vec<Subscriber> = self
            .inner
            .subscribers
            .read()
            .map(|s| s.get(topic).cloned().unwrap_or_default())
            .unwrap_or_default();
        for subscriber in subscribers {
            subscriber(key);
        }
    }

    fn deliver_everything(&self) {
        let topics: Vec<String> = self
            .inner
            .subscribers
            .read()
            .map(|s| s.keys().cloned().collect())
            .unwrap_or_default();
        for topic in topics {
            self.deliver(&topic, "*");
        }
    }

    /// Publishes through `connection` and listens on `url` until `shutdown`, on the Redis
    /// channel named `channel`.
    pub fn start(
        &self,
        url: &str,
        channel: String,
        connection: redis::aio::ConnectionManager,
        shutdown: watch::Receiver<bool>,
    ) {
        let _ = self.inner.redis.set((connection, channel.clone()));
        tokio::spawn(self.clone().listen(url.to_owned(), channel, shutdown));
    }

    async fn listen(self, url: String, channel: String, mut shutdown: watch::Receiver<bool>) {
        loop {
            match self.subscribed(&url, &channel).await {
                Ok(mut pubsub) => {
                    self.deliver_everything();
                    let mut messages = pubsub.on_message();
                    loop {
                        let message = tokio::select! {
                            message = messages.next() => message,
                            _ = shutdown.changed() => return,
                        };
                        let Some(message) = message else { break };
                        let Ok(text) = message.get_payload::<String>() else {
                            continue;
                        };
                        if let Some((topic, key)) = text.split_once('\n') {
                            self.deliver(topic, key);
                        }
                    }
                    tracing::warn!(%channel, "fan-out channel lost; reconnecting");
                }
                Err(err) => {
                    tracing::warn!(%channel, error = %err, "cannot listen on a fan-out channel")
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    async fn subscribed(&self, url: &str, channel: &str) -> redis::RedisResult<redis::aio::PubSub> {
        let mut pubsub = redis::Client::open(url)?.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok(pubsub)
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
    async fn invalidations_reach_every_process_through_redis() {
        let url = "redis://127.0.0.1:6379";
        let prefix = format!("test-{}", uuid::Uuid::new_v4().simple());
        let (_stop, shutdown) = watch::channel(false);
        let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let mut processes = Vec::new();
        for name in ["a", "b"] {
            let invalidations = Invalidations::default();
            let log = seen.clone();
            invalidations.subscribe("catalog", move |key| {
                log.lock().unwrap().push(format!("{name}:{key}"));
            });
            let connection = connect_redis(url).await.expect("Redis is required");
            invalidations.start(
                url,
                format!("{prefix}:invalidate"),
                connection,
                shutdown.clone(),
            );
            processes.push(invalidations);
        }
        // Each flushes everything once subscribed.
        for _ in 0..100 {
            if seen.lock().unwrap().len() >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        seen.lock().unwrap().clear();
        processes[0].publish("catalog", "product:1");
        processes[0].publish("elsewhere", "x");
        for _ in 0..100 {
            if seen.lock().unwrap().len() >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut got = seen.lock().unwrap().clone();
        got.sort();
        assert_eq!(got, vec!["a:product:1", "b:product:1"]);
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
