//! The public API, called as the signed-in visitor. Pages hold no rule of their own: every read
//! and change is authorized by the module that owns it, exactly as for an app with the same
//! token. In one process the call goes into the router without a socket; in split layouts it
//! goes to `web.api_url` (the gateway).

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request};
use platform::http::ClientIp;
use platform::Context;
use serde_json::Value;
use tower::ServiceExt;

use crate::config::WebConfig;
use crate::error::WebError;

/// Largest API answer a page reads (a page of a list, a PDF is never rendered here).
const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;
const IDEMPOTENCY_KEY: &str = "idempotency-key";
const CALL_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone)]
pub struct Backend {
    ctx: Context,
    remote: Option<Remote>,
}

#[derive(Clone)]
struct Remote {
    client: reqwest::Client,
    base_url: String,
}

/// What the API answered: its status and JSON body (`null` when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The problem's stable code, or `http_<status>` for a bare error.
    pub fn code(&self) -> String {
        self.body
            .get("code")
            .and_then(Value::as_str)
            .map_or_else(|| format!("http_{}", self.status), str::to_owned)
    }

    /// The problem's human detail, with the first field error when there is one.
    pub fn detail(&self) -> String {
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
        let mut detail = text(&self.body, "detail")
            .or_else(|| text(&self.body, "title"))
            .unwrap_or_else(|| self.code());
        if let Some(first) = self
            .body
            .get("errors")
            .and_then(Value::as_array)
            .and_then(|errors| errors.first())
        {
            if let (Some(field), Some(message)) = (text(first, "field"), text(first, "message")) {
                detail = format!("{detail}: {field} {message}");
            }
        }
        detail
    }

    /// The body when the call succeeded, else the API's refusal as an error.
    pub fn into_ok(self) -> Result<Value, WebError> {
        if self.ok() {
            Ok(self.body)
        } else {
            Err(WebError::Api {
                status: self.status,
                code: self.code(),
                detail: self.detail(),
            })
        }
    }
}

/// One call: who calls, and from where (rate limits count per user, or per address).
pub struct Caller<'a> {
    pub token: Option<&'a str>,
    pub ip: Option<std::net::IpAddr>,
}

impl Backend {
    pub fn new(ctx: Context, config: &WebConfig) -> Self {
        let remote = config.api_url.as_ref().map(|url| Remote {
            client: reqwest::Client::builder()
                .timeout(CALL_TIMEOUT)
                .build()
                .unwrap_or_default(),
            base_url: url.trim_end_matches('/').to_owned(),
        });
        Self { ctx, remote }
    }

    pub async fn get(&self, caller: &Caller<'_>, path: &str) -> Result<Answer, WebError> {
        self.call(caller, Method::GET, path, None, None).await
    }

    pub async fn send(
        &self,
        caller: &Caller<'_>,
        method: Method,
        path: &str,
        body: &Value,
    ) -> Result<Answer, WebError> {
        self.call(caller, method, path, Some(body), None).await
    }

    /// A change the API makes once per key (checkout, payment): a form sent twice, by a
    /// double click or a resubmitted page, gets the first answer again.
    pub async fn send_once(
        &self,
        caller: &Caller<'_>,
        path: &str,
        body: &Value,
        key: &str,
    ) -> Result<Answer, WebError> {
        self.call(caller, Method::POST, path, Some(body), Some(key))
            .await
    }

    async fn call(
        &self,
        caller: &Caller<'_>,
        method: Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Result<Answer, WebError> {
        let payload = match body {
            Some(body) => serde_json::to_vec(body).map_err(|e| WebError::Backend(e.to_string()))?,
            None => Vec::new(),
        };
        match &self.remote {
            Some(remote) => remote.call(caller, method, path, payload, key).await,
            None => self.call_local(caller, method, path, payload, key).await,
        }
    }

    async fn call_local(
        &self,
        caller: &Caller<'_>,
        method: Method,
        path: &str,
        payload: Vec<u8>,
        key: Option<&str>,
    ) -> Result<Answer, WebError> {
        let router = self.ctx.mesh.local_router().ok_or_else(|| {
            WebError::Backend("the API does not run in this process: set web.api_url".into())
        })?;
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(key) = key {
            builder = builder.header(IDEMPOTENCY_KEY, key);
        }
        let mut request = builder
            .body(Body::from(payload))
            .map_err(|e| WebError::Backend(e.to_string()))?;
        // What the edge does for an app's request: the token becomes the actor.
        if let Some(token) = caller.token {
            match self.ctx.authenticator.authenticate_token(token).await {
                Ok(actor) => {
                    request.extensions_mut().insert(actor);
                }
                Err(_) => {
                    return Ok(Answer {
                        status: 401,
                        body: serde_json::json!({"code": "invalid_token"}),
                    })
                }
            }
        }
        request.extensions_mut().insert(ClientIp(caller.ip));
        // As long as a remote call may take: a stuck module does not hold the page forever.
        let response = tokio::time::timeout(CALL_TIMEOUT, router.oneshot(request))
            .await
            .map_err(|_| WebError::Backend(format!("{path}: no answer in time")))?
            .map_err(|e| WebError::Backend(e.to_string()))?;
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER_BYTES)
            .await
            .map_err(|e| WebError::Backend(e.to_string()))?;
        Ok(Answer {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        })
    }
}

impl Remote {
    async fn call(
        &self,
        caller: &Caller<'_>,
        method: Method,
        path: &str,
        payload: Vec<u8>,
        key: Option<&str>,
    ) -> Result<Answer, WebError> {
        let method = reqwest::Method::from_bytes(method.as_str().as_bytes())
            .map_err(|e| WebError::Backend(e.to_string()))?;
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base_url))
            .header(header::CONTENT_TYPE.as_str(), "application/json")
            .body(payload);
        if let Some(token) = caller.token {
            request = request.bearer_auth(token);
        }
        if let Some(key) = key {
            request = request.header(IDEMPOTENCY_KEY, key);
        }
        if let Some(ip) = caller.ip {
            request = request.header("x-forwarded-for", ip.to_string());
        }
        let response = request
            .send()
            .await
            .map_err(|e| WebError::Backend(e.to_string()))?;
        let status = response.status().as_u16();
        if response
            .content_length()
            .is_some_and(|length| length > MAX_ANSWER_BYTES as u64)
        {
            return Err(WebError::Backend(format!("{path}: answer too large")));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| WebError::Backend(e.to_string()))?;
        if bytes.len() > MAX_ANSWER_BYTES {
            return Err(WebError::Backend(format!("{path}: answer too large")));
        }
        Ok(Answer {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        })
    }
}
