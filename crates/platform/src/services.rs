//! Synchronous calls between modules (typed clients in each module's `api.rs` sit on this).
//!
//! A call goes to `/internal/v1/<module>/...`. When that module runs in this process the call
//! goes straight into the composed router, without a socket, as the internal service actor.
//! Otherwise it goes over HTTP to the instances in `remote.<module>`, taken in turn, with a
//! timeout per attempt, retries of calls that are safe to repeat, a circuit breaker per
//! instance, and a short-lived internal service token. The routes behind a typed client are the
//! same in both layouts.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::body::Bytes;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use kernel::call::{Answer, Transport};
use kernel::Actor;
use tower::ServiceExt;

use crate::config::{Config, ServicesConfig};
use crate::http::Authenticator;

pub use kernel::call::{CallError, Services};

/// The platform's transport behind [`Services`]: the router of this process for the modules
/// that run here, HTTP to the others.
#[derive(Clone, Default)]
pub struct ServiceMesh {
    local: Arc<OnceLock<Local>>,
    remote: Arc<OnceLock<Remote>>,
}

struct Local {
    router: Router,
    modules: Vec<&'static str>,
}

impl ServiceMesh {
    /// Installs the router of the modules in this process (once, after assembly).
    pub fn set_local(&self, router: Router, modules: Vec<&'static str>) {
        let _ = self.local.set(Local { router, modules });
    }

    /// The router of the modules in this process, once assembled: server-rendered pages call
    /// the public API through it as the signed-in user, without a socket.
    pub fn local_router(&self) -> Option<Router> {
        self.local.get().map(|local| local.router.clone())
    }

    /// Installs the HTTP transport to the modules of other processes (once, at start).
    pub fn set_remote(&self, config: &Config, authenticator: Arc<Authenticator>) {
        let _ = self.remote.set(Remote::new(config, authenticator));
    }

    async fn route(
        &self,
        caller: &str,
        method: Method,
        path: &str,
        payload: Vec<u8>,
    ) -> Result<(StatusCode, Bytes), CallError> {
        let target = target_module(path)
            .ok_or_else(|| CallError::unreachable(format!("{path} is not an internal route")))?;
        let (status, bytes) = match self.local.get() {
            Some(local) if local.modules.contains(&target) => {
                call_local(&local.router, caller, method, path, payload).await?
            }
            _ => match self.remote.get() {
                Some(remote) => remote.call(target, caller, method, path, payload).await?,
                None => {
                    return Err(CallError::unreachable(format!(
                    "module {target} does not run in this process and remote.{target} is not set"
                )))
                }
            },
        };
        Ok((status, bytes))
    }
}

impl Transport for ServiceMesh {
    fn send<'a>(
        &'a self,
        caller: &'a str,
        method: Method,
        path: &'a str,
        body: Vec<u8>,
    ) -> Pin<Box<dyn Future<Output = Answer> + Send + 'a>> {
        Box::pin(self.route(caller, method, path, body))
    }
}

/// `/internal/v1/<module>/...` → `<module>`.
fn target_module(path: &str) -> Option<&str> {
    path.strip_prefix("/internal/v1/")?
        .split(['/', '?'])
        .next()
        .filter(|m| !m.is_empty())
}

async fn call_local(
    router: &Router,
    caller: &str,
    method: Method,
    path: &str,
    payload: Vec<u8>,
) -> Result<(StatusCode, Bytes), CallError> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(payload))
        .map_err(|e| CallError::unreachable(format!("bad request: {e}")))?;
    request.extensions_mut().insert(Actor::internal(caller));
    let response = router
        .clone()
        .oneshot(request)
        .await
        .map_err(|e| CallError::unreachable(e.to_string()))?;
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), MAX_RESPONSE_BYTES)
        .await
        .map_err(|e| CallError::unreachable(format!("cannot read response: {e}")))?;
    Ok((status, bytes))
}

const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// The HTTP transport to other processes.
struct Remote {
    client: reqwest::Client,
    targets: HashMap<String, Target>,
    config: ServicesConfig,
    authenticator: Arc<Authenticator>,
    /// Internal tokens per calling module, reused until shortly before they expire.
    tokens: Mutex<HashMap<String, (String, Instant)>>,
}

struct Target {
    instances: Vec<Instance>,
    next: AtomicUsize,
}

struct Instance {
    base_url: String,
    breaker: Breaker,
}

impl Remote {
    fn new(config: &Config, authenticator: Arc<Authenticator>) -> Self {
        let targets = config
            .remote
            .iter()
            .map(|(module, urls)| {
                let instances = split_urls(urls)
                    .into_iter()
                    .map(|base_url| Instance {
                        base_url,
                        breaker: Breaker::default(),
                    })
                    .collect();
                (
                    module.clone(),
                    Target {
                        instances,
                        next: AtomicUsize::new(0),
                    },
                )
            })
            .collect();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.services.timeout_ms.max(1)))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Self {
            client,
            targets,
            config: config.services.clone(),
            authenticator,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    fn token(&self, caller: &str) -> Result<String, CallError> {
        let now = Instant::now();
        if let Ok(tokens) = self.tokens.lock() {
            if let Some((token, renew_at)) = tokens.get(caller) {
                if *renew_at > now {
                    return Ok(token.clone());
                }
            }
        }
        let (token, ttl) = self
            .authenticator
            .issue_internal(caller)
            .map_err(|e| CallError::unreachable(format!("cannot sign a service token: {e}")))?;
        // Renewed at half its life, so a token in flight never expires on the way.
        let renew_at = now + Duration::from_secs((ttl.max(2) / 2) as u64);
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(caller.to_owned(), (token.clone(), renew_at));
        }
        Ok(token)
    }

    async fn call(
        &self,
        module: &str,
        caller: &str,
        method: Method,
        path: &str,
        payload: Vec<u8>,
    ) -> Result<(StatusCode, Bytes), CallError> {
        let target = self.targets.get(module).ok_or_else(|| {
            CallError::unreachable(format!(
                "module {module} does not run in this process and remote.{module} is not set"
            ))
        })?;
        let token = self.token(caller)?;
        let mut trace_headers = axum::http::HeaderMap::new();
        crate::trace::inject(&mut trace_headers);
        // GET, PUT and DELETE are idempotent by contract; a POST is repeated only when it never
        // reached the other side.
        let repeatable = matches!(method, Method::GET | Method::PUT | Method::DELETE);
        let attempts = 1 + self.config.retries;
        let mut last_error = String::new();
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(50 << attempt.min(6))).await;
            }
            let Some(instance) = target.pick() else {
                metrics::counter!("pasar_service_calls_total", "target" => module.to_owned(), "outcome" => "circuit_open").increment(1);
                return Err(CallError::unreachable(format!(
                    "every instance of {module} is failing (circuit open)"
                )));
            };
            let sent = self
                .client
                .request(method.clone(), format!("{}{path}", instance.base_url))
                .headers(trace_headers.clone())
                .bearer_auth(&token)
                .header(header::CONTENT_TYPE, "application/json")
                .body(payload.clone())
                .send()
                .await;
            match sent {
                Ok(response) => {
                    let status = response.status();
                    let bytes = response.bytes().await;
                    match bytes {
                        Ok(bytes) if !is_instance_failure(status) => {
                            instance.breaker.success();
                            metrics::counter!("pasar_service_calls_total", "target" => module.to_owned(), "outcome" => "ok").increment(1);
                            return Ok((status, bytes));
                        }
                        Ok(bytes) => {
                            instance.breaker.failure(&self.config);
                            last_error = format!("{} answered {status}", instance.base_url);
                            if !repeatable || attempt + 1 == attempts {
                                return Ok((status, bytes));
                            }
                        }
                        Err(err) => {
                            instance.breaker.failure(&self.config);
                            last_error = format!("{}: {err}", instance.base_url);
                            if !repeatable {
                                break;
                            }
                        }
                    }
                }
                Err(err) => {
                    instance.breaker.failure(&self.config);
                    last_error = format!("{}: {err}", instance.base_url);
                    if !(repeatable || err.is_connect()) {
                        break;
                    }
                }
            }
            metrics::counter!("pasar_service_calls_total", "target" => module.to_owned(), "outcome" => "retry").increment(1);
        }
        metrics::counter!("pasar_service_calls_total", "target" => module.to_owned(), "outcome" => "failed").increment(1);
        Err(CallError::unreachable(last_error))
    }
}

/// Answers that say the instance, not the request, is at fault.
fn is_instance_failure(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT
    )
}

/// `http://a:1, http://b:2/` → `["http://a:1", "http://b:2"]`.
pub fn split_urls(urls: &str) -> Vec<String> {
    urls.split(',')
        .map(|url| url.trim().trim_end_matches('/').to_owned())
        .filter(|url| !url.is_empty())
        .collect()
}

impl Target {
    /// The next instance in turn whose circuit is closed (or due for a trial call).
    fn pick(&self) -> Option<&Instance> {
        let count = self.instances.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..count)
            .map(|offset| &self.instances[(start + offset) % count])
            .find(|instance| instance.breaker.allows())
    }
}

/// Consecutive failures open the circuit for `breaker_open_secs`; the first call after that is
/// a trial: a success closes it, a failure opens it again at once.
#[derive(Default)]
pub struct Breaker {
    failures: AtomicU32,
    /// Milliseconds since `epoch()` until which no call is made.
    open_until: AtomicI64,
}

fn epoch_millis() -> i64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as i64
}

impl Breaker {
    pub fn allows(&self) -> bool {
        self.open_until.load(Ordering::Relaxed) <= epoch_millis()
    }

    pub fn success(&self) {
        self.failures.store(0, Ordering::Relaxed);
        self.open_until.store(0, Ordering::Relaxed);
    }

    pub fn failure(&self, config: &ServicesConfig) {
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if failures >= config.breaker_failures.max(1) {
            let open_ms = (config.breaker_open_secs * 1000) as i64;
            self.open_until
                .store(epoch_millis() + open_ms, Ordering::Relaxed);
            tracing::warn!(failures, "circuit opened");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_paths_name_their_module() {
        assert_eq!(
            target_module("/internal/v1/orders/groups/x/payable"),
            Some("orders")
        );
        assert_eq!(target_module("/internal/v1/vouchers?x=1"), Some("vouchers"));
        assert_eq!(target_module("/api/v1/orders"), None);
        assert_eq!(target_module("/internal/v1/"), None);
    }

    #[test]
    fn urls_are_split_and_trimmed() {
        assert_eq!(
            split_urls(" http://a:1/, http://b:2 ,"),
            vec!["http://a:1".to_owned(), "http://b:2".to_owned()]
        );
    }

    #[test]
    fn the_breaker_opens_after_failures_in_a_row_and_closes_on_success() {
        let config = ServicesConfig {
            breaker_failures: 3,
            breaker_open_secs: 60,
            ..ServicesConfig::default()
        };
        let breaker = Breaker::default();
        breaker.failure(&config);
        breaker.failure(&config);
        assert!(breaker.allows());
        breaker.failure(&config);
        assert!(!breaker.allows());
        breaker.success();
        assert!(breaker.allows());
    }

    #[test]
    fn round_robin_skips_open_instances() {
        let config = ServicesConfig {
            breaker_failures: 1,
            breaker_open_secs: 60,
            ..ServicesConfig::default()
        };
        let target = Target {
            instances: ["http://a", "http://b", "http://c"]
                .into_iter()
                .map(|base_url| Instance {
                    base_url: base_url.into(),
                    breaker: Breaker::default(),
                })
                .collect(),
            next: AtomicUsize::new(0),
        };
        target.instances[1].breaker.failure(&config);
        let picked: Vec<&str> = (0..4)
            .filter_map(|_| target.pick().map(|i| i.base_url.as_str()))
            .collect();
        assert_eq!(picked, vec!["http://a", "http://c", "http://c", "http://a"]);
    }
}
