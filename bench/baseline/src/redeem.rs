//! `redeem <pasar-url> <admin-email> <password> <webhook-secret> <seconds> <workers> <vouchers>`:
//! counter redemptions against a running pasar. Setup through the public API: a merchant with
//! an outlet and a USD 10 voucher offer, customers who buy `vouchers` vouchers (99 per order,
//! paid by signed simulator webhooks), and the printed QR token and PIN of each. Then
//! `workers` tills redeem distinct vouchers as fast as they can (one `POST /redemptions` with
//! an Idempotency-Key each) for `seconds`. Also measures token verification alone: ES256
//! verification of the same tokens with keys taken from the JWKS, on one core.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{id, login, merchant_with_products, Api};

const PRICE: i64 = 1_000;
const PER_ORDER: i64 = 99;
const OUTLET: (f64, f64) = (11.5696, 104.9211);

async fn get(api: &Api, path: &str, token: &str) -> anyhow::Result<Value> {
    api.send(reqwest::Method::GET, path, Value::Null, token)
        .await
}

/// Buys `count` vouchers for one customer; returns their (token, pin).
async fn buy(
    api: &Api,
    customer: &str,
    variant: &str,
    secret: &str,
    count: i64,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut left = count;
    while left > 0 {
        let quantity = left.min(PER_ORDER);
        left -= quantity;
        let group = api
            .post(
                "/api/v1/orders",
                json!({"lines": [{"variantId": variant, "quantity": quantity}]}),
                customer,
            )
            .await?;
        let payment = api
            .post(
                "/api/v1/payments",
                json!({"orderGroupId": id(&group)?, "method": "simulator"}),
                customer,
            )
            .await?;
        let body = serde_json::to_vec(&json!({
            "eventId": Uuid::new_v4().to_string(), "paymentId": id(&payment)?, "status": "SUCCEEDED",
            "amount": payment["amount"], "currency": payment["currency"],
        }))?;
        let hook = api
            .client
            .post(format!("{}/api/v1/payments/webhook/simulator", api.base))
            .header("content-type", "application/json")
            .header(
                "x-simulator-signature",
                payments::providers::simulator::sign(secret, &body),
            )
            .body(body)
            .send()
            .await?;
        if !hook.status().is_success() {
            bail!("webhook: {}", hook.status());
        }
    }
    // Issued by event: wait until the wallet holds them all.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut items = Vec::new();
    loop {
        items.clear();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/wallet?status=ACTIVE&limit=100&cursor={c}"),
                None => "/api/v1/wallet?status=ACTIVE&limit=100".to_owned(),
            };
            let page = get(api, &path, customer).await?;
            items.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        if items.len() as i64 >= count {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {} of {count} vouchers issued", items.len());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut tokens = Vec::new();
    for item in items {
        let qr = get(
            api,
            &format!(
                "/api/v1/wallet/{}/qr?format=token&variant=printed",
                id(&item)?
            ),
            customer,
        )
        .await?;
        tokens.push((
            qr["token"].as_str().context("token")?.to_owned(),
            item["pin"].as_str().context("pin")?.to_owned(),
        ));
    }
    Ok(tokens)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

#[allow(clippy::too_many_arguments)]
pub async fn redeem(
    base: &str,
    email: &str,
    password: &str,
    secret: &str,
    seconds: u64,
    workers: usize,
    vouchers: usize,
) -> anyhow::Result<()> {
    let api = Arc::new(Api {
        client: reqwest::Client::new(),
        base: base.trim_end_matches('/').to_owned(),
    });
    let admin = login(&api, email, password).await?;
    let category = id(&api
        .post(
            "/api/v1/categories",
            json!({"slug": "redeem-bench", "name": {"en": "Redeem bench"}}),
            &admin,
        )
        .await?)?;
    let shop =
        merchant_with_products(&api, &admin, 900, std::slice::from_ref(&category), 0, None).await?;
    let owner = login(&api, "bench.owner.900@example.com", "Bench!Passw0rd").await?;
    let outlet = id(&api
        .post(
            &format!("/api/v1/merchants/{}/outlets", shop.merchant_id),
            json!({"name": "Counter", "address": {"line1": "1 Bench St", "city": "Phnom Penh", "country": "KH"},
                   "location": {"latitude": OUTLET.0, "longitude": OUTLET.1}}),
            &owner,
        )
        .await?)?;
    let product = api
        .post(
            "/api/v1/products",
            json!({"merchantId": shop.merchant_id, "name": {"en": "Bench voucher"}, "categoryId": category,
                   "type": "VOUCHER", "variants": [{"sku": "BENCH-VOUCHER", "price": PRICE, "currency": "USD"}]}),
            &owner,
        )
        .await?;
    let variant = id(&product["variants"][0])?;
    let offer_body = json!({"variantId": variant, "kind": "GIFT_CARD", "faceValue": PRICE,
                            "validDays": 30, "outlets": [outlet]});
    // The outlet reaches vouchers by event: retry until it is known.
    let mut tries = 0;
    while let Err(err) = api
        .post("/api/v1/vouchers", offer_body.clone(), &owner)
        .await
    {
        tries += 1;
        if tries > 100 {
            return Err(err);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = format!("/api/v1/products/{}/status", id(&product)?);
    api.send(
        reqwest::Method::PATCH,
        &status,
        json!({"status": "PENDING_REVIEW"}),
        &owner,
    )
    .await?;
    api.send(
        reqwest::Method::PATCH,
        &status,
        json!({"status": "ACTIVE"}),
        &admin,
    )
    .await?;
    api.send(
        reqwest::Method::PUT,
        "/api/v1/inventory/BENCH-VOUCHER",
        json!({"merchantId": shop.merchant_id, "onHand": 1_000_000, "reason": "bench stock"}),
        &owner,
    )
    .await?;
    // A load test is many vouchers of few customers on few tills: lift the velocity limits
    // (every rule is still evaluated, which is what costs).
    let mut rules = get(&api, "/api/v1/admin/fraud-rules", &admin).await?["rules"].clone();
    for rule in ["deviceVelocity", "outletVelocity", "customerVelocity"] {
        rules[rule]["max"] = json!(1_000_000_000);
    }
    api.send(
        reqwest::Method::PUT,
        "/api/v1/admin/fraud-rules",
        rules,
        &admin,
    )
    .await?;

    let customers = vouchers.div_ceil(500).max(1);
    let mut setups = tokio::task::JoinSet::new();
    for c in 0..customers {
        let (api, variant, secret) = (api.clone(), variant.clone(), secret.to_owned());
        let count = (vouchers / customers) as i64;
        setups.spawn(async move {
            let registered: Value = api.client.post(format!("{}/api/v1/auth/register", api.base))
                .json(&json!({"email": format!("bench.holder.{c}@example.com"), "password": "Bench!Passw0rd",
                    "firstName": "Bench", "lastName": format!("Holder {c}")}))
                .send().await?.json().await?;
            let token = registered["accessToken"].as_str().context("customer token")?.to_owned();
            buy(&api, &token, &variant, &secret, count).await
        });
    }
    let mut tokens = Vec::new();
    while let Some(done) = setups.join_next().await {
        tokens.extend(done??);
    }
    eprintln!("{} vouchers ready", tokens.len());

    // Token verification alone, with only the JWKS, on one core.
    let jwks: Value = api
        .client
        .get(format!("{}/.well-known/jwks.json", api.base))
        .send()
        .await?
        .json()
        .await?;
    let kid = jsonwebtoken::decode_header(&tokens[0].0)?
        .kid
        .context("kid")?;
    let key = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kid"] == kid.as_str()))
        .context("kid in JWKS")?;
    let decoding = jsonwebtoken::DecodingKey::from_ec_components(
        key["x"].as_str().context("x")?,
        key["y"].as_str().context("y")?,
    )?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.validate_aud = false;
    let verify_started = Instant::now();
    let rounds = tokens.len().min(5_000);
    for (token, _) in tokens.iter().take(rounds) {
        jsonwebtoken::decode::<Value>(token, &decoding, &validation)?;
    }
    let verify_elapsed = verify_started.elapsed().as_secs_f64();
    println!(
        "verify|{rounds}|{:.0}|{:.1}",
        rounds as f64 / verify_elapsed,
        verify_elapsed * 1e6 / rounds as f64
    );

    let tokens = Arc::new(tokens);
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..workers {
        let (api, owner, tokens, next, outlet) = (
            api.clone(),
            owner.clone(),
            tokens.clone(),
            next.clone(),
            outlet.clone(),
        );
        tasks.spawn(async move {
            let mut samples = Vec::new();
            let (mut errors, mut approved) = (0usize, 0usize);
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((token, pin)) = tokens.get(i) else {
                    break;
                };
                let sent = Instant::now();
                let response = api
                    .client
                    .post(format!("{}/api/v1/redemptions", api.base))
                    .bearer_auth(&owner)
                    .header("Idempotency-Key", Uuid::new_v4().to_string())
                    .json(&json!({"token": token, "pin": pin, "outletId": outlet,
                        "deviceId": format!("till-{w}"),
                        "location": {"latitude": OUTLET.0, "longitude": OUTLET.1}}))
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status().is_success() => {
                        let body: Value = r.json().await.unwrap_or(Value::Null);
                        samples.push(sent.elapsed());
                        if body["status"] == "APPROVED" {
                            approved += 1;
                        }
                    }
                    Ok(r) => {
                        errors += 1;
                        if errors <= 3 {
                            eprintln!(
                                "redeem failed: {} {}",
                                r.status(),
                                r.text().await.unwrap_or_default()
                            );
                        }
                    }
                    Err(err) => {
                        errors += 1;
                        if errors <= 3 {
                            eprintln!("redeem failed: {err}");
                        }
                    }
                }
            }
            (samples, errors, approved)
        });
    }
    let (mut samples, mut errors, mut approved) = (Vec::new(), 0, 0);
    while let Some(done) = tasks.join_next().await {
        let (s, e, a) = done?;
        samples.extend(s);
        errors += e;
        approved += a;
    }
    let elapsed = started.elapsed().as_secs_f64();
    samples.sort();
    println!(
        "redeem|{}|{:.1}|{}|{}|{:.1}",
        samples.len(),
        samples.len() as f64 / elapsed,
        errors,
        approved,
        elapsed
    );
    println!(
        "latency|{:.2}|{:.2}",
        percentile(&samples, 0.5),
        percentile(&samples, 0.99)
    );
    Ok(())
}
