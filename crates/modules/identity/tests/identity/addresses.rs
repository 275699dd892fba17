//! Delivery addresses: validation, one primary, ownership, the cap.

use serde_json::{json, Value};
use testkit::{on_both_backends, Backend, TestApp};

on_both_backends!(
    addresses_keep_exactly_one_primary,
    addresses_are_validated_and_private,
    concurrent_first_addresses_leave_one_primary,
);

fn address(city: &str, primary: bool) -> Value {
    json!({"label": "Home", "recipient": "Sok Dara", "phone": "+855 12 345 678",
           "street": "St. 271, #12", "city": city, "country": "kh", "postalCode": "12000",
           "latitude": 11.55, "longitude": 104.92, "isPrimary": primary})
}

async fn list(app: &TestApp, token: &str) -> Vec<Value> {
    let resp = app.get("/api/v1/users/me/addresses", Some(token)).await;
    assert_eq!(resp.status, 200);
    resp.body.as_array().unwrap().clone()
}

fn primaries(addresses: &[Value]) -> Vec<&str> {
    addresses
        .iter()
        .filter(|a| a["isPrimary"] == true)
        .map(|a| a["city"].as_str().unwrap())
        .collect()
}

async fn addresses_keep_exactly_one_primary(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register("addresser").await;
    let token = user.access_token.as_str();
    let first = app
        .post(
            "/api/v1/users/me/addresses",
            address("Phnom Penh", false),
            Some(token),
        )
        .await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(
        first.body["isPrimary"], true,
        "the first address is primary"
    );
    assert_eq!(first.body["country"], "KH");
    assert_eq!(first.body["phone"], "+85512345678");
    let second = app
        .post(
            "/api/v1/users/me/addresses",
            address("Siem Reap", false),
            Some(token),
        )
        .await;
    assert_eq!(second.body["isPrimary"], false);
    let third = app
        .post(
            "/api/v1/users/me/addresses",
            address("Kampot", true),
            Some(token),
        )
        .await;
    assert_eq!(third.body["isPrimary"], true);
    assert_eq!(primaries(&list(&app, token).await), vec!["Kampot"]);

    // Moving the mark with PUT; un-marking the primary keeps it primary.
    let second_id = second.body["id"].as_str().unwrap();
    let moved = app
        .put(
            &format!("/api/v1/users/me/addresses/{second_id}"),
            address("Siem Reap", true),
            Some(token),
        )
        .await;
    assert_eq!(moved.status, 200);
    assert_eq!(primaries(&list(&app, token).await), vec!["Siem Reap"]);
    let kept = app
        .put(
            &format!("/api/v1/users/me/addresses/{second_id}"),
            address("Battambang", false),
            Some(token),
        )
        .await;
    assert_eq!(kept.body["isPrimary"], true);
    assert_eq!(kept.body["city"], "Battambang");

    // Deleting the primary promotes the newest remaining address.
    let deleted = app
        .send(
            app.client
                .delete(app.url(&format!("/api/v1/users/me/addresses/{second_id}")))
                .bearer_auth(token),
        )
        .await;
    assert_eq!(deleted.status, 204);
    let remaining = list(&app, token).await;
    assert_eq!(remaining.len(), 2);
    assert_eq!(primaries(&remaining), vec!["Kampot"]);
    app.stop().await;
}

async fn addresses_are_validated_and_private(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("owner").await;
    let other = app.register("other").await;
    let mut bad = address("", false);
    bad["country"] = json!("Cambodia");
    bad["latitude"] = json!(100.0);
    let invalid = app
        .post("/api/v1/users/me/addresses", bad, Some(&owner.access_token))
        .await;
    assert_eq!(invalid.status, 422);
    let fields: Vec<&str> = invalid.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["city", "country", "latitude"]);
    let mut extra = address("Phnom Penh", false);
    extra["userId"] = json!(other.user_id);
    assert_eq!(
        app.post(
            "/api/v1/users/me/addresses",
            extra,
            Some(&owner.access_token)
        )
        .await
        .status,
        422
    );
    assert!(
        list(&app, &owner.access_token).await.is_empty(),
        "refused bodies created nothing"
    );

    let created = app
        .post(
            "/api/v1/users/me/addresses",
            address("Phnom Penh", false),
            Some(&owner.access_token),
        )
        .await;
    let id = created.body["id"].as_str().unwrap();
    let path = format!("/api/v1/users/me/addresses/{id}");
    assert!(list(&app, &other.access_token).await.is_empty());
    assert_eq!(
        app.put(&path, address("Hacked", false), Some(&other.access_token))
            .await
            .status,
        404
    );
    let delete = app
        .send(
            app.client
                .delete(app.url(&path))
                .bearer_auth(&other.access_token),
        )
        .await;
    assert_eq!(delete.status, 404);
    assert_eq!(
        list(&app, &owner.access_token).await[0]["city"],
        "Phnom Penh"
    );
    assert_eq!(
        app.get("/api/v1/users/me/addresses", None).await.status,
        401
    );

    // The cap.
    for i in 1..20 {
        let resp = app
            .post(
                "/api/v1/users/me/addresses",
                address(&format!("City {i}"), false),
                Some(&owner.access_token),
            )
            .await;
        assert_eq!(resp.status, 201);
    }
    let over = app
        .post(
            "/api/v1/users/me/addresses",
            address("One too many", false),
            Some(&owner.access_token),
        )
        .await;
    assert_eq!(over.status, 409);
    assert_eq!(over.code(), "address_limit_reached");
    assert_eq!(list(&app, &owner.access_token).await.len(), 20);
    app.stop().await;
}

async fn concurrent_first_addresses_leave_one_primary(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register("racer").await;
    let results = futures_util::future::join_all((0..8).map(|i| {
        app.post(
            "/api/v1/users/me/addresses",
            address(&format!("C{i}"), i % 2 == 0),
            Some(&user.access_token),
        )
    }))
    .await;
    assert!(
        results.iter().all(|r| r.status == 201),
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let all = list(&app, &user.access_token).await;
    assert_eq!(all.len(), 8);
    assert_eq!(primaries(&all).len(), 1);
    app.stop().await;
}
