//! Forwarding: one pool of instances per module, health-checked in the background, taken in
//! turn; a request that never reached an instance goes to the next one.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, on, MethodFilter, MethodRouter};
use kernel::ApiError;
use platform::services::split_urls;
use platform::Context;
use utoipa_axum::router::OpenApiRouter;

use crate::routes::RouteTable;

/// The instances of one module (or of one process kind serving several modules).
pub struct Pool {
    module: String,
    instances: Vec<Instance>,
    next: AtomicUsize,
    client: reqwest::Client,
    body_limit: usize,
    /// Whether the gateway itself sits behind a proxy whose `X-Forwarded-For` it trusts.
    trust_forwarded_for: bool,
}

struct Instance {
    base_url: String,
    healthy: AtomicBool,
}

/// Headers that belong to one connection, not to the request (RFC 9110 §7.6.1).
const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::TE,
    header::TRAILER,
    header::PROXY_AUTHORIZATION,
];

pub fn router(
    ctx: &Context,
    table: &RouteTable,
    document: utoipa::openapi::OpenApi,
) -> OpenApiRouter {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(
            ctx.config.gateway.upstream_timeout_secs.max(1),
        ))
        .connect_timeout(Duration::from_secs(2))
        .pool_idle_timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default();
    let new_pool = |module: &str, urls: Vec<String>| {
        let pool = Arc::new(Pool {
            module: module.to_owned(),
            instances: urls
                .into_iter()
                .map(|base_url| Instance {
                    base_url,
                    healthy: AtomicBool::new(true),
                })
                .collect(),
            next: AtomicUsize::new(0),
            client: client.clone(),
            body_limit: ctx
                .config
                .http
                .upload_limit_bytes
                .max(ctx.config.http.body_limit_bytes),
            trust_forwarded_for: ctx.config.http.trust_forwarded_for,
        });
        tokio::spawn(health_checks(
            Arc::downgrade(&pool),
            Duration::from_millis(ctx.config.gateway.health_interval_ms.max(100)),
        ));
        pool
    };
    let mut pools: HashMap<&str, Arc<Pool>> = HashMap::new();
    for module in table.modules() {
        let urls = ctx
            .config
            .remote
            .get(module)
            .map(|urls| split_urls(urls))
            .unwrap_or_default();
        if urls.is_empty() {
            tracing::warn!(
                module,
                "remote.{module} is not set: its routes answer 503 at the gateway"
            );
        }
        pools.insert(module, new_pool(module, urls));
    }
    let mut router = OpenApiRouter::with_openapi(document);
    for (path, methods) in table.by_path() {
        let mut method_router: Option<MethodRouter> = None;
        for (method, module) in methods {
            let Some(pool) = pools.get(module).cloned() else {
                continue;
            };
            let Some(filter) = method_filter(method) else {
                continue;
            };
            let handler = on(filter, forward).with_state(pool);
            method_router = Some(match method_router {
                Some(existing) => existing.merge(handler),
                None => handler,
            });
        }
        if let Some(method_router) = method_router {
            router = router.route(path, method_router);
        }
    }
    // The portals' pages have no OpenAPI routes: when the layout runs web instances, every
    // path no module claims goes to them (the gateway's own paths stay more specific).
    let portals = ctx
        .config
        .remote
        .get("web")
        .map(|urls| split_urls(urls))
        .unwrap_or_default();
    if !portals.is_empty() {
        let pool = new_pool("web", portals);
        router = router
            .route("/", any(forward_page).with_state(pool.clone()))
            .route("/{*page}", any(forward_page).with_state(pool));
    }
    router
}

fn method_filter(method: &str) -> Option<MethodFilter> {
    Some(match method {
        "GET" => MethodFilter::GET,
        "POST" => MethodFilter::POST,
        "PUT" => MethodFilter::PUT,
        "PATCH" => MethodFilter::PATCH,
        "DELETE" => MethodFilter::DELETE,
        _ => return None,
    })
}

/// Asks each instance's `/health/ready` every `interval`, for as long as the pool is in use.
async fn health_checks(pool: Weak<Pool>, interval: Duration) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap_or_default();
    loop {
        let Some(pool) = pool.upgrade() else {
            return;
        };
        for instance in &pool.instances {
            let ready = client
                .get(format!("{}/health/ready", instance.base_url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            let was = instance.healthy.swap(ready, Ordering::Relaxed);
            if was != ready {
                tracing::warn!(module = %pool.module, instance = %instance.base_url, ready, "instance health changed");
            }
            metrics::gauge!("pasar_gateway_instance_up", "module" => pool.module.clone(), "instance" => instance.base_url.clone())
                .set(if ready { 1.0 } else { 0.0 });
        }
        drop(pool);
        tokio::time::sleep(interval).await;
    }
}

impl Pool {
    /// Instances in the order to try them: healthy ones in turn, then the others (a health
    /// check can lag behind a recovery).
    fn candidates(&self) -> Vec<&Instance> {
        let count = self.instances.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let turn = (0..count).map(|offset| &self.instances[(start + offset) % count]);
        let (healthy, unhealthy): (Vec<&Instance>, Vec<&Instance>) =
            turn.partition(|instance| instance.healthy.load(Ordering::Relaxed));
        healthy.into_iter().chain(unhealthy).collect()
    }
}

/// Whether a failed attempt may go to another instance: always when it never connected; after
/// a timeout or a dropped connection only when repeating it cannot do something twice.
fn repeatable(method: &Method, headers: &HeaderMap) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE
    ) || headers.contains_key("idempotency-key")
}

/// A page for the portals: never an internal route or a path the gateway keeps for itself.
async fn forward_page(State(pool): State<Arc<Pool>>, request: Request) -> Response {
    let path = request.uri().path();
    if path.starts_with("/internal/") || crate::routes::is_own_path(path) {
        return ApiError::not_found("route_not_found", "No route matches this path")
            .into_response();
    }
    forward(State(pool), request).await
}

async fn forward(State(pool): State<Arc<Pool>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match to_bytes(body, pool.body_limit).await {
        Ok(body) => body,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The request body is larger than allowed",
            )
            .into_response()
        }
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let client_ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip().to_string());
    let mut headers = parts.headers.clone();
    for name in HOP_BY_HOP
        .iter()
        .chain([&header::HOST, &header::CONTENT_LENGTH])
    {
        headers.remove(name);
    }
    // The modules behind limit and log by the first address of X-Forwarded-For: a client's
    // own header is kept only when a proxy the gateway trusts wrote it, else a client could
    // pick its rate-limit key.
    headers.remove("x-forwarded-for");
    if let Some(ip) = client_ip {
        let earlier = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .filter(|_| pool.trust_forwarded_for);
        let forwarded = match earlier {
            Some(earlier) => format!("{earlier}, {ip}"),
            None => ip,
        };
        if let Ok(value) = forwarded.parse() {
            headers.insert("x-forwarded-for", value);
        }
    }
    // The module behind continues this request's trace, not the client's span.
    platform::trace::inject(&mut headers);
    let retry_allowed = repeatable(&parts.method, &parts.headers);
    let mut last_error = String::from("no instance is configured");
    for instance in pool.candidates() {
        let sent = pool
            .client
            .request(
                parts.method.clone(),
                format!("{}{path_and_query}", instance.base_url),
            )
            .headers(headers.clone())
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(upstream) => {
                metrics::counter!("pasar_gateway_requests_total", "module" => pool.module.clone(), "outcome" => "forwarded").increment(1);
                return relay_response(upstream).await;
            }
            Err(err) => {
                let connected = !err.is_connect();
                if !connected {
                    // Passive health: skip it until its health check passes again.
                    instance.healthy.store(false, Ordering::Relaxed);
                }
                last_error = format!("{}: {err}", instance.base_url);
                tracing::warn!(module = %pool.module, instance = %instance.base_url, error = %err, "forwarding failed");
                if connected && !retry_allowed {
                    metrics::counter!("pasar_gateway_requests_total", "module" => pool.module.clone(), "outcome" => "failed").increment(1);
                    return ApiError::new(
                        StatusCode::BAD_GATEWAY,
                        "upstream_failed",
                        "The service handling this request did not answer; it may or may not have acted on it",
                    )
                    .into_response();
                }
            }
        }
    }
    tracing::warn!(module = %pool.module, error = %last_error, "no instance could take the request");
    metrics::counter!("pasar_gateway_requests_total", "module" => pool.module.clone(), "outcome" => "unavailable").increment(1);
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "upstream_unavailable",
        format!("No instance of {} is available", pool.module),
    )
    .into_response()
}

async fn relay_response(upstream: reqwest::Response) -> Response {
    let status = upstream.status();
    let mut headers = upstream.headers().clone();
    for name in HOP_BY_HOP.iter().chain([&header::CONTENT_LENGTH]) {
        headers.remove(name);
    }
    match upstream.bytes().await {
        Ok(bytes) => {
            let mut response = Response::new(Body::from(bytes));
            *response.status_mut() = status;
            *response.headers_mut() = headers;
            response
        }
        Err(err) => {
            tracing::warn!(error = %err, "upstream response cut short");
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "upstream_failed",
                "The service handling this request stopped answering midway",
            )
            .into_response()
        }
    }
}
