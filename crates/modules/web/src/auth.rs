//! Signing in, registering, signing out and choosing the language: the same accounts as the
//! API, a session cookie for the browser.

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use serde::Deserialize;
use serde_json::json;

use crate::error::{Page, WebError};
use crate::i18n::{self, Locale};
use crate::render::{done, local_path, see_other, Portal};
use crate::session::{language_cookie, SessionChange, Visitor};
use crate::Web;

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/register", get(register_page).post(register))
        .route("/logout", post(logout))
        .route("/lang/{code}", get(language))
}

#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
}

async fn login_page(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Query(query): Query<Next>,
) -> Page {
    let next = local_path(query.next.as_deref(), "/");
    web.views.page(
        &visitor,
        portal_of(next),
        "auth/login.html",
        json!({"next": next}),
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Form(form): Form<LoginForm>,
) -> Page {
    let next = local_path(form.next.as_deref(), "/").to_owned();
    let email = form.email.trim().to_owned();
    let answer = web
        .backend
        .send(
            &visitor.caller_anonymous(),
            Method::POST,
            "/api/v1/auth/login",
            &json!({"email": email, "password": form.password}),
        )
        .await?;
    if !answer.ok() {
        let back = format!(
            "/login?{}",
            serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default()
        );
        let text = if answer.status == 401 {
            i18n::text(visitor.locale.code(), "auth.wrong_password")
        } else {
            answer.detail()
        };
        return Ok(done(&back, "error", text));
    }
    signed_in(&web, &email, &answer.body, &next).await
}

async fn signed_in(web: &Web, email: &str, tokens: &serde_json::Value, next: &str) -> Page {
    let session = web.session_for(email, tokens).await?;
    // An admin signing in from the shop's front page lands in the admin portal.
    let target = if next == "/" && session.admin {
        "/admin"
    } else {
        next
    };
    let mut response = see_other(target);
    response
        .extensions_mut()
        .insert(SessionChange::Start(Box::new(session)));
    Ok(response)
}

async fn register_page(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Query(query): Query<Next>,
) -> Page {
    let next = local_path(query.next.as_deref(), "/");
    web.views.page(
        &visitor,
        portal_of(next),
        "auth/register.html",
        json!({"next": next}),
    )
}

#[derive(Debug, Deserialize)]
pub struct RegisterForm {
    email: String,
    password: String,
    first_name: String,
    last_name: String,
    next: Option<String>,
}

async fn register(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Form(form): Form<RegisterForm>,
) -> Page {
    let next = local_path(form.next.as_deref(), "/").to_owned();
    let email = form.email.trim().to_owned();
    let answer = web
        .backend
        .send(
            &visitor.caller_anonymous(),
            Method::POST,
            "/api/v1/auth/register",
            &json!({"email": email, "password": form.password,
                    "firstName": form.first_name.trim(), "lastName": form.last_name.trim()}),
        )
        .await?;
    if !answer.ok() {
        return Ok(done("/register", "error", answer.detail()));
    }
    signed_in(&web, &email, &answer.body, &next).await
}

async fn logout(State(web): State<Web>, Extension(visitor): Extension<Visitor>) -> Page {
    if let Some(session) = &visitor.session {
        // The refresh token is revoked, so a copied cookie is worth nothing either.
        let answer = web
            .backend
            .send(
                &visitor.caller(),
                Method::POST,
                "/api/v1/auth/logout",
                &json!({"refreshToken": session.refresh_token}),
            )
            .await;
        match answer {
            Ok(answer) if answer.ok() => {}
            Ok(answer) => {
                tracing::warn!(code = %answer.code(), "sign-out: the session was not revoked")
            }
            Err(err) => tracing::warn!(error = %err, "sign-out could not revoke the session"),
        }
    }
    let mut response = see_other("/");
    response.extensions_mut().insert(SessionChange::End);
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct Back {
    back: Option<String>,
}

async fn language(Path(code): Path<String>, Query(query): Query<Back>) -> Page {
    let locale = Locale::parse(&code).ok_or(WebError::NotFound)?;
    let mut response = see_other(local_path(query.back.as_deref(), "/")).into_response();
    language_cookie(&mut response, locale);
    Ok(response)
}

fn portal_of(next: &str) -> Portal {
    if next.starts_with("/admin") {
        Portal::Admin
    } else if next.starts_with("/merchant") {
        Portal::Merchant
    } else {
        Portal::Customer
    }
}
