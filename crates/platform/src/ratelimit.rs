//! Rate limits per route class, keyed by user when authenticated and by client IP otherwise.
//! In memory (GCRA via `governor`) in one process; [`RedisRateLimiter`] shares counters across
//! processes.

use std::num::NonZeroU32;
use std::time::Duration;

use async_trait::async_trait;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter as Gcra};

use crate::config::RateLimitConfig;

/// Route classes of the TokoBapak gateway policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteClass {
    Auth,
    PublicRead,
    Authenticated,
    Write,
    Checkout,
    Payment,
    /// All requests of a client at the gateway.
    Edge,
}

impl RouteClass {
    pub const ALL: [RouteClass; 7] = [
        RouteClass::Auth,
        RouteClass::PublicRead,
        RouteClass::Authenticated,
        RouteClass::Write,
        RouteClass::Checkout,
        RouteClass::Payment,
        RouteClass::Edge,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            RouteClass::Auth => "auth",
            RouteClass::PublicRead => "public_read",
            RouteClass::Authenticated => "authenticated",
            RouteClass::Write => "write",
            RouteClass::Checkout => "checkout",
            RouteClass::Payment => "payment",
            RouteClass::Edge => "edge",
        }
    }

    pub fn per_minute(self, config: &RateLimitConfig) -> u32 {
        match self {
            RouteClass::Auth => config.auth,
            RouteClass::PublicRead => config.public_read,
            RouteClass::Authenticated => config.authenticated,
            RouteClass::Write => config.write,
            RouteClass::Checkout => config.checkout,
            RouteClass::Payment => config.payment,
            RouteClass::Edge => config.edge,
        }
    }
}

/// The verdict and what the `RateLimit-*` headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the full quota is available again.
    pub reset_secs: u64,
    /// Seconds to wait before a retry can succeed (0 when allowed).
    pub retry_after_secs: u64,
}

#[async_trait]
pub trait RateLimiter: Send + Sync {
    async fn check(&self, class: RouteClass, key: &str) -> Decision;
    /// Forgets idle keys (housekeeping for in-process implementations).
    fn purge_idle(&self) {}
}

type KeyedGcra =
    Gcra<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

pub struct MemoryRateLimiter {
    limiters: Vec<(RouteClass, u32, KeyedGcra)>,
}

impl MemoryRateLimiter {
    pub fn new(config: &RateLimitConfig) -> Self {
        let limiters = RouteClass::ALL
            .iter()
            .map(|class| {
                let per_minute = class.per_minute(config).max(1);
                let quota =
                    Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN));
                (
                    *class,
                    per_minute,
                    Gcra::keyed(quota).with_middleware::<StateInformationMiddleware>(),
                )
            })
            .collect();
        Self { limiters }
    }
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn check(&self, class: RouteClass, key: &str) -> Decision {
        let Some((_, limit, limiter)) = self.limiters.iter().find(|(c, _, _)| *c == class) else {
            return Decision {
                allowed: true,
                limit: 0,
                remaining: 0,
                reset_secs: 0,
                retry_after_secs: 0,
            };
        };
        let limit = *limit;
        let refill = Duration::from_secs(60) / limit;
        match limiter.check_key(&key.to_owned()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Decision {
                    allowed: true,
                    limit,
                    remaining,
                    reset_secs: (refill * (limit - remaining)).as_secs_f64().ceil() as u64,
                    retry_after_secs: 0,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Decision {
                    allowed: false,
                    limit,
                    remaining: 0,
                    reset_secs: (refill * limit).as_secs(),
                    retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
                }
            }
        }
    }

    /// Forgets keys whose quota is full again, bounding memory.
    fn purge_idle(&self) {
        for (_, _, limiter) in &self.limiters {
            limiter.retain_recent();
        }
    }
}

/// GCRA on Redis: one key per (class, client) holds the theoretical arrival time in
/// milliseconds. The script reads Redis's own clock so processes with skewed clocks agree, and
/// runs atomically, so concurrent requests from several processes count exactly once each.
/// Returns `{allowed, remaining, reset_ms, retry_ms}`.
const GCRA_SCRIPT: &str = r#"
local emission = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + emission
local ahead = new_tat - now
if ahead > period then
  return {0, 0, tat - now, ahead - period}
end
redis.call('SET', KEYS[1], new_tat, 'PX', ahead)
return {1, math.floor((period - ahead) / emission), ahead, 0}
"#;

/// Limits shared by every process through Redis. When Redis cannot be reached the request is
/// allowed (logged): an outage of the limiter must not become an outage of the API.
pub struct RedisRateLimiter {
    connection: redis::aio::ConnectionManager,
    script: redis::Script,
    prefix: String,
    limits: Vec<(RouteClass, u32)>,
}

impl RedisRateLimiter {
    pub fn new(
        connection: redis::aio::ConnectionManager,
        prefix: &str,
        config: &RateLimitConfig,
    ) -> Self {
        Self {
            connection,
            script: redis::Script::new(GCRA_SCRIPT),
            prefix: format!("{prefix}:rl:"),
            limits: RouteClass::ALL
                .iter()
                .map(|class| (*class, class.per_minute(config).max(1)))
                .collect(),
        }
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn check(&self, class: RouteClass, key: &str) -> Decision {
        let limit = self
            .limits
            .iter()
            .find(|(c, _)| *c == class)
            .map_or(1, |(_, limit)| *limit);
        let period_ms: u64 = 60_000;
        let emission_ms = period_ms / u64::from(limit);
        let mut connection = self.connection.clone();
        let result: redis::RedisResult<(i64, i64, i64, i64)> = self
            .script
            .key(format!("{}{}:{key}", self.prefix, class.as_str()))
            .arg(emission_ms)
            .arg(period_ms)
            .invoke_async(&mut connection)
            .await;
        let secs = |ms: i64| (ms.max(0) as u64).div_ceil(1000);
        match result {
            Ok((allowed, remaining, reset_ms, retry_ms)) => Decision {
                allowed: allowed == 1,
                limit,
                remaining: remaining.clamp(0, i64::from(limit)) as u32,
                reset_secs: secs(reset_ms),
                retry_after_secs: if allowed == 1 {
                    0
                } else {
                    secs(retry_ms).max(1)
                },
            },
            Err(err) => {
                tracing::warn!(error = %err, class = class.as_str(), "rate limiter unreachable; allowing");
                metrics::counter!("pasar_rate_limiter_errors_total").increment(1);
                Decision {
                    allowed: true,
                    limit,
                    remaining: limit,
                    reset_secs: 0,
                    retry_after_secs: 0,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn allows_the_quota_then_refuses_with_retry_after() {
        let config = RateLimitConfig {
            auth: 3,
            ..RateLimitConfig::default()
        };
        let limiter = MemoryRateLimiter::new(&config);
        for expected_remaining in [2, 1, 0] {
            let decision = limiter.check(RouteClass::Auth, "ip:1").await;
            assert!(decision.allowed);
            assert_eq!(decision.limit, 3);
            assert_eq!(decision.remaining, expected_remaining);
        }
        let refused = limiter.check(RouteClass::Auth, "ip:1").await;
        assert!(!refused.allowed);
        assert!(refused.retry_after_secs >= 1 && refused.retry_after_secs <= 20);
        // Other keys and other classes are independent.
        assert!(limiter.check(RouteClass::Auth, "ip:2").await.allowed);
        assert!(limiter.check(RouteClass::Write, "ip:1").await.allowed);
    }

    /// Two limiters on one Redis are one limit: the quota is shared, and a refusal says when to
    /// come back.
    #[tokio::test]
    async fn redis_limits_are_shared_between_processes() {
        let connection = crate::cache::connect_redis("redis://127.0.0.1:6379")
            .await
            .expect("Redis is required at 127.0.0.1:6379");
        let prefix = format!("test-{}", uuid::Uuid::new_v4().simple());
        let config = RateLimitConfig {
            auth: 3,
            ..RateLimitConfig::default()
        };
        let first = RedisRateLimiter::new(connection.clone(), &prefix, &config);
        let second = RedisRateLimiter::new(connection, &prefix, &config);
        let mut remaining = Vec::new();
        for limiter in [&first, &second, &first] {
            let decision = limiter.check(RouteClass::Auth, "ip:1").await;
            assert!(decision.allowed);
            assert_eq!(decision.limit, 3);
            remaining.push(decision.remaining);
        }
        assert_eq!(remaining, vec![2, 1, 0]);
        let refused = second.check(RouteClass::Auth, "ip:1").await;
        assert!(!refused.allowed);
        assert!((1..=20).contains(&refused.retry_after_secs), "{refused:?}");
        assert!(first.check(RouteClass::Auth, "ip:2").await.allowed);
        assert!(first.check(RouteClass::Write, "ip:1").await.allowed);
    }
}
