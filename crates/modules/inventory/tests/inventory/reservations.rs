//! Reservations: all or nothing, never oversold under concurrency, idempotent, expiring.

use std::time::Duration;

use futures_util::future::join_all;
use inventory::api::{InventoryClient, ReserveLine, ReserveRequest};
use serde_json::json;
use testkit::{eventually, on_both_backends, Backend, TestApp};
use uuid::Uuid;

use crate::common::stocked_merchant;

on_both_backends!(
    parallel_reservations_never_oversell,
    reservations_are_idempotent_and_all_or_nothing,
    reservations_expire_and_release_stock,
);

fn request(merchant: Uuid, lines: &[(&str, i64)]) -> ReserveRequest {
    ReserveRequest {
        reservation_id: Uuid::now_v7(),
        reference: Some("order-group-1".into()),
        lines: lines
            .iter()
            .map(|(sku, quantity)| ReserveLine {
                merchant_id: merchant,
                sku: (*sku).into(),
                quantity: *quantity,
            })
            .collect(),
        ttl_seconds: None,
    }
}

async fn set_stock(app: &TestApp, token: &str, sku: &str, on_hand: i64) {
    let resp = app
        .put(
            &format!("/api/v1/inventory/{sku}"),
            json!({"onHand": on_hand, "reason": "count"}),
            Some(token),
        )
        .await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
}

async fn level(app: &TestApp, token: &str, sku: &str) -> (i64, i64) {
    let body = app
        .get(&format!("/api/v1/inventory/{sku}"), Some(token))
        .await
        .body;
    (
        body["onHand"].as_i64().unwrap(),
        body["reserved"].as_i64().unwrap(),
    )
}

async fn parallel_reservations_never_oversell(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (shop, _) = stocked_merchant(&app, "Hot Shop", "HOT-1").await;
    let owner = shop.owner.access_token.as_str();
    set_stock(&app, owner, "HOT-1", 50).await;
    let client = InventoryClient::new(app.ctx().services.clone(), "orders");

    let attempts = (0..200).map(|_| {
        let client = client.clone();
        let request = request(shop.id, &[("HOT-1", 1)]);
        tokio::spawn(async move { client.reserve(&request).await })
    });
    let results: Vec<_> = join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let won = results.iter().filter(|r| r.is_ok()).count();
    let refused: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(won, 50);
    assert!(
        refused
            .iter()
            .all(|e| e.status == 409 && e.code == "insufficient_stock"),
        "{refused:?}"
    );
    assert_eq!(level(&app, owner, "HOT-1").await, (50, 50));

    // Two lines of one SKU are summed before the check: 30 + 30 cannot fit in 40.
    set_stock(&app, owner, "HOT-1", 90).await;
    let doubled = client
        .reserve(&request(shop.id, &[("HOT-1", 30), ("HOT-1", 30)]))
        .await
        .unwrap_err();
    assert_eq!(doubled.code, "insufficient_stock");
    assert_eq!(doubled.problem["shortages"][0]["requested"], 60);
    assert_eq!(doubled.problem["shortages"][0]["available"], 40);
    assert_eq!(level(&app, owner, "HOT-1").await, (90, 50));

    // Confirm sells, release frees, return restocks; each step is idempotent.
    let sale = client
        .reserve(&request(shop.id, &[("HOT-1", 10)]))
        .await
        .unwrap();
    assert_eq!(
        client.confirm(sale.id).await.unwrap().status.as_str(),
        "CONFIRMED"
    );
    assert_eq!(
        client.confirm(sale.id).await.unwrap().status.as_str(),
        "CONFIRMED"
    );
    assert_eq!(level(&app, owner, "HOT-1").await, (80, 50));
    let released = results.iter().find_map(|r| r.as_ref().ok()).unwrap().id;
    client.release(released).await.unwrap();
    client.release(released).await.unwrap();
    assert_eq!(level(&app, owner, "HOT-1").await, (80, 49));
    let late = client.confirm(released).await.unwrap_err();
    assert_eq!(
        (late.status, late.code.as_str()),
        (409, "reservation_not_active")
    );
    client.return_stock(sale.id).await.unwrap();
    client.return_stock(sale.id).await.unwrap();
    assert_eq!(level(&app, owner, "HOT-1").await, (90, 49));

    let ledger = app
        .get("/api/v1/inventory/HOT-1/movements?limit=100", Some(owner))
        .await;
    let count = |kind: &str| {
        ledger.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == kind)
            .count()
    };
    assert_eq!(
        (
            count("RESERVATION"),
            count("SALE"),
            count("RELEASE"),
            count("RETURN")
        ),
        (51, 1, 1, 1)
    );
}

async fn reservations_are_idempotent_and_all_or_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (shop, _) = stocked_merchant(&app, "Two Skus", "A-1").await;
    let owner = shop.owner.access_token.as_str();
    set_stock(&app, owner, "A-1", 5).await;
    let client = InventoryClient::new(app.ctx().services.clone(), "orders");

    // One line short: nothing reserved, the shortage named.
    let mixed = client
        .reserve(&request(shop.id, &[("A-1", 2), ("MISSING", 1)]))
        .await
        .unwrap_err();
    assert_eq!(mixed.problem["shortages"][0]["sku"], "MISSING");
    assert_eq!(level(&app, owner, "A-1").await, (5, 0));

    let first = request(shop.id, &[("A-1", 2)]);
    let (a, b) = tokio::join!(client.reserve(&first), client.reserve(&first));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.id, b.id);
    assert_eq!(level(&app, owner, "A-1").await, (5, 2), "reserved once");
    let mut other_lines = first.clone();
    other_lines.lines[0].quantity = 3;
    let mismatch = client.reserve(&other_lines).await.unwrap_err();
    assert_eq!(
        (mismatch.status, mismatch.code.as_str()),
        (409, "reservation_mismatch")
    );

    let bad = client
        .reserve(&request(shop.id, &[("A-1", 0)]))
        .await
        .unwrap_err();
    assert_eq!(bad.status, 422);
    let missing = client.confirm(Uuid::now_v7()).await.unwrap_err();
    assert_eq!(missing.status, 404);

    // On hand cannot drop below what is reserved.
    let below = app
        .put(
            "/api/v1/inventory/A-1",
            json!({"onHand": 1, "reason": "recount"}),
            Some(owner),
        )
        .await;
    assert_eq!((below.status, below.code()), (409, "below_reserved"));

    // Not for end users.
    let direct = app
        .post(
            "/internal/v1/inventory/reservations",
            json!({}),
            Some(owner),
        )
        .await;
    assert_eq!(direct.status, 403);
}

async fn reservations_expire_and_release_stock(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (shop, _) = stocked_merchant(&app, "Expiring", "EXP-1").await;
    let owner = shop.owner.access_token.as_str();
    set_stock(&app, owner, "EXP-1", 3).await;
    let client = InventoryClient::new(app.ctx().services.clone(), "orders");
    let mut short = request(shop.id, &[("EXP-1", 3)]);
    short.ttl_seconds = Some(1);
    let reservation = client.reserve(&short).await.unwrap();
    assert_eq!(level(&app, owner, "EXP-1").await, (3, 3));
    eventually(Duration::from_secs(15), "expiry", || async {
        (level(&app, owner, "EXP-1").await == (3, 0)).then_some(())
    })
    .await;
    let late = client.confirm(reservation.id).await.unwrap_err();
    assert_eq!(late.problem["status"], 409);
    assert_eq!(late.problem["currentStatus"], "EXPIRED");
}
