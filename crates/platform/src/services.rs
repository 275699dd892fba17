//! Synchronous calls between modules (typed clients in each module's `api.rs` sit on this).
//!
//! In one process a call goes straight into the composed router, without a socket, as the
//! internal service actor. The transport is the only thing a split deployment changes, so the
//! routes behind a typed client are the same in both layouts.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use kernel::{Actor, ApiError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tower::ServiceExt;

/// An error answered by the called module (its problem+json), or a failure to reach it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {code}: {detail}")]
pub struct CallError {
    pub status: u16,
    pub code: String,
    pub detail: String,
    /// The whole problem document, for callers that read its extensions.
    pub problem: serde_json::Value,
}

impl CallError {
    fn unreachable(detail: impl Into<String>) -> Self {
        Self {
            status: 503,
            code: "service_unavailable".into(),
            detail: detail.into(),
            problem: serde_json::Value::Null,
        }
    }
}

impl From<CallError> for ApiError {
    /// A dependency's error is not the caller's fault unless the caller maps it: by default it
    /// surfaces as 502/503 without leaking the other module's wording.
    fn from(err: CallError) -> Self {
        tracing::warn!(status = err.status, code = %err.code, detail = %err.detail, "internal call failed");
        if err.status == 503 {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "dependency_unavailable",
                "A service this request depends on is unavailable",
            )
        } else {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "dependency_failed",
                "A service this request depends on failed",
            )
        }
    }
}

#[derive(Clone, Default)]
pub struct Services {
    local: Arc<OnceLock<Router>>,
}

impl Services {
    /// Installs the router of the modules in this process (once, after assembly).
    pub fn set_local(&self, router: Router) {
        let _ = self.local.set(router);
    }

    /// Calls `method path` with a JSON body as the internal service of `caller`.
    pub async fn call<B: Serialize, R: DeserializeOwned>(
        &self,
        caller: &str,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<R, CallError> {
        let router = self
            .local
            .get()
            .ok_or_else(|| CallError::unreachable("no module serves this call in this process"))?
            .clone();
        let payload = match body {
            Some(body) => serde_json::to_vec(body)
                .map_err(|e| CallError::unreachable(format!("cannot encode request: {e}")))?,
            None => Vec::new(),
        };
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(payload))
            .map_err(|e| CallError::unreachable(format!("bad request: {e}")))?;
        request.extensions_mut().insert(Actor::internal(caller));
        let response = router
            .oneshot(request)
            .await
            .map_err(|e| CallError::unreachable(e.to_string()))?;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024)
            .await
            .map_err(|e| CallError::unreachable(format!("cannot read response: {e}")))?;
        if status.is_success() {
            let text: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
            return serde_json::from_slice(text)
                .map_err(|e| CallError::unreachable(format!("cannot decode response: {e}")));
        }
        let problem: serde_json::Value =
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        let text = |key: &str| {
            problem
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        Err(CallError {
            status: status.as_u16(),
            code: text("code"),
            detail: text("detail"),
            problem,
        })
    }
}
