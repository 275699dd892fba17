//! Social login through OpenID Connect, against the built-in mock provider over real HTTP.

use platform::on_db;
use serde_json::Value;
use testkit::{on_both_backends, Backend, Resp, TestApp};

on_both_backends!(
    oidc_sign_in_creates_links_and_refuses_takeover,
    mock_provider_is_off_by_default
);

/// Runs the browser's part: start, the provider's page, back to Pasar's callback.
async fn sign_in(app: &TestApp, email: &str) -> (Resp, String) {
    let start = app.get("/api/v1/auth/oidc/mock/start", None).await;
    assert_eq!(start.status, 200, "{:?}", start.body);
    let url = start.body["authorizationUrl"].as_str().unwrap();
    assert!(url.contains("code_challenge_method=S256") && url.contains("nonce="));
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Follow the provider's redirect by hand, keeping the callback URL for a replay.
    let provider = no_redirects
        .get(format!("{url}&login_hint={email}&name=Dara%20Sok"))
        .send()
        .await
        .unwrap();
    let callback = provider.headers()["location"].to_str().unwrap().to_owned();
    assert!(callback.contains("/api/v1/auth/oidc/mock/callback?"));
    (app.send(app.client.get(&callback)).await, callback)
}

async fn oidc_sign_in_creates_links_and_refuses_takeover(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.auth.mock_oidc = true, Vec::new()).await;
    let (first, callback) = sign_in(&app, "social@example.com").await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["created"], true);
    assert_eq!(first.body["user"]["emailVerified"], true);
    assert_eq!(first.body["user"]["firstName"], "Dara");
    let token = first.body["accessToken"].as_str().unwrap();
    let me = app.get("/api/v1/users/me", Some(token)).await;
    assert_eq!(me.body["email"], "social@example.com");
    // The social account has no usable password.
    assert_eq!(app.login("social@example.com", "!").await.status, 401);

    let replay = app.send(app.client.get(&callback)).await;
    assert_eq!(replay.status, 400);
    assert_eq!(replay.code(), "invalid_state");

    let (again, _) = sign_in(&app, "social@example.com").await;
    assert_eq!(again.body["created"], false);
    assert_eq!(again.body["user"]["id"], first.body["user"]["id"]);

    // An unverified local account with the same email is not taken over.
    let local = app.register("local").await;
    let (refused, _) = sign_in(&app, &local.email).await;
    assert_eq!(refused.status, 409);
    assert_eq!(refused.code(), "link_requires_verified_email");
    // Once its owner verified the email, the provider identity links to it.
    on_db!(&app.ctx().db, pool => sqlx::query(
        "UPDATE identity_users SET email_verified_at = 1 WHERE id = $1"
    ).bind(local.user_id).execute(pool).await.map(|_| ()))
    .unwrap();
    let (linked, _) = sign_in(&app, &local.email).await;
    assert_eq!(linked.status, 200, "{:?}", linked.body);
    assert_eq!(linked.body["created"], false);
    assert_eq!(
        linked.body["user"]["id"],
        Value::String(local.user_id.to_string())
    );

    let unknown = app.get("/api/v1/auth/oidc/nowhere/start", None).await;
    assert_eq!(unknown.status, 404);
    app.stop().await;
}

async fn mock_provider_is_off_by_default(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(
        app.get("/dev/oidc/.well-known/openid-configuration", None)
            .await
            .status,
        404
    );
    assert_eq!(
        app.get("/api/v1/auth/oidc/mock/start", None).await.status,
        404
    );
    app.stop().await;
}
