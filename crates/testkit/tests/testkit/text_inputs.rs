//! Control characters in any text a client sends (JSON bodies, forms, paths, query strings,
//! cursors, webhook payloads) are refused before any database sees them, with a problem that
//! names where they were, and nothing changes: PostgreSQL cannot store a NUL at all, so
//! without one rule these were 500s there and fine on SQLite.

use serde_json::{json, Value};
use testkit::{on_both_backends, uuid_of, Backend, TestApp};

on_both_backends!(control_characters_are_refused_everywhere_and_change_nothing);

async fn control_characters_are_refused_everywhere_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let merchant = app.merchant("Toko Nul").await;
    let category = app.category(&admin, "nul-goods", None).await;
    let owner = &merchant.owner.access_token;

    // JSON bodies: a 422 naming the field, whatever the nesting.
    let bodies: [(&str, Value, &str); 3] = [
        (
            "/api/v1/products",
            json!({"merchantId": merchant.id, "name": {"en": "x\u{0}y"}, "categoryId": category,
                   "type": "PHYSICAL", "variants": [{"sku": "NUL-1", "price": 100, "currency": "USD"}]}),
            "name.en",
        ),
        (
            "/api/v1/products",
            json!({"merchantId": merchant.id, "name": {"en": "fine"}, "categoryId": category,
                   "type": "PHYSICAL", "variants": [{"sku": "NUL\u{1b}2", "price": 100, "currency": "USD"}]}),
            "variants[0].sku",
        ),
        (
            "/api/v1/merchants",
            json!({"businessName": "Bell\u{7}", "category": "food"}),
            "businessName",
        ),
    ];
    for (path, body, field) in bodies {
        let resp = app.post(path, body, Some(owner)).await;
        assert_eq!(resp.status, 422, "{path}: {:?}", resp.body);
        assert_eq!(resp.code(), "validation_failed");
        assert_eq!(resp.body["errors"][0]["field"], field, "{:?}", resp.body);
    }
    let products = app
        .get(
            &format!("/api/v1/products?merchantId={}&status=DRAFT", merchant.id),
            Some(owner),
        )
        .await;
    assert_eq!(products.status, 200, "{:?}", products.body);
    assert_eq!(products.body["items"], json!([]), "nothing was created");

    // Tabs and newlines are text, not controls.
    let (product, _) = app
        .draft_product(
            &merchant,
            category,
            "Line one\nline two\ttabbed",
            "OK-1",
            100,
        )
        .await;
    let read = app
        .get(&format!("/api/v1/products/{product}"), Some(owner))
        .await;
    assert_eq!(read.body["name"]["en"], "Line one\nline two\ttabbed");

    // Query strings: a 422 naming the parameter; cursors that decode to controls too.
    for query in [
        "/api/v1/merchants?category=x%00y",
        "/api/v1/products?q=%1b",
        "/api/v1/products?cursor=AA",
    ] {
        let resp = app.get(query, None).await;
        assert_eq!(resp.status, 422, "{query}: {:?}", resp.body);
        let field = &resp.body["errors"][0]["field"];
        assert!(
            field == "category" || field == "q" || field == "cursor",
            "{query}: {:?}",
            resp.body
        );
    }

    // Paths: a 400 before routing.
    let resp = app
        .get(
            &format!("/api/v1/inventory/x%00y?merchantId={}", merchant.id),
            Some(owner),
        )
        .await;
    assert_eq!(
        (resp.status, resp.code()),
        (400, "invalid_path"),
        "{:?}",
        resp.body
    );
    assert_eq!(
        resp.header("content-type"),
        Some(kernel::error::PROBLEM_JSON)
    );

    // The OAuth2 token endpoint answers in its own (RFC 6749) format.
    let resp = app
        .send(
            app.client
                .post(app.url("/oauth2/token"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials&client_id=%00&client_secret=x"),
        )
        .await;
    assert_eq!(resp.status, 400, "{:?}", resp.body);
    assert_eq!(resp.body["error"], "invalid_request");
    let resp = app
        .send(
            app.client
                .post(app.url("/oauth2/token"))
                .basic_auth("a\u{0}b", Some("secret"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials"),
        )
        .await;
    assert!(resp.status == 400 || resp.status == 401, "{:?}", resp.body);

    // A signed webhook carrying a control character is refused, not stored.
    let payment = kernel::new_id();
    let hook = app
        .simulator_webhook("evt-\u{0}", payment, "SUCCEEDED", 100, "USD")
        .await;
    assert_eq!(hook.status, 422, "{:?}", hook.body);

    // Everything still works after the refusals.
    let ok = app
        .get(&format!("/api/v1/products/{product}"), Some(owner))
        .await;
    assert_eq!(uuid_of(&ok.body["id"]), product);
    app.stop().await;
}
