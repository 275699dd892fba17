//! Registration, login, lockout, refresh rotation and logout, through HTTP on both backends.

use std::time::Duration;

use serde_json::json;
use testkit::{on_both_backends, Backend, TestApp, PASSWORD};

on_both_backends!(
    register_returns_tokens_and_normalizes_email,
    register_refuses_duplicates,
    register_validates_every_field,
    malformed_and_overreaching_bodies_are_refused,
    login_by_email_or_phone,
    unknown_account_and_wrong_password_look_the_same,
    five_failures_lock_the_account_even_for_the_right_password,
    parallel_wrong_passwords_are_all_counted,
    unknown_accounts_lock_out_too,
    refresh_rotates_and_reuse_revokes_the_family,
    concurrent_refresh_with_one_token_yields_one_winner,
    logout_revokes_refresh_and_access_tokens,
    denylist_survives_restart,
);

async fn register_returns_tokens_and_normalizes_email(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let resp = app
        .post(
            "/api/v1/auth/register",
            json!({"email": "  Dara.Sok@Example.COM ", "password": PASSWORD,
                   "firstName": "Dara", "lastName": "Sok", "phone": "+855 12 345 678"}),
            None,
        )
        .await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    assert_eq!(resp.body["user"]["email"], "dara.sok@example.com");
    assert_eq!(resp.body["user"]["phone"], "+85512345678");
    assert_eq!(resp.body["user"]["roles"], json!(["customer"]));
    assert_eq!(resp.body["user"]["status"], "ACTIVE");
    assert_eq!(resp.body["tokenType"], "Bearer");
    assert_eq!(resp.body["expiresIn"], 900);
    assert!(
        resp.body.get("passwordHash").is_none() && resp.body["user"].get("passwordHash").is_none()
    );
    let token = resp.body["accessToken"].as_str().unwrap();
    let me = app.get("/api/v1/users/me", Some(token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["email"], "dara.sok@example.com");
    app.stop().await;
}

async fn register_refuses_duplicates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app
        .post(
            "/api/v1/auth/register",
            json!({"email": "twin@example.com", "password": PASSWORD, "firstName": "A",
                   "lastName": "B", "phone": "+6281234567890"}),
            None,
        )
        .await;
    assert_eq!(first.status, 201);
    let same_email = app
        .post(
            "/api/v1/auth/register",
            json!({"email": "TWIN@example.com", "password": PASSWORD, "firstName": "C", "lastName": "D"}),
            None,
        )
        .await;
    assert_eq!(same_email.status, 409);
    assert_eq!(same_email.code(), "email_taken");
    let same_phone = app
        .post(
            "/api/v1/auth/register",
            json!({"email": "other@example.com", "password": PASSWORD, "firstName": "C",
                   "lastName": "D", "phone": "+62 812 3456 7890"}),
            None,
        )
        .await;
    assert_eq!(same_phone.status, 409);
    assert_eq!(same_phone.code(), "phone_taken");
    // Nothing was created by the refused attempts.
    let admin = app.admin().await;
    let users = app
        .get(
            "/api/v1/admin/users?email=other@",
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(users.body["items"].as_array().unwrap().len(), 0);
    app.stop().await;
}

async fn register_validates_every_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let resp = app
        .post(
            "/api/v1/auth/register",
            json!({"email": "not-an-email", "password": "weakpass", "firstName": " ",
                   "lastName": "Ok", "phone": "12345"}),
            None,
        )
        .await;
    assert_eq!(resp.status, 422);
    assert_eq!(
        resp.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(resp.code(), "validation_failed");
    let fields: Vec<&str> = resp.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for field in ["email", "password", "firstName", "phone"] {
        assert!(fields.contains(&field), "{field} missing from {fields:?}");
    }
    let password_error = resp.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "password")
        .unwrap();
    let message = password_error["message"].as_str().unwrap();
    assert!(
        message.contains("upper-case") && message.contains("digit") && message.contains("symbol")
    );
    app.stop().await;
}

async fn malformed_and_overreaching_bodies_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let malformed = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/register"))
                .header("content-type", "application/json")
                .body("{\"email\": "),
        )
        .await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.code(), "malformed_json");
    let not_json = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/register"))
                .header("content-type", "text/plain")
                .body("hello"),
        )
        .await;
    assert_eq!(not_json.status, 415);
    // A client cannot make itself an admin at registration.
    let escalation = app
        .post(
            "/api/v1/auth/register",
            json!({"email": "sneaky@example.com", "password": PASSWORD, "firstName": "S",
                   "lastName": "N", "roles": ["admin"]}),
            None,
        )
        .await;
    assert_eq!(escalation.status, 422);
    assert_eq!(escalation.body["errors"][0]["field"], "roles");
    let login = app.login("sneaky@example.com", PASSWORD).await;
    assert_eq!(
        login.status, 401,
        "no account may exist after a refused body"
    );
    app.stop().await;
}

async fn login_by_email_or_phone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let resp = app
        .post(
            "/api/v1/auth/register",
            json!({"email": "phone.user@example.com", "password": PASSWORD, "firstName": "P",
                   "lastName": "U", "phone": "+85599887766"}),
            None,
        )
        .await;
    assert_eq!(resp.status, 201);
    let by_email = app.login("PHONE.USER@example.com", PASSWORD).await;
    assert_eq!(by_email.status, 200, "{:?}", by_email.body);
    assert!(by_email.body["accessToken"].is_string());
    assert!(by_email.body["refreshToken"].is_string());
    assert_eq!(by_email.body["tokenType"], "Bearer");
    let by_phone = app
        .post(
            "/api/v1/auth/login",
            json!({"phone": "+855 99 887 766", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(by_phone.status, 200);
    let both = app
        .post(
            "/api/v1/auth/login",
            json!({"email": "phone.user@example.com", "phone": "+85599887766", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(both.status, 422);
    app.stop().await;
}

async fn unknown_account_and_wrong_password_look_the_same(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register("known").await;
    let wrong = app.login(&user.email, "Wr0ng!Password").await;
    let unknown = app.login("nobody@example.com", "Wr0ng!Password").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(wrong.body, unknown.body);
    app.stop().await;
}

async fn five_failures_lock_the_account_even_for_the_right_password(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register("locked").await;
    for attempt in 1..=5 {
        let resp = app.login(&user.email, "Wr0ng!Password").await;
        let expected = if attempt < 5 { 401 } else { 423 };
        assert_eq!(resp.status, expected, "attempt {attempt}: {:?}", resp.body);
    }
    let right = app.login(&user.email, PASSWORD).await;
    assert_eq!(right.status, 423);
    assert_eq!(right.code(), "account_locked");
    let retry_after: u64 = right.header("retry-after").unwrap().parse().unwrap();
    assert!(
        retry_after > 800 && retry_after <= 900,
        "retry-after {retry_after}"
    );
    app.stop().await;
}

async fn parallel_wrong_passwords_are_all_counted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register("parallel").await;
    let attempts = (0..5).map(|_| app.login(&user.email, "Wr0ng!Password"));
    let results = futures_util::future::join_all(attempts).await;
    assert!(results.iter().all(|r| r.status == 401 || r.status == 423));
    // With a lost update the count would stay below five and this would succeed.
    let right = app.login(&user.email, PASSWORD).await;
    assert_eq!(right.status, 423, "{:?}", right.body);
    app.stop().await;
}

async fn unknown_accounts_lock_out_too(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            app.login("ghost@example.com", "Wr0ng!Password")
                .await
                .status,
        );
    }
    assert_eq!(statuses, vec![401, 401, 401, 401, 423, 423]);
    app.stop().await;
}

async fn refresh_rotates_and_reuse_revokes_the_family(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register("rotator").await;
    let first = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refreshToken": user.refresh_token}),
            None,
        )
        .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let second_refresh = first.body["refreshToken"].as_str().unwrap().to_owned();
    let second_access = first.body["accessToken"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, user.refresh_token);
    assert_eq!(
        app.get("/api/v1/users/me", Some(&second_access))
            .await
            .status,
        200
    );

    // The spent token again: the family is revoked.
    let reuse = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refreshToken": user.refresh_token}),
            None,
        )
        .await;
    assert_eq!(reuse.status, 401);
    assert_eq!(reuse.code(), "refresh_token_reused");
    let descendant = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refreshToken": second_refresh}),
            None,
        )
        .await;
    assert_eq!(descendant.status, 401);
    assert_eq!(
        app.get("/api/v1/users/me", Some(&second_access))
            .await
            .status,
        401
    );
    assert_eq!(
        app.get("/api/v1/users/me", Some(&user.access_token))
            .await
            .status,
        401
    );

    // Other sessions of the same user are untouched.
    let other = app.login(&user.email, PASSWORD).await;
    assert_eq!(other.status, 200);
    let garbage = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refreshToken": "not-a-token"}),
            None,
        )
        .await;
    assert_eq!(garbage.status, 401);
    assert_eq!(garbage.code(), "invalid_refresh_token");
    app.stop().await;
}

async fn concurrent_refresh_with_one_token_yields_one_winner(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register("racer").await;
    let body = json!({"refreshToken": user.refresh_token});
    let results = futures_util::future::join_all(
        (0..8).map(|_| app.post("/api/v1/auth/refresh", body.clone(), None)),
    )
    .await;
    let winners = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(winners, 1, "{winners} refreshes succeeded with one token");
    assert!(results.iter().all(|r| r.status == 200 || r.status == 401));
    app.stop().await;
}

async fn logout_revokes_refresh_and_access_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register("leaver").await;
    let other_device = app.login(&user.email, PASSWORD).await;
    let other_access = other_device.body["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let no_auth = app
        .post(
            "/api/v1/auth/logout",
            json!({"refreshToken": user.refresh_token}),
            None,
        )
        .await;
    assert_eq!(no_auth.status, 401);
    let resp = app
        .post(
            "/api/v1/auth/logout",
            json!({"refreshToken": user.refresh_token}),
            Some(&user.access_token),
        )
        .await;
    assert_eq!(resp.status, 204);
    assert_eq!(
        app.get("/api/v1/users/me", Some(&user.access_token))
            .await
            .status,
        401
    );
    let refresh = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refreshToken": user.refresh_token}),
            None,
        )
        .await;
    assert_eq!(refresh.status, 401);
    // The other device's session lives on.
    assert_eq!(
        app.get("/api/v1/users/me", Some(&other_access))
            .await
            .status,
        200
    );
    app.stop().await;
}

async fn denylist_survives_restart(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let user = app.register("restart").await;
    let keep = app.login(&user.email, PASSWORD).await;
    let keep_access = keep.body["accessToken"].as_str().unwrap().to_owned();
    let resp = app
        .post(
            "/api/v1/auth/logout",
            json!({"refreshToken": user.refresh_token}),
            Some(&user.access_token),
        )
        .await;
    assert_eq!(resp.status, 204);
    app.restart().await;
    assert_eq!(
        app.get("/api/v1/users/me", Some(&user.access_token))
            .await
            .status,
        401
    );
    // Keys survived too: a token issued before the restart still verifies.
    assert_eq!(
        app.get("/api/v1/users/me", Some(&keep_access)).await.status,
        200
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
    app.stop().await;
}
