//! Email/phone verification codes and password reset, delivered through a real SMTP server
//! and a real HTTP SMS receiver.

use std::time::Duration;

use serde_json::json;
use testkit::{eventually, on_both_backends, Backend, Mail, SmtpSink, TestApp, PASSWORD};

on_both_backends!(
    unverified_accounts_are_refused_gated_actions,
    email_code_verifies_once_and_brute_force_locks_it,
    phone_code_arrives_by_sms,
    forgot_and_reset_password_by_email,
);

async fn mail_with(smtp: &SmtpSink, to: &str, subject_part: &str) -> Mail {
    eventually(Duration::from_secs(15), "an email", || {
        let found = smtp
            .messages_to(to)
            .into_iter()
            .rev()
            .find(|m| m.subject.contains(subject_part));
        async move { found }
    })
    .await
}

fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|part| part.len() == 6)
        .expect("a six-digit code")
        .to_owned()
}

async fn email_code_verifies_once_and_brute_force_locks_it(backend: Backend) {
    let (app, smtp, _http) = TestApp::spawn_with_messaging(backend, Vec::new()).await;
    let user = app.register("verifier").await;
    let token = Some(user.access_token.as_str());
    let me = app.get("/api/v1/users/me", token).await;
    assert_eq!(me.body["verification"], "PENDING");

    let sent = app
        .post("/api/v1/users/verify-email", json!({}), token)
        .await;
    assert_eq!(sent.status, 202, "{:?}", sent.body);
    assert!(sent.body["sentTo"]
        .as_str()
        .unwrap()
        .contains("***@example.com"));
    let again = app
        .post("/api/v1/users/verify-email", json!({}), token)
        .await;
    assert_eq!(again.status, 429, "resend cooldown");
    assert!(again.header("retry-after").is_some());

    let mail = mail_with(&smtp, &user.email, "verification code").await;
    assert!(mail.from.contains("no-reply@pasar.local"));
    let code = code_in(&mail.body);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let miss = app
        .post("/api/v1/users/verify-email", json!({"code": wrong}), token)
        .await;
    assert_eq!(miss.status, 422);
    assert_eq!(miss.body["attemptsLeft"], 4);
    let ok = app
        .post("/api/v1/users/verify-email", json!({"code": code}), token)
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["verification"], "VERIFIED");
    assert_eq!(ok.body["emailVerified"], true);
    let reuse = app
        .post("/api/v1/users/verify-email", json!({"code": code}), token)
        .await;
    assert_eq!(reuse.status, 422);
    assert_eq!(reuse.code(), "no_active_code");
    let already = app
        .post("/api/v1/users/verify-email", json!({}), token)
        .await;
    assert_eq!(already.status, 409);

    // Brute force: five wrong guesses lock the code, even the right one is then refused.
    let other = app.register("bruteforced").await;
    let token = Some(other.access_token.as_str());
    assert_eq!(
        app.post("/api/v1/users/verify-email", json!({}), token)
            .await
            .status,
        202
    );
    let code = code_in(
        &mail_with(&smtp, &other.email, "verification code")
            .await
            .body,
    );
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let guesses = futures_util::future::join_all(
        (0..7).map(|_| app.post("/api/v1/users/verify-email", json!({"code": wrong}), token)),
    )
    .await;
    let statuses: Vec<u16> = guesses.iter().map(|g| g.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 422).count(),
        4,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 423).count(),
        3,
        "{statuses:?}"
    );
    let right = app
        .post("/api/v1/users/verify-email", json!({"code": code}), token)
        .await;
    assert_eq!(right.status, 423);
    assert_eq!(right.code(), "code_locked");
    app.stop().await;
}

async fn phone_code_arrives_by_sms(backend: Backend) {
    let (app, _smtp, http) = TestApp::spawn_with_messaging(backend, Vec::new()).await;
    let user = app.register("texter").await;
    let token = Some(user.access_token.as_str());
    let no_phone = app
        .post("/api/v1/users/verify-phone", json!({}), token)
        .await;
    assert_eq!(no_phone.status, 409);
    assert_eq!(no_phone.code(), "no_phone");
    app.put("/api/v1/users/me", json!({"phone": "+85512999888"}), token)
        .await;
    assert_eq!(
        app.post("/api/v1/users/verify-phone", json!({}), token)
            .await
            .status,
        202
    );
    let sms = eventually(Duration::from_secs(15), "an SMS", || {
        let found = http
            .received()
            .into_iter()
            .find(|r| r.body["to"] == "+85512999888");
        async move { found }
    })
    .await;
    assert_eq!(sms.headers["authorization"], "Bearer sms-key");
    let code = code_in(sms.body["text"].as_str().unwrap());
    let ok = app
        .post("/api/v1/users/verify-phone", json!({"code": code}), token)
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["phoneVerified"], true);
    // A new number is unverified again.
    let changed = app
        .put("/api/v1/users/me", json!({"phone": "+85512999777"}), token)
        .await;
    assert_eq!(changed.body["phoneVerified"], false);
    app.stop().await;
}

async fn forgot_and_reset_password_by_email(backend: Backend) {
    let (app, smtp, _http) = TestApp::spawn_with_messaging(backend, Vec::new()).await;
    let user = app.register("forgetful").await;
    let unknown = app
        .post(
            "/api/v1/auth/forgot-password",
            json!({"email": "nobody@example.com"}),
            None,
        )
        .await;
    assert_eq!(unknown.status, 202);
    let known = app
        .post(
            "/api/v1/auth/forgot-password",
            json!({"email": user.email.to_uppercase()}),
            None,
        )
        .await;
    assert_eq!(known.status, 202);
    assert_eq!(known.body, unknown.body, "the answer reveals nothing");
    let mail = mail_with(&smtp, &user.email, "Reset your Pasar password").await;
    let reset_token = mail
        .body
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 43 && !l.contains(' '))
        .expect("a reset token line")
        .to_owned();

    let weak = app
        .post(
            "/api/v1/auth/reset-password",
            json!({"token": reset_token, "newPassword": "weak"}),
            None,
        )
        .await;
    assert_eq!(weak.status, 422);
    let new_password = "R3set!Password";
    let reset = app
        .post(
            "/api/v1/auth/reset-password",
            json!({"token": reset_token, "newPassword": new_password}),
            None,
        )
        .await;
    assert_eq!(reset.status, 204, "{:?}", reset.body);
    let reuse = app
        .post(
            "/api/v1/auth/reset-password",
            json!({"token": reset_token, "newPassword": "An0ther!Pass"}),
            None,
        )
        .await;
    assert_eq!(reuse.status, 400);
    assert_eq!(reuse.code(), "invalid_reset_token");
    assert_eq!(
        app.get("/api/v1/users/me", Some(&user.access_token))
            .await
            .status,
        401,
        "all sessions revoked"
    );
    assert_eq!(app.login(&user.email, PASSWORD).await.status, 401);
    let login = app.login(&user.email, new_password).await;
    assert_eq!(login.status, 200);
    let me = app
        .get("/api/v1/users/me", login.body["accessToken"].as_str())
        .await;
    assert_eq!(
        me.body["emailVerified"], true,
        "using the emailed token proves the address"
    );
    mail_with(&smtp, &user.email, "password was changed").await;

    // Three reset emails per hour per account; further requests still answer 202.
    for _ in 0..4 {
        let resp = app
            .post(
                "/api/v1/auth/forgot-password",
                json!({"email": user.email}),
                None,
            )
            .await;
        assert_eq!(resp.status, 202);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let resets = smtp
        .messages_to(&user.email)
        .into_iter()
        .filter(|m| m.subject.contains("Reset"))
        .count();
    assert_eq!(resets, 3, "one earlier + two more within the hour");
    assert!(smtp.messages_to("nobody@example.com").is_empty());
    app.stop().await;
}

/// A stand-in for checkout: the gate every money-moving module calls.
fn gated_module() -> platform::Module {
    use axum::routing::post;
    platform::Module::new("gatetest", &[], |ctx| {
        let ctx = ctx.clone();
        platform::ModuleParts {
            routes: utoipa_axum::router::OpenApiRouter::new().route(
                "/api/v1/test/checkout",
                post(move |actor: kernel::Actor| {
                    let ctx = ctx.clone();
                    async move {
                        ctx.require_verified(&actor, "checkout")
                            .map(|()| axum::http::StatusCode::NO_CONTENT)
                    }
                }),
            ),
            ..platform::ModuleParts::default()
        }
    })
}

async fn unverified_accounts_are_refused_gated_actions(backend: Backend) {
    let (app, smtp, _http) = TestApp::spawn_with_messaging(backend, vec![gated_module()]).await;
    let user = app.register("gated").await;
    let refused = app
        .post("/api/v1/test/checkout", json!({}), Some(&user.access_token))
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.code(), "verification_required");
    assert_eq!(
        app.post(
            "/api/v1/users/verify-email",
            json!({}),
            Some(&user.access_token)
        )
        .await
        .status,
        202
    );
    let code = code_in(
        &mail_with(&smtp, &user.email, "verification code")
            .await
            .body,
    );
    let verified = app
        .post(
            "/api/v1/users/verify-email",
            json!({"code": code}),
            Some(&user.access_token),
        )
        .await;
    assert_eq!(verified.status, 200);
    // The next token (after refresh) says so.
    let refreshed = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refreshToken": user.refresh_token}),
            None,
        )
        .await;
    let token = refreshed.body["accessToken"].as_str().unwrap();
    assert_eq!(
        app.post("/api/v1/test/checkout", json!({}), Some(token))
            .await
            .status,
        204
    );
    app.stop().await;

    // With the gate configured off, unverified accounts may proceed.
    let open = TestApp::spawn_with(
        backend,
        |c| c.auth.unverified_may_not.clear(),
        vec![gated_module()],
    )
    .await;
    let user = open.register("ungated").await;
    assert_eq!(
        open.post("/api/v1/test/checkout", json!({}), Some(&user.access_token))
            .await
            .status,
        204
    );
    open.stop().await;
}
