//! Public product lists: filters, sorts, cursor pages; merchant and moderation views.

use serde_json::Value;
use testkit::{on_both_backends, Backend, TestApp};
use uuid::Uuid;

on_both_backends!(lists_filter_sort_and_page);

/// Follows `nextCursor` to the end; returns every item in order.
async fn all_pages(app: &TestApp, query: &str, token: Option<&str>) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/products?{query}&limit=4&cursor={c}"),
            None => format!("/api/v1/products?{query}&limit=4"),
        };
        let resp = app.get(&path, token).await;
        assert_eq!(resp.status, 200, "{path}: {:?}", resp.body);
        items.extend(resp.body["items"].as_array().unwrap().iter().cloned());
        match resp.body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

fn prices(items: &[Value]) -> Vec<i64> {
    items
        .iter()
        .map(|p| p["price"]["min"].as_i64().unwrap())
        .collect()
}

async fn lists_filter_sort_and_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let shop = app.merchant("Big Shop").await;
    let small = app.merchant("Small Shop").await;
    let food = app.category(&admin, "food", None).await;
    let snacks = app.category(&admin, "snacks", Some(food)).await;
    let drinks = app.category(&admin, "drinks", None).await;

    // 9 listed products of the big shop, 2 of the small one, and a draft.
    let mut listed = Vec::new();
    for i in 0..9i64 {
        let category = if i % 3 == 0 {
            drinks
        } else if i % 3 == 1 {
            food
        } else {
            snacks
        };
        let price = 100 + (i * 37) % 250;
        let (id, _) = app
            .draft_product(
                &shop,
                category,
                &format!("Item {}", (b'a' + (8 - i) as u8) as char),
                &format!("SKU-{i}"),
                price,
            )
            .await;
        app.activate_product(&shop, &admin, id).await;
        listed.push((id, category, price));
    }
    for i in 0..2 {
        let (id, _) = app
            .draft_product(&small, snacks, &format!("Small {i}"), &format!("S-{i}"), 50)
            .await;
        app.activate_product(&small, &admin, id).await;
    }
    let (draft, _) = app
        .draft_product(&shop, food, "Secret draft", "DRAFT-1", 10)
        .await;

    let newest = all_pages(&app, "sort=newest", None).await;
    assert_eq!(newest.len(), 11);
    assert!(newest.iter().all(|p| p["id"] != draft.to_string()));
    assert_eq!(newest[10]["id"], listed[0].0.to_string(), "oldest last");

    let cheap_first = all_pages(&app, "sort=price_asc", None).await;
    let mut sorted = prices(&cheap_first);
    assert_eq!(cheap_first.len(), 11);
    sorted.sort();
    assert_eq!(prices(&cheap_first), sorted);
    let dear_first = all_pages(&app, "sort=price_desc", None).await;
    sorted.reverse();
    assert_eq!(prices(&dear_first), sorted);

    let by_name = all_pages(&app, &format!("sort=name&merchantId={}", shop.id), None).await;
    let names: Vec<&str> = by_name
        .iter()
        .map(|p| p["name"]["en"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "Item a", "Item b", "Item c", "Item d", "Item e", "Item f", "Item g", "Item h",
            "Item i"
        ]
    );

    // A category includes its descendants.
    let in_food = all_pages(&app, &format!("categoryId={food}"), None).await;
    let expected = listed.iter().filter(|(_, c, _)| *c != drinks).count() + 2;
    assert_eq!(in_food.len(), expected);
    let in_snacks = all_pages(
        &app,
        &format!("categoryId={snacks}&merchantId={}", small.id),
        None,
    )
    .await;
    assert_eq!(in_snacks.len(), 2);

    let range = all_pages(
        &app,
        "minPrice=100&maxPrice=200&currency=USD&sort=price_asc",
        None,
    )
    .await;
    let expected = listed
        .iter()
        .filter(|(_, _, p)| (100..=200).contains(p))
        .count();
    assert_eq!(range.len(), expected);
    assert!(prices(&range).iter().all(|p| (100..=200).contains(p)));

    // The merchant's own view includes drafts; others cannot list by status.
    let own = all_pages(
        &app,
        &format!("merchantId={}", shop.id),
        Some(&shop.owner.access_token),
    )
    .await;
    assert_eq!(own.len(), 10);
    let drafts = all_pages(
        &app,
        &format!("merchantId={}&status=DRAFT", shop.id),
        Some(&shop.owner.access_token),
    )
    .await;
    assert_eq!(drafts.len(), 1);
    let peek = app
        .get(
            &format!("/api/v1/products?merchantId={}&status=DRAFT", shop.id),
            Some(&small.owner.access_token),
        )
        .await;
    assert_eq!(peek.status, 403);
    let queue = app
        .get("/api/v1/products?status=DRAFT", Some(&admin.access_token))
        .await;
    assert_eq!(queue.body["items"][0]["id"], draft.to_string());

    let bad = app.get("/api/v1/products?cursor=%%%", None).await;
    assert_eq!(bad.status, 422);
    let mismatched = app
        .get(
            &format!(
                "/api/v1/products?sort=price_asc&cursor={}",
                kernel::Cursor::encode(&Uuid::now_v7().to_string())
            ),
            None,
        )
        .await;
    assert_eq!(mismatched.status, 422);
}
