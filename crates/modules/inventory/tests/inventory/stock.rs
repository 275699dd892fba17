//! Stock levels, adjustments, the ledger, alerts and who may touch them.

use std::time::Duration;

use serde_json::{json, Value};
use testkit::{eventually, on_both_backends, Backend, TestApp};

use crate::common::stocked_merchant;
use uuid::Uuid;

on_both_backends!(
    stock_is_set_adjusted_and_audited,
    stock_changes_are_authorized_per_merchant,
);

async fn put(app: &TestApp, sku: &str, body: Value, token: &str) -> testkit::Resp {
    app.put(&format!("/api/v1/inventory/{sku}"), body, Some(token))
        .await
}

async fn stock_is_set_adjusted_and_audited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (shop, _) = stocked_merchant(&app, "Tea House", "TEA-1").await;
    let owner = shop.owner.access_token.as_str();

    let fresh = app.get("/api/v1/inventory/TEA-1", Some(owner)).await;
    assert_eq!(fresh.body["onHand"], 0);
    assert_eq!(fresh.body["lowStockThreshold"], 5);

    let set = put(
        &app,
        "TEA-1",
        json!({"onHand": 10, "reason": "initial count"}),
        owner,
    )
    .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    assert_eq!(
        (set.body["onHand"].as_i64(), set.body["available"].as_i64()),
        (Some(10), Some(10))
    );
    let adjusted = put(
        &app,
        "TEA-1",
        json!({"delta": -3, "reason": "damaged"}),
        owner,
    )
    .await;
    assert_eq!(adjusted.body["onHand"], 7);

    // Bad input changes nothing.
    for (body, field) in [
        (json!({"delta": -8, "reason": "too many"}), "delta"),
        (json!({"onHand": 5, "delta": 1, "reason": "both"}), "delta"),
        (json!({"onHand": 5, "reason": ""}), "reason"),
        (json!({"onHand": -1, "reason": "negative"}), "onHand"),
        (
            json!({"onHand": 5, "reason": "where", "locationId": Uuid::now_v7()}),
            "locationId",
        ),
    ] {
        let resp = put(&app, "TEA-1", body, owner).await;
        assert_eq!(resp.status, 422, "{field}: {:?}", resp.body);
        assert_eq!(resp.body["errors"][0]["field"], field);
    }
    let unknown = put(&app, "NOPE", json!({"onHand": 1, "reason": "ghost"}), owner).await;
    assert_eq!((unknown.status, unknown.code()), (404, "sku_not_found"));
    assert_eq!(
        app.get("/api/v1/inventory/TEA-1", Some(owner)).await.body["onHand"],
        7
    );

    // Outlets become locations.
    let outlet = app
        .post(&format!("/api/v1/merchants/{}/outlets", shop.id), json!({
            "name": "Kiosk", "address": {"line1": "Central Market", "city": "Phnom Penh", "country": "KH"},
            "location": {"latitude": 11.57, "longitude": 104.92}
        }), Some(owner))
        .await;
    let outlet_id = outlet.body["id"].as_str().unwrap().to_owned();
    let at_outlet = eventually(Duration::from_secs(10), "outlet known", || async {
        let resp = put(
            &app,
            "TEA-1",
            json!({"onHand": 4, "reason": "kiosk stock", "locationId": outlet_id}),
            owner,
        )
        .await;
        (resp.status == 200).then_some(resp)
    })
    .await;
    assert_eq!(at_outlet.body["onHand"], 11);
    let kiosk = at_outlet.body["locations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["locationId"] == outlet_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (kiosk["name"].as_str(), kiosk["onHand"].as_i64()),
        (Some("Kiosk"), Some(4))
    );

    // Crossing under the threshold raises an alert and an event.
    let threshold = put(
        &app,
        "TEA-1",
        json!({"lowStockThreshold": 12, "reason": "busy season"}),
        owner,
    )
    .await;
    assert_eq!(threshold.body["low"], true);
    let alerts = app.get("/api/v1/inventory/alerts", Some(owner)).await;
    assert_eq!(alerts.body[0]["sku"], "TEA-1");
    assert_eq!(alerts.body[0]["available"], 11);
    let low_events: Vec<String> = platform::on_db!(&app.ctx().db, pool => sqlx::query_scalar(
        "SELECT event_type FROM platform_outbox WHERE event_type = 'inventory.low'"
    ).fetch_all(pool).await)
    .unwrap();
    assert_eq!(low_events.len(), 1);

    let ledger = app
        .get("/api/v1/inventory/TEA-1/movements", Some(owner))
        .await;
    let kinds: Vec<(&str, i64)> = ledger.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap(),
                m["onHandDelta"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![("ADJUSTMENT", 10), ("ADJUSTMENT", -3), ("ADJUSTMENT", 4)]
    );
    assert_eq!(ledger.body["items"][1]["reason"], "damaged");
    assert_eq!(
        ledger.body["items"][1]["actorId"],
        shop.owner.user_id.to_string()
    );
}

async fn stock_changes_are_authorized_per_merchant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (shop, _) = stocked_merchant(&app, "Guarded", "G-1").await;
    let rival = app.merchant("Rival").await;
    let cashier = app.staff(&shop, "cashier").await;
    let manager = app.staff(&shop, "manager").await;
    let customer = app.register("customer").await;
    let admin = app.admin().await;
    let read = format!("/api/v1/inventory/G-1?merchantId={}", shop.id);
    let change = json!({"merchantId": shop.id, "delta": 5, "reason": "delivery"});

    let cases = [
        ("customer", &customer.access_token, 403, 403),
        ("cashier", &cashier.access_token, 200, 403),
        ("rival owner", &rival.owner.access_token, 403, 403),
        ("admin", &admin.access_token, 200, 403),
        ("manager", &manager.access_token, 200, 200),
        ("owner", &shop.owner.access_token, 200, 200),
    ];
    let mut expected_on_hand = 0;
    for (who, token, read_status, write_status) in cases {
        assert_eq!(
            app.get(&read, Some(token)).await.status,
            read_status,
            "{who} reads"
        );
        let resp = put(&app, "G-1", change.clone(), token).await;
        assert_eq!(resp.status, write_status, "{who} writes: {:?}", resp.body);
        if write_status == 200 {
            expected_on_hand += 5;
        }
        let level = app.get(&read, Some(&shop.owner.access_token)).await;
        assert_eq!(level.body["onHand"], expected_on_hand, "after {who}");
    }
    // The rival's own SKU space is separate: G-1 is unknown there.
    let own = app
        .get("/api/v1/inventory/G-1", Some(&rival.owner.access_token))
        .await;
    assert_eq!(own.status, 404);
    assert_eq!(app.get("/api/v1/inventory/G-1", None).await.status, 401);
}
