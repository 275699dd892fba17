//! Shipping at checkout on both backends: what ships needs a saved address and one option per
//! merchant; the price is quoted again by the server (a client's amount is refused, a pick
//! shipping does not offer is refused); the order keeps a copy of the option and the address;
//! the cart summary shows real shipping totals; free-shipping promotions take the charge off;
//! and the merchant earns the shipping with the goods when the order is delivered.

use serde_json::{json, Value};
use testkit::{on_both_backends, uuid_of, Backend, MerchantFixture, Session, TestApp};
use uuid::Uuid;

on_both_backends!(
    physical_orders_ship_to_a_saved_address_at_the_quoted_price,
    the_cart_summary_totals_shipping_and_free_shipping_applies,
);

struct Shop {
    admin: Session,
    kopi: MerchantFixture,
    batik: MerchantFixture,
    latte: Uuid,
    scarf: Uuid,
}

async fn shop(app: &TestApp) -> Shop {
    let admin = app.admin().await;
    let kopi = app.merchant("Kopi").await;
    let batik = app.merchant("Batik").await;
    let food = app.category(&admin, "food", None).await;
    let (_, latte) = app
        .listed_product(&kopi, &admin, food, "Latte", "LATTE", 1_000, 50)
        .await;
    let (_, scarf) = app
        .listed_product(&batik, &admin, food, "Scarf", "SCARF", 2_500, 20)
        .await;
    Shop {
        admin,
        kopi,
        batik,
        latte,
        scarf,
    }
}

fn choice(merchant: &MerchantFixture, courier: &str, service: &str) -> Value {
    json!({"merchantId": merchant.id, "courierCode": courier, "serviceCode": service})
}

/// What shipping quotes for (variant, quantity) of `merchant` to `address`, with
/// (courier, service).
async fn quoted(
    app: &TestApp,
    customer: &Session,
    address: Uuid,
    merchant: &MerchantFixture,
    (variant, quantity): (Uuid, i64),
    (courier, service): (&str, &str),
) -> i64 {
    let rates = app
        .post(
            "/api/v1/shipping/rates",
            json!({"addressId": address, "parcels": [{"merchantId": merchant.id, "items": [{"variantId": variant, "quantity": quantity}]}]}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(rates.status, 200, "{:?}", rates.body);
    rates.body["merchants"][0]["options"]
        .as_array()
        .and_then(|options| {
            options
                .iter()
                .find(|o| o["courierCode"] == courier && o["serviceCode"] == service)
        })
        .and_then(|o| o["amount"].as_i64())
        .unwrap_or_else(|| panic!("{courier} {service} not offered: {:?}", rates.body))
}

async fn physical_orders_ship_to_a_saved_address_at_the_quoted_price(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app).await;
    let ana = app.customer("ana").await;
    let token = Some(ana.access_token.as_str());
    let lines =
        json!([{"variantId": shop.latte, "quantity": 2}, {"variantId": shop.scarf, "quantity": 1}]);
    let post = |body: Value| app.post("/api/v1/orders", body, token);

    // Nothing ships without an address, nor without an option for each merchant.
    let refused = post(json!({"lines": lines})).await;
    assert_eq!(
        (refused.status, refused.code()),
        (422, "address_required"),
        "{:?}",
        refused.body
    );
    let address = app.saved_address(&ana).await;
    let refused = post(json!({"lines": lines, "shippingAddressId": address,
        "shipping": [choice(&shop.kopi, "SIMULATOR", "EXPRESS")]}))
    .await;
    assert_eq!(
        (refused.status, refused.code()),
        (422, "shipping_choice_required")
    );
    assert_eq!(refused.body["merchantIds"], json!([shop.batik.id]));
    // Another customer's address is not one of hers.
    let bob = app.customer("bob").await;
    let bobs = app.saved_address(&bob).await;
    let refused = post(json!({"lines": lines, "shippingAddressId": bobs,
        "shipping": [choice(&shop.kopi, "SIMULATOR", "EXPRESS"), choice(&shop.batik, "VET", "REGULAR")]})).await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    // An address given with the checkout is checked; it is one address or the other.
    let picks = json!([
        choice(&shop.kopi, "SIMULATOR", "EXPRESS"),
        choice(&shop.batik, "VET", "REGULAR")
    ]);
    let refused = post(json!({"lines": lines, "shipping": picks,
        "shippingAddress": {"recipient": "Ana", "phone": "", "street": "St 1", "city": "Phnom Penh", "country": "Cambodia"}})).await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    let fields: Vec<&str> = refused.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        vec!["shippingAddress.phone", "shippingAddress.country"]
    );
    let refused = post(json!({"lines": lines, "shipping": picks, "shippingAddressId": address,
        "shippingAddress": {"recipient": "Ana", "phone": "+855", "street": "St 1", "city": "Phnom Penh", "country": "KH"}})).await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    // An option shipping does not offer (an Indonesian courier to Phnom Penh).
    let refused = post(json!({"lines": lines, "shippingAddressId": address,
        "shipping": [choice(&shop.kopi, "JNE", "REGULAR"), choice(&shop.batik, "VET", "REGULAR")]}))
    .await;
    assert_eq!(
        (refused.status, refused.code()),
        (409, "shipping_unavailable"),
        "{:?}",
        refused.body
    );
    assert_eq!(refused.body["merchantIds"], json!([shop.kopi.id]));
    // A price sent by the client is no part of a pick.
    let mut tampered = choice(&shop.kopi, "SIMULATOR", "EXPRESS");
    tampered["amount"] = json!(0);
    let refused = post(json!({"lines": lines, "shippingAddressId": address,
        "shipping": [tampered, choice(&shop.batik, "VET", "REGULAR")]}))
    .await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        app.stock_of(&shop.kopi, "LATTE").await,
        (50, 0),
        "a refused checkout reserved stock"
    );

    let express = quoted(
        &app,
        &ana,
        address,
        &shop.kopi,
        (shop.latte, 2),
        ("SIMULATOR", "EXPRESS"),
    )
    .await;
    let regular = quoted(
        &app,
        &ana,
        address,
        &shop.batik,
        (shop.scarf, 1),
        ("VET", "REGULAR"),
    )
    .await;
    assert!(express > 0 && regular > 0);
    let placed = post(json!({"lines": lines, "shippingAddressId": address,
        "shipping": [choice(&shop.kopi, "SIMULATOR", "EXPRESS"), choice(&shop.batik, "VET", "REGULAR")]})).await;
    assert_eq!(placed.status, 201, "{:?}", placed.body);
    let order_of = |merchant: &MerchantFixture| -> Value {
        placed.body["orders"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| uuid_of(&o["merchantId"]) == merchant.id)
            .cloned()
            .expect("order")
    };
    let kopi_order = order_of(&shop.kopi);
    assert_eq!(kopi_order["shipping"], express);
    assert_eq!(kopi_order["shippingQuoted"], true);
    assert_eq!(kopi_order["total"], 2_000 + express);
    assert_eq!(
        kopi_order["shippingDetails"]["option"]["serviceCode"],
        "EXPRESS"
    );
    assert_eq!(
        kopi_order["shippingDetails"]["address"]["city"],
        "Phnom Penh"
    );
    assert_eq!(order_of(&shop.batik)["total"], 2_500 + regular);
    assert_eq!(placed.body["total"], 4_500 + express + regular);

    // The order keeps its copy when the address changes.
    let edited = app
        .put(
            &format!("/api/v1/users/me/addresses/{address}"),
            json!({
            "recipient": "Ana", "phone": "+85512000000", "street": "Elsewhere", "city": "Siem Reap",
            "province": "Siem Reap", "country": "KH"}),
            token,
        )
        .await;
    assert_eq!(edited.status, 200, "{:?}", edited.body);
    let order = app
        .get(
            &format!("/api/v1/orders/{}", kopi_order["id"].as_str().unwrap()),
            token,
        )
        .await;
    assert_eq!(
        order.body["shippingDetails"]["address"]["city"],
        "Phnom Penh"
    );

    // Paid and delivered: the merchant earns the goods less commission, and the shipping.
    app.pay_in_full(&ana, &placed.body).await;
    let kopi_order_id = uuid_of(&kopi_order["id"]);
    let owner = Some(shop.kopi.owner.access_token.as_str());
    for status in ["PROCESSING", "SHIPPED", "DELIVERED"] {
        let body = if status == "SHIPPED" {
            json!({"status": status, "trackingNumber": "SIM-TEST-1"})
        } else {
            json!({"status": status})
        };
        let moved = app
            .patch(
                &format!("/api/v1/orders/{kopi_order_id}/status"),
                body,
                owner,
            )
            .await;
        assert_eq!(moved.status, 200, "{status}: {:?}", moved.body);
    }
    let commission = kopi_order["commission"].as_i64().unwrap();
    testkit::eventually(
        std::time::Duration::from_secs(20),
        "the delivery is earned",
        || async {
            let balance = app
                .get(
                    &format!("/api/v1/merchants/{}/balance", shop.kopi.id),
                    owner,
                )
                .await;
            let held: i64 = balance.body["balances"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|b| b["held"].as_i64())
                .sum();
            let available: i64 = balance.body["balances"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|b| b["available"].as_i64())
                .sum();
            (held + available == 2_000 - commission + express).then_some(())
        },
    )
    .await;
    let _ = shop.admin;
    app.stop().await;
}

async fn the_cart_summary_totals_shipping_and_free_shipping_applies(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app).await;
    let ana = app.customer("ana").await;
    let token = Some(ana.access_token.as_str());
    assert_eq!(app.add_to_cart(&ana, shop.latte, 1).await.status, 200);

    let summary = app.get("/api/v1/cart/summary", token).await;
    assert_eq!(summary.status, 200, "{:?}", summary.body);
    assert_eq!(summary.body["shipping"]["status"], "ADDRESS_REQUIRED");
    assert_eq!(summary.body["total"], Value::Null);

    let address = app.saved_address(&ana).await;
    // Kopi ships with Cambodian couriers only (the simulator ships for free).
    let chosen = app
        .put(
            &format!("/api/v1/merchants/{}/shipping/couriers", shop.kopi.id),
            json!({"couriers": ["VET", "JNT_KH"]}),
            Some(&shop.kopi.owner.access_token),
        )
        .await;
    assert_eq!(chosen.status, 200, "{:?}", chosen.body);
    let regular = quoted(
        &app,
        &ana,
        address,
        &shop.kopi,
        (shop.latte, 1),
        ("VET", "REGULAR"),
    )
    .await;
    let summary = app.get("/api/v1/cart/summary", token).await;
    assert_eq!(
        summary.body["shipping"]["status"], "QUOTED",
        "{:?}",
        summary.body
    );
    let cheapest = summary.body["merchants"][0]["shipping"]["amount"]
        .as_i64()
        .unwrap();
    assert!(cheapest <= regular);
    assert_eq!(summary.body["total"], 1_000 + cheapest);
    let unknown = app
        .get(
            &format!("/api/v1/cart/summary?addressId={}", Uuid::now_v7()),
            token,
        )
        .await;
    assert_eq!(unknown.status, 422);

    // Free shipping from the platform: the summary and the order take the charge off.
    let created = app
        .post(
            "/api/v1/campaigns",
            json!({
        "title": {"en": "Free shipping week"}, "merchantId": null,
        "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2036-01-01T00:00:00Z", "budget": null}),
            Some(&shop.admin.access_token),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let campaign = uuid_of(&created.body["id"]);
    let scheduled = app
        .post(
            &format!("/api/v1/campaigns/{campaign}/status"),
            json!({"status": "SCHEDULED"}),
            Some(&shop.admin.access_token),
        )
        .await;
    assert_eq!(scheduled.status, 200, "{:?}", scheduled.body);
    let promotion = app.post("/api/v1/promotions", json!({
        "campaignId": campaign, "name": {"en": "Free shipping"}, "kind": "AUTOMATIC", "currency": "USD",
        "rules": {"effect": {"type": "FREE_SHIPPING"}}, "bearer": "PLATFORM"}),
        Some(&shop.admin.access_token)).await;
    assert_eq!(promotion.status, 201, "{:?}", promotion.body);
    let summary = app.get("/api/v1/cart/summary", token).await;
    assert_eq!(
        summary.body["shipping"]["discount"], cheapest,
        "{:?}",
        summary.body
    );
    assert_eq!(summary.body["total"], 1_000);

    let placed = app
        .post(
            "/api/v1/orders",
            json!({"shippingAddressId": address,
        "shipping": [choice(&shop.kopi, "VET", "REGULAR")]}),
            token,
        )
        .await;
    assert_eq!(placed.status, 201, "{:?}", placed.body);
    let order = &placed.body["orders"][0];
    assert_eq!(order["shipping"], regular);
    assert_eq!(order["shippingDetails"]["discount"], regular);
    assert_eq!(order["shippingDetails"]["platformDiscount"], regular);
    assert_eq!(order["total"], 1_000);
    app.stop().await;
}
