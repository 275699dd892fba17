//! API keys: scoped, shown once, revocable, used through `X-Api-Key`.

use serde_json::json;
use testkit::{on_both_backends, Backend, TestApp};

on_both_backends!(api_keys_act_for_their_owner_within_their_scopes);

async fn api_keys_act_for_their_owner_within_their_scopes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let owner = app.register("posowner").await;
    let token = Some(admin.access_token.as_str());
    let create = |owner_id: uuid::Uuid, scopes: Vec<&str>| {
        app.post(
            "/api/v1/admin/api-keys",
            json!({"ownerId": owner_id, "name": "Counter POS", "scopes": scopes}),
            token,
        )
    };
    let created = create(owner.user_id, vec!["account"]).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let key = created.body["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("pk_") && key.len() > 40);
    assert!(key.starts_with(created.body["prefix"].as_str().unwrap()));
    let with_key = |key: String, path: &'static str| {
        app.send(app.client.get(app.url(path)).header("x-api-key", key))
    };

    let me = with_key(key.clone(), "/api/v1/users/me").await;
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(me.body["email"], owner.email.as_str());
    // No admin powers through a customer's key, whatever scopes it names.
    let sneaky = create(owner.user_id, vec!["account", "admin:users"]).await;
    let sneaky_key = sneaky.body["key"].as_str().unwrap().to_owned();
    assert_eq!(
        with_key(sneaky_key, "/api/v1/admin/users").await.status,
        403
    );
    // A key without the scope cannot read the account.
    let narrow = create(owner.user_id, vec!["redemptions"]).await;
    let narrow_key = narrow.body["key"].as_str().unwrap().to_owned();
    assert_eq!(with_key(narrow_key, "/api/v1/users/me").await.status, 403);
    // An admin's key with the admin scope administers.
    let admin_key = create(admin.user_id, vec!["admin:users"]).await;
    let admin_key = admin_key.body["key"].as_str().unwrap().to_owned();
    assert_eq!(with_key(admin_key, "/api/v1/admin/users").await.status, 200);

    let bogus = with_key("pk_not-a-real-key".into(), "/api/v1/users/me").await;
    assert_eq!(bogus.status, 401);
    assert_eq!(bogus.code(), "invalid_api_key");

    let listed = app
        .get(
            &format!("/api/v1/admin/api-keys?ownerId={}", owner.user_id),
            token,
        )
        .await;
    let keys = listed.body.as_array().unwrap();
    assert_eq!(keys.len(), 3);
    assert!(
        keys.iter().all(|k| k.get("key").is_none()),
        "keys are shown once"
    );
    let used = keys.iter().find(|k| k["id"] == created.body["id"]).unwrap();
    assert!(used["lastUsedAt"].is_string(), "last use is recorded");

    let id = created.body["id"].as_str().unwrap();
    let revoke = app
        .send(
            app.client
                .delete(app.url(&format!("/api/v1/admin/api-keys/{id}")))
                .bearer_auth(&admin.access_token),
        )
        .await;
    assert_eq!(revoke.status, 204);
    assert_eq!(
        with_key(key, "/api/v1/users/me").await.status,
        401,
        "revoked at once"
    );

    let by_customer = app
        .post(
            "/api/v1/admin/api-keys",
            json!({"ownerId": owner.user_id, "name": "x", "scopes": ["account"]}),
            Some(&owner.access_token),
        )
        .await;
    assert_eq!(by_customer.status, 403);
    let bad = app
        .post(
            "/api/v1/admin/api-keys",
            json!({"ownerId": owner.user_id, "name": "x", "scopes": []}),
            token,
        )
        .await;
    assert_eq!(bad.status, 422);
    app.stop().await;
}
