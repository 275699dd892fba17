//! The calling side of synchronous calls between modules, as contracts see it.
//!
//! Each module's contract crate holds a typed client over [`Services`]; how a call travels (into
//! the router of this process, or over HTTP to another one) is the platform's [`Transport`].
//! Contracts stay free of I/O and of the platform, so a module depends on the contracts of the
//! modules it calls and never on their implementations.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::Bytes;
pub use axum::http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ApiError;

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
    /// The called module could not be reached, or its answer could not be read.
    pub fn unreachable(detail: impl Into<String>) -> Self {
        Self {
            status: 503,
            code: "service_unavailable".into(),
            detail: detail.into(),
            problem: serde_json::Value::Null,
        }
    }

    /// Whether the called module answered with `code` (one of its contract's error codes).
    pub fn is<C: ErrorCode>(&self, code: C) -> bool {
        self.code == code.as_str()
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

/// The stable problem codes a module answers with, listed in its contract.
pub trait ErrorCode: Copy + 'static {
    fn as_str(self) -> &'static str;
    fn status(self) -> StatusCode;
    /// One sentence for the error catalogue (`docs/errors.md`).
    fn meaning(self) -> &'static str;
    fn all() -> &'static [Self];
}

/// One code as the error catalogue (`docs/errors.md`) lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeSpec {
    pub code: &'static str,
    pub status: u16,
    pub meaning: &'static str,
}

/// Every code of `C`, for the catalogue.
pub fn codes<C: ErrorCode>() -> Vec<CodeSpec> {
    C::all()
        .iter()
        .map(|c| CodeSpec {
            code: c.as_str(),
            status: c.status().as_u16(),
            meaning: c.meaning(),
        })
        .collect()
}

/// Declares a contract's error codes: `Variant => ("code", STATUS, "meaning")`.
#[macro_export]
macro_rules! error_codes {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => ($code:literal, $status:ident, $meaning:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $crate::call::ErrorCode for $name {
            fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            fn status(self) -> $crate::call::StatusCode {
                match self { $($name::$variant => $crate::call::StatusCode::$status),+ }
            }
            fn meaning(self) -> &'static str {
                match self { $($name::$variant => $meaning),+ }
            }
            fn all() -> &'static [Self] {
                &[$($name::$variant),+]
            }
        }

        impl $name {
            /// The problem this code answers with.
            pub fn problem(self, detail: impl Into<String>) -> $crate::ApiError {
                use $crate::call::ErrorCode as _;
                $crate::ApiError::new(self.status(), self.as_str(), detail)
            }
        }
    };
}

/// The answer of a transport: the called route's status and body.
pub type Answer = Result<(StatusCode, Bytes), CallError>;

/// How calls travel; implemented by the platform.
pub trait Transport: Send + Sync + 'static {
    fn send<'a>(
        &'a self,
        caller: &'a str,
        method: Method,
        path: &'a str,
        body: Vec<u8>,
    ) -> Pin<Box<dyn Future<Output = Answer> + Send + 'a>>;
}

/// A transport that reaches nothing: for values that are built before the platform is.
struct Unconnected;

impl Transport for Unconnected {
    fn send<'a>(
        &'a self,
        _caller: &'a str,
        _method: Method,
        path: &'a str,
        _body: Vec<u8>,
    ) -> Pin<Box<dyn Future<Output = Answer> + Send + 'a>> {
        Box::pin(async move { Err(CallError::unreachable(format!("{path}: no transport"))) })
    }
}

/// The handle typed clients call through. Cheap to clone.
#[derive(Clone)]
pub struct Services(Arc<dyn Transport>);

impl Default for Services {
    fn default() -> Self {
        Self(Arc::new(Unconnected))
    }
}

impl Services {
    pub fn new(transport: Arc<dyn Transport>) -> Self {
        Self(transport)
    }

    /// Calls `method path` with a JSON body as the internal service of `caller`.
    pub async fn call<B: Serialize, R: DeserializeOwned>(
        &self,
        caller: &str,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<R, CallError> {
        let payload = match body {
            Some(body) => serde_json::to_vec(body)
                .map_err(|e| CallError::unreachable(format!("cannot encode request: {e}")))?,
            None => Vec::new(),
        };
        let (status, bytes) = self.0.send(caller, method, path, payload).await?;
        decode(status, &bytes)
    }
}

fn decode<R: DeserializeOwned>(status: StatusCode, bytes: &[u8]) -> Result<R, CallError> {
    if status.is_success() {
        let text: &[u8] = if bytes.is_empty() { b"null" } else { bytes };
        return serde_json::from_slice(text)
            .map_err(|e| CallError::unreachable(format!("cannot decode response: {e}")));
    }
    let problem: serde_json::Value =
        serde_json::from_slice(bytes).unwrap_or(serde_json::Value::Null);
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

#[cfg(test)]
mod tests {
    use super::*;

    crate::error_codes! {
        enum Codes {
            Gone => ("thing_gone", NOT_FOUND, "The thing is gone."),
        }
    }

    #[test]
    fn codes_answer_their_problem_and_match_call_errors() {
        let problem = Codes::Gone.problem("gone");
        assert_eq!(problem.status, StatusCode::NOT_FOUND);
        assert_eq!(problem.code, "thing_gone");
        let err = decode::<()>(
            StatusCode::NOT_FOUND,
            br#"{"code":"thing_gone","detail":"gone"}"#,
        )
        .unwrap_err();
        assert!(err.is(Codes::Gone));
        assert_eq!(Codes::all().len(), 1);
    }
}
