//! The OAuth2 server driven by Authlib, a real client library from PyPI.

use serde_json::{json, Value};
use testkit::{on_both_backends, Backend, TestApp};

on_both_backends!(authlib_drives_every_flow, clients_are_admin_managed);

async fn register_clients(app: &TestApp, admin: &str) -> (Value, Value) {
    let app_client = app
        .post(
            "/api/v1/admin/oauth/clients",
            json!({"name": "Merchant POS", "redirectUris": ["http://127.0.0.1:8765/callback"],
                   "grantTypes": ["authorization_code", "refresh_token"], "scopes": ["profile"]}),
            Some(admin),
        )
        .await;
    assert_eq!(app_client.status, 201, "{:?}", app_client.body);
    let service = app
        .post(
            "/api/v1/admin/oauth/clients",
            json!({"name": "Settlement job", "grantTypes": ["client_credentials"],
                   "scopes": ["orders:read", "orders:write"]}),
            Some(admin),
        )
        .await;
    assert_eq!(service.status, 201, "{:?}", service.body);
    (app_client.body, service.body)
}

async fn authlib_drives_every_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = app.register("oauthuser").await;
    let (client, service) = register_clients(&app, &admin.access_token).await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/identity/oauth_client.py"
    );
    let args: Vec<String> = vec![
        script.to_owned(),
        app.base_url.clone(),
        client["clientId"].as_str().unwrap().to_owned(),
        client["clientSecret"].as_str().unwrap().to_owned(),
        service["clientId"].as_str().unwrap().to_owned(),
        service["clientSecret"].as_str().unwrap().to_owned(),
        user.email.clone(),
        user.password.clone(),
    ];
    // Off the async workers: the app under test runs on them.
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(testkit::tools::python())
            .args(&args)
            .output()
    })
    .await
    .unwrap()
    .expect("python3 runs");
    assert!(
        output.status.success(),
        "the Authlib driver failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out: Value = serde_json::from_slice(&output.stdout).expect("JSON from the driver");
    assert_eq!(
        out["pkce"],
        json!({"token_type": "Bearer", "scope": "profile", "has_refresh": true})
    );
    assert_eq!(out["me"]["status"], 200);
    assert_eq!(out["me"]["email"], user.email.as_str());
    assert_eq!(
        out["refresh"],
        json!({"new_access": true, "new_refresh": true})
    );
    assert_eq!(out["reused_code"], json!([400, "invalid_grant"]));
    assert_eq!(out["wrong_verifier"], json!([400, "invalid_grant"]));
    assert_eq!(out["redirect_mismatch_authorize"], json!([400, false]));
    assert_eq!(
        out["redirect_mismatch_token"],
        json!([400, "invalid_grant"])
    );
    assert_eq!(out["pkce_plain"], json!([303, "invalid_request", "s1"]));
    assert_eq!(out["pkce_missing"], json!([303, "invalid_request", "s1"]));
    assert_eq!(out["implicit"], "unsupported_response_type");
    assert_eq!(
        out["password_grant"],
        json!([400, "unsupported_grant_type"])
    );
    assert_eq!(
        out["client_credentials"],
        json!({"scope": "orders:read", "has_refresh": false})
    );
    assert_eq!(out["service_on_user_route"], 403);
    assert_eq!(out["bad_secret"], json!([401, "invalid_client"]));
    assert_eq!(out["bad_scope"], json!([400, "invalid_scope"]));
    assert_eq!(
        out["grant_not_registered"],
        json!([400, "unauthorized_client"])
    );
    // Refresh tokens stay with the kind of session they belong to: an OAuth session's token
    // is refused by the first-party endpoint, and a first-party one by the token endpoint.
    let oauth_refresh = out["oauth_refresh_token"].as_str().unwrap();
    let first_party = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refreshToken": oauth_refresh}),
            None,
        )
        .await;
    assert_eq!(first_party.status, 401);
    let crossed = app
        .send(
            app.client
                .post(app.url("/oauth2/token"))
                .basic_auth(
                    client["clientId"].as_str().unwrap(),
                    client["clientSecret"].as_str(),
                )
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", user.refresh_token.as_str()),
                ]),
        )
        .await;
    assert_eq!(crossed.status, 400);
    assert_eq!(crossed.body["error"], "invalid_grant");
    app.stop().await;
}

async fn clients_are_admin_managed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let customer = app.register("notadmin").await;
    let token = Some(admin.access_token.as_str());
    let forbidden = app
        .post(
            "/api/v1/admin/oauth/clients",
            json!({"name": "x", "grantTypes": ["client_credentials"], "scopes": ["a"]}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(forbidden.status, 403);
    for bad in [
        json!({"name": "x", "grantTypes": ["password"], "scopes": ["a"]}),
        json!({"name": "x", "grantTypes": ["authorization_code"], "scopes": ["a"]}),
        json!({"name": "x", "grantTypes": ["authorization_code"], "redirectUris": ["http://evil.example/cb"], "scopes": ["a"]}),
        json!({"name": "x", "grantTypes": ["client_credentials"], "scopes": ["a"], "confidential": false}),
    ] {
        assert_eq!(
            app.post("/api/v1/admin/oauth/clients", bad.clone(), token)
                .await
                .status,
            422,
            "{bad}"
        );
    }
    let (client, service) = register_clients(&app, &admin.access_token).await;
    let public = app
        .post(
            "/api/v1/admin/oauth/clients",
            json!({"name": "Mobile", "redirectUris": ["https://app.example/cb"], "grantTypes": ["authorization_code"],
                   "scopes": ["profile"], "confidential": false}),
            token,
        )
        .await;
    assert!(public.body["clientSecret"].is_null());
    let listed = app.get("/api/v1/admin/oauth/clients", token).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 3);
    assert!(
        listed
            .body
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c.get("clientSecret").is_none()),
        "secrets are shown once"
    );
    let service_id = service["clientId"].as_str().unwrap();
    let revoke = app
        .send(
            app.client
                .delete(app.url(&format!("/api/v1/admin/oauth/clients/{service_id}")))
                .bearer_auth(&admin.access_token),
        )
        .await;
    assert_eq!(revoke.status, 204);
    let after = app
        .send(
            app.client
                .post(app.url("/oauth2/token"))
                .basic_auth(service_id, service["clientSecret"].as_str())
                .form(&[("grant_type", "client_credentials")]),
        )
        .await;
    assert_eq!(after.status, 401);
    assert_eq!(after.body["error"], "invalid_client");
    let discovery = app.get("/.well-known/openid-configuration", None).await;
    assert_eq!(
        discovery.body["code_challenge_methods_supported"],
        json!(["S256"])
    );
    assert!(discovery.body["token_endpoint"]
        .as_str()
        .unwrap()
        .ends_with("/oauth2/token"));
    assert!(client["clientSecret"].as_str().unwrap().len() >= 43);
    app.stop().await;
}
