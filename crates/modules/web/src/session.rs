//! The browser's side of signing in: the session cookie (the API's tokens, sealed so the
//! browser can neither read nor alter them), the form token against cross-site requests, the
//! language, and one-shot messages after a form. The visit layer reads them before every page
//! and writes what changed after it.

use std::net::IpAddr;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kernel::{Role, Sealed, Timestamp};
use platform::http::ClientIp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::backend::Caller;
use crate::error::WebError;
use crate::i18n::Locale;
use crate::Web;

const SESSION: &str = "pasar_session";
const CSRF: &str = "pasar_csrf";
const LANG: &str = "pasar_lang";
const FLASH: &str = "pasar_flash";
/// The form field carrying the form token.
pub const CSRF_FIELD: &str = "_csrf";
/// Largest form a page accepts (forms here carry text only).
const MAX_FORM_BYTES: usize = 64 * 1024;
/// Refresh the access token this long before it expires.
const REFRESH_MARGIN_SECS: i64 = 30;

/// What the session cookie holds, sealed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionData {
    pub user_id: Uuid,
    pub email: String,
    pub admin: bool,
    pub access_token: String,
    pub refresh_token: String,
    /// Epoch seconds.
    pub access_expires_at: i64,
    pub last_seen: i64,
}

/// A message shown once on the next page (after a form redirected).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    /// `ok` or `error`.
    pub kind: String,
    pub text: String,
}

/// Everything a page knows about who is looking at it.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub session: Option<SessionData>,
    pub csrf: String,
    pub locale: Locale,
    pub ip: Option<IpAddr>,
    pub flash: Option<Flash>,
    pub path: String,
}

impl Visitor {
    pub fn caller(&self) -> Caller<'_> {
        Caller {
            token: self.session.as_ref().map(|s| s.access_token.as_str()),
            ip: self.ip,
        }
    }

    /// The visitor's address without a token (sign-in, registration).
    pub fn caller_anonymous(&self) -> Caller<'_> {
        Caller {
            token: None,
            ip: self.ip,
        }
    }

    /// The session, or the sign-in page.
    pub fn signed_in(&self) -> Result<&SessionData, WebError> {
        self.session.as_ref().ok_or(WebError::SignIn)
    }
}

/// What a handler wants written besides its page: set by handlers in the response's
/// extensions, applied by the visit layer.
#[derive(Debug, Clone)]
pub enum SessionChange {
    Start(Box<SessionData>),
    End,
}

/// Cookie names and attributes.
#[derive(Clone)]
pub struct Cookies {
    pub secure: bool,
    pub session_days: i64,
}

impl Cookies {
    /// `__Host-` names over TLS: the browser then refuses them from a subdomain or over HTTP.
    fn name(&self, base: &str) -> String {
        if self.secure {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }

    fn header(&self, base: &str, value: &str, max_age: i64) -> Option<HeaderValue> {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
            self.name(base)
        ))
        .ok()
    }
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

impl Web {
    /// A cookie's value sealed for `purpose`: one sealed for another purpose (or any other
    /// sealed value of the deployment) does not open as this one.
    fn open<T: for<'de> Deserialize<'de>>(&self, purpose: &str, value: &str) -> Option<T> {
        let text = self.ctx.sealer.open(&Sealed(value.to_owned())).ok()?;
        let json = text.strip_prefix(purpose)?.strip_prefix(':')?;
        serde_json::from_str(json).ok()
    }

    fn seal<T: Serialize>(&self, purpose: &str, value: &T) -> Option<String> {
        let text = format!("{purpose}:{}", serde_json::to_string(value).ok()?);
        self.ctx.sealer.seal(&text).ok().map(|s| s.0)
    }

    /// A session for the tokens sign-in returned; the roles come from the token itself.
    pub async fn session_for(
        &self,
        email: &str,
        tokens: &serde_json::Value,
    ) -> Result<SessionData, WebError> {
        let text = |key: &str| tokens.get(key).and_then(|v| v.as_str()).unwrap_or_default();
        let access_token = text("accessToken").to_owned();
        let actor = self
            .ctx
            .authenticator
            .authenticate_token(&access_token)
            .await
            .map_err(|e| WebError::Backend(format!("the new access token: {e}")))?;
        let now = Timestamp::now().seconds();
        Ok(SessionData {
            user_id: actor.user_id,
            email: email.to_owned(),
            admin: actor.has_role(Role::Admin),
            refresh_token: text("refreshToken").to_owned(),
            access_expires_at: now
                + tokens
                    .get("expiresIn")
                    .and_then(|v| v.as_i64())
                    .unwrap_or(0),
            access_token,
            last_seen: now,
        })
    }

    /// The session of the request's cookie, refreshed when its access token is about to
    /// expire. `None` when there is none or it ended; the flag says whether to write it again.
    async fn current_session(
        &self,
        headers: &HeaderMap,
        ip: Option<IpAddr>,
    ) -> (Option<SessionData>, bool) {
        let Some(mut session) = cookie(headers, &self.cookies.name(SESSION))
            .and_then(|value| self.open::<SessionData>(SESSION, value))
        else {
            return (None, false);
        };
        let now = Timestamp::now().seconds();
        if now - session.last_seen > self.cookies.session_days * 86_400 {
            return (None, true);
        }
        let mut changed = false;
        if session.access_expires_at - REFRESH_MARGIN_SECS <= now {
            match self.refresh(&session, ip).await {
                Refreshed::Fresh(fresh) => {
                    session = *fresh;
                    changed = true;
                }
                // Revoked, expired or reused: signed out.
                Refreshed::Ended => return (None, true),
                // Identity unreachable or busy: the session stays as it is and is refreshed by
                // a later page (its access token may still have seconds to live).
                Refreshed::NotNow => {}
            }
        }
        // Sliding expiry, written at most once an hour.
        if now - session.last_seen > 3600 {
            session.last_seen = now;
            changed = true;
        }
        (Some(session), changed)
    }
}

enum Refreshed {
    Fresh(Box<SessionData>),
    Ended,
    NotNow,
}

/// Refresh answers kept a minute by refresh token, so pages of one browser asking at once
/// (the payment page polling while a link is followed) rotate the token once: identity takes a
/// refresh token twice as a stolen one and ends the session.
#[derive(Default)]
pub struct RefreshFlight {
    recent: tokio::sync::Mutex<Vec<(String, std::time::Instant, SessionData)>>,
}

const REFRESH_REUSE: std::time::Duration = std::time::Duration::from_secs(60);

impl Web {
    async fn refresh(&self, session: &SessionData, ip: Option<IpAddr>) -> Refreshed {
        let key = platform::secrets::token_hash(&session.refresh_token);
        // One refresh at a time in this process: refreshes are rare (one per access token).
        let mut recent = self.refreshes.recent.lock().await;
        recent.retain(|(_, at, _)| at.elapsed() < REFRESH_REUSE);
        if let Some((_, _, fresh)) = recent.iter().find(|(k, _, _)| *k == key) {
            return Refreshed::Fresh(Box::new(fresh.clone()));
        }
        let caller = Caller { token: None, ip };
        let answer = self
            .backend
            .send(
                &caller,
                Method::POST,
                "/api/v1/auth/refresh",
                &json!({"refreshToken": session.refresh_token}),
            )
            .await;
        match answer {
            Ok(answer) if answer.ok() => match self.session_for(&session.email, &answer.body).await
            {
                Ok(fresh) => {
                    recent.push((key, std::time::Instant::now(), fresh.clone()));
                    Refreshed::Fresh(Box::new(fresh))
                }
                Err(_) => Refreshed::NotNow,
            },
            Ok(answer) if answer.status == 401 => Refreshed::Ended,
            _ => Refreshed::NotNow,
        }
    }
}

/// The visit layer around every portal route.
pub async fn visit(State(web): State<Web>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let ip = parts.extensions.get::<ClientIp>().and_then(|ip| ip.0);
    let locale = cookie(&parts.headers, LANG)
        .and_then(Locale::parse)
        .unwrap_or_else(|| {
            Locale::negotiate(
                parts
                    .headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default(),
            )
        });
    let known_csrf = cookie(&parts.headers, &web.cookies.name(CSRF))
        .and_then(|value| web.open::<String>(CSRF, value));
    let (csrf, new_csrf) = match known_csrf {
        Some(token) => (token, false),
        None => (platform::secrets::random_token().unwrap_or_default(), true),
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let flash = cookie(&parts.headers, &web.cookies.name(FLASH))
        .and_then(|value| web.open::<Flash>(FLASH, value));

    let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD);
    let body = if unsafe_method {
        // A form from another site is refused before anything reads it (the browser says
        // where it comes from; the token is the check for browsers that do not).
        let cross_site = parts
            .headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|site| site == "cross-site");
        let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
            Ok(bytes) => bytes,
            Err(_) => return error_page(&web, locale, &WebError::BadForm("too large".into())),
        };
        let sent = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .unwrap_or_default()
            .into_iter()
            .find(|(key, _)| key == CSRF_FIELD)
            .map(|(_, value)| value)
            .unwrap_or_default();
        let matches =
            !new_csrf && !sent.is_empty() && bool::from(sent.as_bytes().ct_eq(csrf.as_bytes()));
        if cross_site || !matches {
            metrics_refused();
            return error_page(&web, locale, &WebError::Csrf);
        }
        Body::from(bytes)
    } else {
        body
    };

    let return_to = if unsafe_method {
        portal_home(&path).to_owned()
    } else {
        path.clone()
    };
    let (session, session_changed) = web.current_session(&parts.headers, ip).await;
    let signed_in = session.is_some();
    parts.extensions.insert(Visitor {
        session: session.clone(),
        csrf: csrf.clone(),
        locale,
        ip,
        flash: flash.clone(),
        path,
    });
    let mut response = next.run(Request::from_parts(parts, body)).await;

    if let Some(err) = response.extensions_mut().remove::<WebError>() {
        response = match err {
            WebError::SignIn | WebError::Api { status: 401, .. } => {
                let mut to_login = sign_in_redirect(&return_to);
                if signed_in {
                    // The API no longer takes the session's token.
                    write(&web, &mut to_login, SESSION, "", 0);
                }
                to_login
            }
            other => error_page(&web, locale, &other),
        };
    }
    // A path or form the router's extractors refused (a malformed id, a missing field) gets a
    // page too, not a plain-text body.
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/plain"));
    if plain && response.status().is_client_error() {
        let status = response.status();
        let detail = match status {
            StatusCode::NOT_FOUND => WebError::NotFound,
            _ => WebError::BadForm(String::new()),
        };
        response = error_page(&web, locale, &detail);
        *response.status_mut() = status;
    }
    let change = response.extensions_mut().remove::<SessionChange>();
    match change {
        Some(SessionChange::Start(session)) => {
            write_session(&web, &mut response, &session);
            // A new form token with every sign-in: one planted before it is worth nothing.
            let fresh = platform::secrets::random_token().unwrap_or_default();
            if let Some(sealed) = web.seal(CSRF, &fresh) {
                write(
                    &web,
                    &mut response,
                    CSRF,
                    &sealed,
                    web.cookies.session_days * 86_400,
                );
            }
        }
        Some(SessionChange::End) => write(&web, &mut response, SESSION, "", 0),
        None if session_changed => match &session {
            Some(session) => write_session(&web, &mut response, session),
            None => write(&web, &mut response, SESSION, "", 0),
        },
        None => {}
    }
    if new_csrf {
        if let Some(sealed) = web.seal(CSRF, &csrf) {
            write(
                &web,
                &mut response,
                CSRF,
                &sealed,
                web.cookies.session_days * 86_400,
            );
        }
    }
    if let Some(flash) = response.extensions_mut().remove::<Flash>() {
        if let Some(sealed) = web.seal(FLASH, &flash) {
            write(&web, &mut response, FLASH, &sealed, 120);
        }
    } else if flash.is_some() && response.status().is_success() {
        write(&web, &mut response, FLASH, "", 0);
    }
    response
}

fn metrics_refused() {
    metrics::counter!("pasar_web_forms_refused_total").increment(1);
    tracing::info!("portal form refused: missing, wrong or cross-site form token");
}

fn write_session(web: &Web, response: &mut Response, session: &SessionData) {
    if let Some(sealed) = web.seal(SESSION, session) {
        write(
            web,
            response,
            SESSION,
            &sealed,
            web.cookies.session_days * 86_400,
        );
    }
}

fn write(web: &Web, response: &mut Response, base: &str, value: &str, max_age: i64) {
    if let Some(value) = web.cookies.header(base, value, max_age) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The language chosen on the page: remembered for a year.
pub fn language_cookie(response: &mut Response, locale: Locale) {
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{LANG}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        locale.code()
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

fn sign_in_redirect(next: &str) -> Response {
    let target = format!(
        "/login?{}",
        serde_urlencoded::to_string([("next", next)]).unwrap_or_default()
    );
    crate::render::see_other(&target)
}

/// Where a form of `path` comes back to after signing in: its portal's first page.
fn portal_home(path: &str) -> &'static str {
    if path.starts_with("/admin") {
        "/admin"
    } else if path.starts_with("/merchant") {
        "/merchant"
    } else {
        "/"
    }
}

fn error_page(web: &Web, locale: Locale, err: &WebError) -> Response {
    let status = if err.status() == StatusCode::SEE_OTHER {
        StatusCode::UNAUTHORIZED
    } else {
        err.status()
    };
    let detail = match err {
        WebError::Api { code, detail, .. } => format!("{detail} ({code})"),
        WebError::BadForm(detail) => detail.clone(),
        _ => String::new(),
    };
    match web.views.error(locale, err.title_key(), &detail) {
        Ok(html) => (status, html).into_response(),
        Err(_) => status.into_response(),
    }
}
