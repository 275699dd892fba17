//! The rate-limit route layer: each module wraps its routes with the class they belong to.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use kernel::{Actor, ApiError};
use utoipa_axum::router::OpenApiRouter;

use super::auth::ClientIp;
use crate::ratelimit::{Decision, RateLimiter, RouteClass};

/// How a group of routes is classified.
#[derive(Debug, Clone, Copy)]
pub enum ClassPolicy {
    Fixed(RouteClass),
    /// Reads are `public_read` (anonymous) or `authenticated`; everything else is `write`.
    ByMethod,
    /// Reads as `ByMethod`; writes count against this class (checkout, payment): the costly
    /// actions get their own, tighter budget.
    WritesAs(RouteClass),
}

impl ClassPolicy {
    fn class_for(self, method: &Method, authenticated: bool) -> RouteClass {
        let writes = match self {
            ClassPolicy::Fixed(class) => return class,
            ClassPolicy::ByMethod => RouteClass::Write,
            ClassPolicy::WritesAs(class) => class,
        };
        match *method {
            Method::GET | Method::HEAD | Method::OPTIONS if authenticated => {
                RouteClass::Authenticated
            }
            Method::GET | Method::HEAD | Method::OPTIONS => RouteClass::PublicRead,
            _ => writes,
        }
    }
}

#[derive(Clone)]
pub struct LimitState {
    limiter: Arc<dyn RateLimiter>,
    policy: ClassPolicy,
}

/// Wraps `router` so each request is counted against its class.
pub fn rate_limited<S: Clone + Send + Sync + 'static>(
    router: OpenApiRouter<S>,
    limiter: Option<Arc<dyn RateLimiter>>,
    policy: ClassPolicy,
) -> OpenApiRouter<S> {
    match limiter {
        Some(limiter) => router.route_layer(middleware::from_fn_with_state(
            LimitState { limiter, policy },
            enforce,
        )),
        None => router,
    }
}

async fn enforce(State(state): State<LimitState>, request: Request, next: Next) -> Response {
    let actor = request.extensions().get::<Actor>();
    let class = state.policy.class_for(request.method(), actor.is_some());
    let key = match (actor, request.extensions().get::<ClientIp>()) {
        (Some(actor), _) => format!("u:{}", actor.user_id),
        (None, Some(ClientIp(Some(ip)))) => format!("ip:{ip}"),
        (None, _) => "ip:unknown".to_owned(),
    };
    let decision = state.limiter.check(class, &key).await;
    if !decision.allowed {
        metrics::counter!("pasar_rate_limited_total", "class" => class.as_str()).increment(1);
        let mut response = ApiError::too_many_requests(decision.retry_after_secs).into_response();
        write_headers(&mut response, &decision);
        return response;
    }
    let mut response = next.run(request).await;
    write_headers(&mut response, &decision);
    response
}

fn write_headers(response: &mut Response, decision: &Decision) {
    let headers = response.headers_mut();
    headers.insert("ratelimit-limit", HeaderValue::from(decision.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(decision.remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(decision.reset_secs));
}
