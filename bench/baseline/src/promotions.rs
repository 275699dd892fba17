//! The promotion benchmark's set-up, through the public API of a running pasar:
//! - `promo-cart <pasar-url> <admin-email> <password> <state-file>`: 2 merchants with 10 listed
//!   products each and a customer whose cart holds all 20; writes the tokens and ids the next
//!   step needs, and prints the customer's access token;
//! - `promo-add <pasar-url> <state-file>`: 50 live promotions (48 automatic of every kind, some
//!   exclusive, some merchants', some whose conditions do not hold, and 2 code promotions whose
//!   codes the customer enters on the cart).
//!
//! `checkout` with `BENCH_PROMOTIONS=1` (see `checkout.rs`) prices every order with one
//! automatic promotion and one coupon code.

use anyhow::Context;
use serde_json::{json, Value};

use crate::{id, login, merchant_with_products, Api};

fn api(base: &str) -> Api {
    Api {
        client: reqwest::Client::new(),
        base: base.trim_end_matches('/').to_owned(),
    }
}

pub async fn cart(base: &str, email: &str, password: &str, state: &str) -> anyhow::Result<()> {
    let api = api(base);
    let admin = login(&api, email, password).await?;
    let category = id(&api
        .post(
            "/api/v1/categories",
            json!({"slug": "promo-bench", "name": {"en": "Promotion bench"}}),
            &admin,
        )
        .await?)?;
    let mut merchants = Vec::new();
    let mut products = Vec::new();
    let mut variants = Vec::new();
    for m in 0..2 {
        let shop = merchant_with_products(
            &api,
            &admin,
            m,
            std::slice::from_ref(&category),
            10,
            Some(1_000_000),
        )
        .await?;
        merchants.push(shop.merchant_id);
        for p in shop.products {
            products.push(p.product_id);
            variants.push(p.variant_id);
        }
    }
    let registered: Value = api
        .client
        .post(format!("{}/api/v1/auth/register", api.base))
        .json(
            &json!({"email": "bench.promotions@example.com", "password": "Bench!Passw0rd",
            "firstName": "Bench", "lastName": "Promotions"}),
        )
        .send()
        .await?
        .json()
        .await?;
    let customer = registered["accessToken"]
        .as_str()
        .context("customer token")?
        .to_owned();
    for (n, variant) in variants.iter().enumerate() {
        api.post(
            "/api/v1/cart/items",
            json!({"variantId": variant, "quantity": 1 + n % 3}),
            &customer,
        )
        .await?;
    }
    let saved = json!({"admin": admin, "customer": customer, "category": category,
        "merchants": merchants, "products": products});
    std::fs::write(state, serde_json::to_vec(&saved)?)?;
    println!("{customer}");
    Ok(())
}

pub async fn add(base: &str, state: &str) -> anyhow::Result<()> {
    let api = api(base);
    let saved: Value = serde_json::from_slice(&std::fs::read(state)?)?;
    let text = |key: &str| saved[key].as_str().map(str::to_owned).context("state");
    let admin = text("admin")?;
    let customer = text("customer")?;
    let category = text("category")?;
    let merchants: Vec<String> = serde_json::from_value(saved["merchants"].clone())?;
    let products: Vec<String> = serde_json::from_value(saved["products"].clone())?;
    let campaign = campaign(&api, &admin).await?;
    let effects = [
        json!({"type": "PERCENT_OFF", "percentBps": 500, "target": "ORDER"}),
        json!({"type": "AMOUNT_OFF", "amount": 50, "target": "LINES"}),
        json!({"type": "BUY_X_GET_Y", "buy": 2, "get": 1, "percentBps": 5000}),
        json!({"type": "FIXED_PRICE", "unitPrice": 400}),
    ];
    for n in 0..48usize {
        // Conditions that hold and some that do not (a high minimum, a first order only).
        let conditions = match n % 6 {
            0 => json!({"minSubtotal": 1_000}),
            1 => json!({"items": {"categoryIds": [category]}, "minQuantity": 2}),
            2 => json!({"minSubtotal": 100_000_000}),
            3 => json!({"timeWindow": {"daysOfWeek": [1, 2, 3, 4, 5, 6, 7]}}),
            4 => json!({"items": {"merchantIds": [merchants[n % 2]]}}),
            _ => json!({"firstOrder": true}),
        };
        let applies_to = json!({"productIds": [products[n % products.len()], products[(n * 7) % products.len()]]});
        let rules = json!({"conditions": conditions, "effect": effects[n % effects.len()],
            "appliesTo": applies_to, "maxDiscount": 2_000});
        api.post(
            "/api/v1/promotions",
            json!({"campaignId": campaign, "name": {"en": format!("Bench {n}")}, "kind": "AUTOMATIC",
                "currency": "USD", "priority": (n % 10) as i64, "exclusive": n % 12 == 0,
                "bearer": if n % 2 == 0 { "PLATFORM" } else { "SHARED" },
                "merchantShareBps": if n % 2 == 0 { Value::Null } else { json!(5000) },
                "rules": rules}),
            &admin,
        )
        .await?;
    }
    for code in ["BENCH-A", "BENCH-B"] {
        api.post(
            "/api/v1/promotions",
            json!({"campaignId": campaign, "name": {"en": code}, "kind": "CODE", "code": code,
                "currency": "USD", "bearer": "PLATFORM",
                "rules": {"effect": {"type": "AMOUNT_OFF", "amount": 100, "target": "ORDER"}}}),
            &admin,
        )
        .await?;
        api.post("/api/v1/cart/coupons", json!({"code": code}), &customer)
            .await?;
    }
    Ok(())
}

/// A running platform campaign.
pub async fn campaign(api: &Api, admin: &str) -> anyhow::Result<String> {
    let campaign = id(&api
        .post(
            "/api/v1/campaigns",
            json!({"title": {"en": "Bench"}, "startsAt": "2026-01-01T00:00:00Z"}),
            admin,
        )
        .await?)?;
    api.post(
        &format!("/api/v1/campaigns/{campaign}/status"),
        json!({"status": "SCHEDULED"}),
        admin,
    )
    .await?;
    Ok(campaign)
}
