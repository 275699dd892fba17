//! The edge stack in front of every route, and the JSON extractor handlers use.

pub mod auth;
pub mod json;
pub mod limit;
pub mod ops;
pub mod text;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use kernel::ApiError;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tracing::field::Empty;
use tracing::Instrument;

use crate::trace;

pub use auth::{
    internal_only, AccessClaims, AuthenticatedUser, Authenticator, ClientIp, MembershipSource,
};
pub use json::ApiJson;
pub use limit::{rate_limited, ClassPolicy};

use crate::config::HttpConfig;

/// The route template a response was produced by (for logs and metrics labels).
#[derive(Debug, Clone)]
struct RouteTemplate(Arc<str>);

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps the routed application in the edge stack. Outermost first: request id, access log and
/// metrics, security headers (and `Cache-Control: no-store` unless the route set one), problem bodies for bare errors, panic guard, CORS, timeout, body
/// limit, token verification.
pub fn edge(router: Router, config: &HttpConfig, authenticator: Arc<Authenticator>) -> Router {
    // `Router::layer` wraps outside what is already there, so this reads innermost first.
    router
        .route_layer(middleware::from_fn(record_route))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            authenticator,
            auth::authenticate,
        ))
        .layer(middleware::from_fn(text::reject_control_in_uri))
        // Extractors stop at body_limit_bytes unless a route sets its own (uploads); no body
        // passes the upload limit at all.
        .layer(DefaultBodyLimit::max(config.body_limit_bytes))
        .layer(RequestBodyLimitLayer::new(
            config.upload_limit_bytes.max(config.body_limit_bytes),
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(config.request_timeout_secs.max(1)),
        ))
        .layer(tower::util::option_layer(cors(config)))
        .layer(CatchPanicLayer::custom(|_panic| {
            tracing::error!("request handler panicked");
            ApiError::internal().into_response()
        }))
        .layer(middleware::from_fn(problem_bodies))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // Answers carry tokens, personal data and exports: no cache keeps them unless the
        // route says it may (JWKS, API docs assets).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(middleware::from_fn(observe))
        .layer(PropagateRequestIdLayer::new(X_REQUEST_ID))
        .layer(SetRequestIdLayer::new(X_REQUEST_ID, MakeRequestUuid))
}

/// No layer at all when no origin is allowed: answers then carry no CORS headers, which is
/// what browsers need to refuse cross-origin use, and no request pays for the layer.
fn cors(config: &HttpConfig) -> Option<CorsLayer> {
    if config.cors_allowed_origins.is_empty() {
        return None;
    }
    let origins: Arc<[HeaderValue]> = config
        .cors_allowed_origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    // A predicate over a shared list: the layer is cloned per request, and a plain list would
    // clone its Vec each time.
    let layer = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            origins.iter().any(|allowed| allowed == origin)
        }))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-cart-token"),
            X_REQUEST_ID,
        ])
        .expose_headers([
            X_REQUEST_ID,
            header::RETRY_AFTER,
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-reset"),
        ])
        .max_age(Duration::from_secs(3600));
    Some(layer)
}

async fn not_found() -> ApiError {
    ApiError::not_found("route_not_found", "No route matches this path")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This path does not support this method",
    )
}

async fn record_route(request: Request, next: Next) -> Response {
    let template = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| Arc::<str>::from(path.as_str()));
    let mut response = next.run(request).await;
    if let Some(template) = template {
        response.extensions_mut().insert(RouteTemplate(template));
    }
    response
}

/// One JSON access-log line and the HTTP metrics per request.
async fn observe(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let request_id = request
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let span = trace::continue_from_headers(
        tracing::info_span!(
            target: trace::TARGET,
            "request",
            otel.kind = "server",
            trace_id = Empty,
        ),
        request.headers(),
    );
    let response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let route: Arc<str> = response
        .extensions()
        .get::<RouteTemplate>()
        .map(|r| r.0.clone())
        .unwrap_or_else(|| Arc::from("unmatched"));
    let user_id = response
        .extensions()
        .get::<AuthenticatedUser>()
        .map(|u| u.0.to_string())
        .unwrap_or_default();
    let status = response.status().as_u16();
    trace::finish_request(&span, &method, &route, status);
    span.in_scope(|| {
        tracing::info!(
            target: "pasar::access",
            method = %method,
            route = %route,
            status,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            request_id = %request_id,
            user_id = %user_id,
            "request"
        )
    });
    let method_label = method_label(&method);
    metrics::counter!("pasar_http_requests_total", "method" => method_label, "route" => route.clone(), "status" => status_label(status)).increment(1);
    metrics::histogram!("pasar_http_request_duration_seconds", "method" => method_label, "route" => route)
        .record(elapsed.as_secs_f64());
    response
}

/// Static label values, so recording a request allocates no label strings.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

fn status_label(status: u16) -> metrics::SharedString {
    match status {
        200 => "200".into(),
        201 => "201".into(),
        202 => "202".into(),
        204 => "204".into(),
        400 => "400".into(),
        401 => "401".into(),
        403 => "403".into(),
        404 => "404".into(),
        409 => "409".into(),
        422 => "422".into(),
        429 => "429".into(),
        500 => "500".into(),
        other => other.to_string().into(),
    }
}

/// Error responses produced below the handlers (timeouts, body limits, framework rejections)
/// get a problem+json body like every other error.
async fn problem_bodies(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    // Only bare framework answers (no body type, or plain text) are dressed up; a handler's
    // own error format (problem+json, RFC 6749 JSON for OAuth2, HTML pages) is left alone.
    let bare = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !bare {
        return response;
    }
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::SERVICE_UNAVAILABLE => "request_timeout",
        StatusCode::UNAUTHORIZED => "authentication_required",
        StatusCode::FORBIDDEN => "forbidden",
        s if s.is_server_error() => "internal_error",
        _ => "bad_request",
    };
    let detail = match status {
        StatusCode::SERVICE_UNAVAILABLE => "The request took too long and was abandoned".to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is larger than allowed".to_owned(),
        s => s.canonical_reason().unwrap_or("Error").to_owned(),
    };
    let (mut parts, _) = response.into_parts();
    let problem = ApiError::new(status, code, detail).into_response();
    let (problem_parts, body) = problem.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in problem_parts.headers.iter() {
        parts.headers.insert(name.clone(), value.clone());
    }
    Response::from_parts(parts, Body::new(body))
}
