//! Carts over HTTP on both backends: guest tokens, merge on sign-in, caps, summary and
//! validation.

use serde_json::json;
use testkit::{on_both_backends, uuid_of, Backend, TestApp};

on_both_backends!(
    guest_cart_merges_into_the_customer_cart,
    validation_names_each_lines_problem,
    carts_are_private_and_bad_input_changes_nothing,
);

async fn guest_cart_merges_into_the_customer_cart(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let kopi = app.merchant("Kopi").await;
    let batik = app.merchant("Batik").await;
    let food = app.category(&admin, "food", None).await;
    let (_, latte) = app
        .listed_product(&kopi, &admin, food, "Latte", "LATTE", 350, 50)
        .await;
    let (_, scarf) = app
        .listed_product(&batik, &admin, food, "Scarf", "SCARF", 1200, 50)
        .await;

    // A guest's first add creates the cart and hands out its token.
    let add = |token: Option<String>, variant, quantity| {
        let mut request = app
            .client
            .post(app.url("/api/v1/cart/items"))
            .json(&json!({"variantId": variant, "quantity": quantity}));
        if let Some(token) = token {
            request = request.header("X-Cart-Token", token);
        }
        app.send(request)
    };
    let first = add(None, latte, 2).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let token = first.header("x-cart-token").expect("cart token").to_owned();
    assert_eq!(first.body["cartToken"], token.as_str());
    let again = add(Some(token.clone()), latte, 1).await;
    assert_eq!(
        again.body["items"][0]["quantity"], 3,
        "same variant adds up: {:?}",
        again.body
    );
    assert!(
        again.header("x-cart-token").is_none(),
        "the token is handed out once"
    );
    add(Some(token.clone()), scarf, 1).await;

    // The capped quantity holds, and an unknown token is a clear 404.
    let over = add(Some(token.clone()), latte, 97).await;
    assert_eq!((over.status, over.code()), (422, "quantity_limit"));
    let unknown = app
        .send(
            app.client
                .get(app.url("/api/v1/cart"))
                .header("X-Cart-Token", "nope"),
        )
        .await;
    assert_eq!((unknown.status, unknown.code()), (404, "cart_not_found"));

    // The customer already has one latte; signing in with the guest token merges the carts.
    let customer = app.register("shopper").await;
    assert_eq!(app.add_to_cart(&customer, latte, 1).await.status, 200);
    let merged = app
        .send(
            app.client
                .get(app.url("/api/v1/cart"))
                .bearer_auth(&customer.access_token)
                .header("X-Cart-Token", &token),
        )
        .await;
    assert_eq!(merged.status, 200, "{:?}", merged.body);
    assert_eq!(merged.body["merged"], true);
    assert_eq!(merged.body["itemCount"], 5);
    let guest_after = app
        .send(
            app.client
                .get(app.url("/api/v1/cart"))
                .header("X-Cart-Token", &token),
        )
        .await;
    assert_eq!(
        guest_after.status, 404,
        "the guest cart is gone after the merge"
    );
    // The customer's app may keep sending the old token: it is ignored, not an error.
    let stale = app
        .send(
            app.client
                .get(app.url("/api/v1/cart"))
                .bearer_auth(&customer.access_token)
                .header("X-Cart-Token", &token),
        )
        .await;
    assert_eq!(
        (stale.status, stale.body["merged"].as_bool()),
        (200, Some(false))
    );
    assert_eq!(stale.body["itemCount"], 5);

    // The summary groups by merchant and, with no saved address, quotes no shipping.
    let summary = app
        .get("/api/v1/cart/summary", Some(&customer.access_token))
        .await;
    assert_eq!(summary.status, 200);
    assert_eq!(summary.body["merchants"].as_array().map(Vec::len), Some(2));
    assert_eq!(summary.body["subtotal"], 4 * 350 + 1200);
    assert_eq!(summary.body["shipping"]["status"], "ADDRESS_REQUIRED");
    assert!(summary.body["total"].is_null());
    assert_eq!(
        summary.body["merchants"][0]["shipping"]["status"],
        "ADDRESS_REQUIRED"
    );

    // Update and remove lines; clear the cart.
    let line = summary.body["merchants"][0]["lines"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let updated = app
        .put(
            &format!("/api/v1/cart/items/{line}"),
            json!({"quantity": 7}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.body["itemCount"], 8);
    let removed = app
        .delete(
            &format!("/api/v1/cart/items/{line}"),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(removed.body["itemCount"], 1);
    let cleared = app
        .delete("/api/v1/cart", Some(&customer.access_token))
        .await;
    assert_eq!(cleared.body["itemCount"], 0);
    app.stop().await;
}

async fn validation_names_each_lines_problem(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let kopi = app.merchant("Kopi").await;
    let food = app.category(&admin, "food", None).await;
    let (_, latte) = app
        .listed_product(&kopi, &admin, food, "Latte", "LATTE", 350, 1)
        .await;
    let (mocha_product, mocha) = app
        .listed_product(&kopi, &admin, food, "Mocha", "MOCHA", 400, 10)
        .await;
    let (tea_product, tea) = app
        .listed_product(&kopi, &admin, food, "Tea", "TEA", 200, 10)
        .await;
    let customer = app.register("shopper").await;
    app.add_to_cart(&customer, latte, 2).await;
    app.add_to_cart(&customer, mocha, 1).await;
    app.add_to_cart(&customer, tea, 1).await;
    let clean = app
        .post(
            "/api/v1/cart/validate",
            json!({}),
            Some(&customer.access_token),
        )
        .await;
    let codes = |body: &serde_json::Value| -> Vec<String> {
        body["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["code"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        codes(&clean.body),
        ["insufficient_stock"],
        "{:?}",
        clean.body
    );
    assert_eq!(clean.body["problems"][0]["available"], 1);

    // The merchant reprices the mocha and archives the tea.
    let reprice = app
        .put(
            &format!("/api/v1/products/{mocha_product}/variants/{mocha}"),
            json!({"price": 450}),
            Some(&kopi.owner.access_token),
        )
        .await;
    assert_eq!(reprice.status, 200, "{:?}", reprice.body);
    let archive = app
        .patch(
            &format!("/api/v1/products/{tea_product}/status"),
            json!({"status": "ARCHIVED"}),
            Some(&kopi.owner.access_token),
        )
        .await;
    assert_eq!(archive.status, 200, "{:?}", archive.body);
    let report = testkit::eventually(
        std::time::Duration::from_secs(10),
        "problems seen",
        || async {
            let resp = app
                .post(
                    "/api/v1/cart/validate",
                    json!({}),
                    Some(&customer.access_token),
                )
                .await;
            (codes(&resp.body).len() == 3).then_some(resp.body)
        },
    )
    .await;
    let mut seen = codes(&report);
    seen.sort();
    assert_eq!(seen, ["insufficient_stock", "price_changed", "unavailable"]);
    let changed = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "price_changed")
        .unwrap();
    assert_eq!(
        (
            changed["previousPrice"].as_i64(),
            changed["currentPrice"].as_i64()
        ),
        (Some(400), Some(450))
    );
    assert_eq!(report["valid"], false);
    // The summary prices at the current price and leaves out what cannot be bought.
    let summary = app
        .get("/api/v1/cart/summary", Some(&customer.access_token))
        .await;
    assert_eq!(summary.body["subtotal"], 2 * 350 + 450);
    app.stop().await;
}

async fn carts_are_private_and_bad_input_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let kopi = app.merchant("Kopi").await;
    let food = app.category(&admin, "food", None).await;
    let (_, latte) = app
        .listed_product(&kopi, &admin, food, "Latte", "LATTE", 350, 5)
        .await;
    let (_, draft) = app
        .draft_product(&kopi, food, "Secret", "SECRET", 100)
        .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let cart = app.add_to_cart(&alice, latte, 1).await;
    let line = cart.body["items"][0]["id"].as_str().unwrap().to_owned();

    // Bob cannot touch Alice's line.
    let bob_edit = app
        .put(
            &format!("/api/v1/cart/items/{line}"),
            json!({"quantity": 5}),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(
        (bob_edit.status, bob_edit.code()),
        (404, "cart_item_not_found")
    );
    let bob_delete = app
        .delete(
            &format!("/api/v1/cart/items/{line}"),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(bob_delete.status, 404);

    // Bad input is refused with a stable code and leaves the cart as it was.
    for (body, status, code) in [
        (
            json!({"variantId": latte, "quantity": 0}),
            422,
            "validation_failed",
        ),
        (
            json!({"variantId": latte, "quantity": 1, "price": 1}),
            422,
            "validation_failed",
        ),
        (
            json!({"variantId": uuid::Uuid::nil(), "quantity": 1}),
            422,
            "variant_unavailable",
        ),
        (
            json!({"variantId": draft, "quantity": 1}),
            422,
            "variant_unavailable",
        ),
    ] {
        let resp = app
            .post(
                "/api/v1/cart/items",
                body.clone(),
                Some(&alice.access_token),
            )
            .await;
        assert_eq!(
            (resp.status, resp.code()),
            (status, code),
            "{body}: {:?}",
            resp.body
        );
    }
    let after = app.get("/api/v1/cart", Some(&alice.access_token)).await;
    assert_eq!(after.body["itemCount"], 1);
    assert_eq!(uuid_of(&after.body["items"][0]["variantId"]), latte);

    // Carts untouched for the configured time are deleted (what the hourly job runs): with a
    // zero TTL every cart is stale.
    let mut config = (*app.ctx().config).clone();
    config
        .edit_section(|c: &mut cart::config::CartConfig| c.ttl_days = 0)
        .expect("cart section");
    let ctx = platform::Context {
        config: std::sync::Arc::new(config),
        ..app.ctx().clone()
    };
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let deleted = cart::Cart::new(ctx).expire_stale().await.unwrap();
    assert_eq!(deleted, 1);
    let gone = app.get("/api/v1/cart", Some(&alice.access_token)).await;
    assert_eq!(
        (gone.body["itemCount"].as_i64(), gone.body["id"].is_null()),
        (Some(0), true)
    );
    app.stop().await;
}
