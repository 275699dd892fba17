//! Merchant-facing messages: the owner hears about approval and low stock.

use std::time::Duration;

use serde_json::{json, Value};
use testkit::{eventually, on_both_backends, Backend, TestApp};

on_both_backends!(owners_hear_about_approval_and_low_stock);

async fn inbox_titles(app: &TestApp, token: &str) -> Vec<String> {
    let resp = app.get("/api/v1/notifications", Some(token)).await;
    resp.body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|m: &Value| m["title"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn owners_hear_about_approval_and_low_stock(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let shop = app.merchant("Stocky Shop").await;
    let owner = shop.owner.access_token.as_str();
    let category = app.category(&admin, "stock", None).await;
    app.draft_product(&shop, category, "Rice", "RICE-5KG", 900)
        .await;
    let path = "/api/v1/inventory/RICE-5KG";
    eventually(Duration::from_secs(10), "SKU known", || async {
        let resp = app
            .put(
                path,
                json!({"onHand": 10, "reason": "delivery"}),
                Some(owner),
            )
            .await;
        (resp.status == 200).then_some(())
    })
    .await;
    let sold = app
        .put(
            path,
            json!({"delta": -7, "reason": "market sale"}),
            Some(owner),
        )
        .await;
    assert_eq!(sold.body["low"], true);

    let titles = eventually(Duration::from_secs(15), "owner messages", || async {
        let titles = inbox_titles(&app, owner).await;
        let both = titles.iter().any(|t| t == "Low stock: RICE-5KG")
            && titles.iter().any(|t| t.contains("is live on Pasar"));
        both.then_some(titles)
    })
    .await;
    // Staying low sends nothing more.
    app.put(
        path,
        json!({"delta": -1, "reason": "another sale"}),
        Some(owner),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = inbox_titles(&app, owner).await;
    assert_eq!(
        again.iter().filter(|t| t.starts_with("Low stock")).count(),
        titles.iter().filter(|t| t.starts_with("Low stock")).count()
    );
}
