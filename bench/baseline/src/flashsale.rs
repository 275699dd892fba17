//! `flashsale <pasar-url> <admin-email> <password> <buyers> <units> <accounts>`: a crowd of
//! `buyers` checkouts fired at once (`accounts` customers, each sending its share) at
//! `units` units, twice in one run:
//! 1. the yardstick: a product with `units` in stock and no sale, where inventory's
//!    reservation is what refuses the losers, after each checkout was priced;
//! 2. a flash sale of `units` units (limit per customer = `units`, so the accounts do not
//!    limit), where the gate refuses the losers before any other work.
//!
//! Prints `crowd|name|buyers|won|refused|busy|other|p50 ms|p90 ms|p99 ms|max ms|wall ms` per
//! crowd and `remaining|n` (the sale's units left, which must be 0), and fails when a crowd
//! sold more or fewer than `units` or any answer was not a clean one.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::{id, login, merchant_with_products, Api};

pub async fn flashsale(
    base: &str,
    email: &str,
    password: &str,
    buyers: usize,
    units: i64,
    accounts: usize,
) -> anyhow::Result<()> {
    let api = Api {
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()?,
        base: base.trim_end_matches('/').to_owned(),
    };
    let admin = login(&api, email, password).await?;
    let category = id(&api
        .post(
            "/api/v1/categories",
            json!({"slug": "flash-bench", "name": {"en": "Flash bench"}}),
            &admin,
        )
        .await?)?;
    let shop = merchant_with_products(&api, &admin, 0, &[category], 2, Some(units)).await?;
    let plain = &shop.products[0].variant_id;
    let on_sale = &shop.products[1].variant_id;
    let now = chrono::Utc::now();
    let sale = api
        .post(
            "/api/v1/flash-sales",
            json!({"title": {"en": "Bench flash sale"},
                "startsAt": (now - chrono::Duration::seconds(1)).to_rfc3339(),
                "endsAt": (now + chrono::Duration::hours(1)).to_rfc3339(),
                "items": [{"variantId": on_sale, "salePrice": 100, "allotment": units,
                    "perCustomerLimit": units}]}),
            &admin,
        )
        .await?;
    let sale_id = id(&sale)?;
    let tokens = customers(&api, accounts).await?;
    let mut buyers_with_address = Vec::with_capacity(tokens.len());
    for token in tokens {
        let address = crate::saved_address(&api, &token).await?;
        buyers_with_address.push((token, crate::shipping_fields(&address, &shop.merchant_id)));
    }
    let tokens = buyers_with_address;
    let api = Arc::new(api);
    let mut failed = false;
    for (name, variant, refusal) in [
        ("stock only (yardstick)", plain, "insufficient_stock"),
        ("flash sale", on_sale, "sold_out"),
    ] {
        let crowd = crowd(&api, &tokens, variant, buyers, refusal).await;
        if crowd.won != units as usize || crowd.other > 0 {
            eprintln!(
                "{name}: {} won of {units}, {} unclean answers: {:?}",
                crowd.won, crowd.other, crowd.samples
            );
            failed = true;
        }
        println!(
            "crowd|{name}|{buyers}|{}|{}|{}|{}|{:.1}|{:.1}|{:.1}|{:.1}|{:.0}",
            crowd.won,
            crowd.refused,
            crowd.busy,
            crowd.other,
            crowd.percentile(0.50),
            crowd.percentile(0.90),
            crowd.percentile(0.99),
            crowd.percentile(1.0),
            crowd.wall.as_secs_f64() * 1000.0,
        );
    }
    let availability: Value = api
        .client
        .get(format!(
            "{}/api/v1/flash-sales/{sale_id}/availability",
            api.base
        ))
        .send()
        .await?
        .json()
        .await?;
    let remaining = availability["items"][0]["remaining"]
        .as_i64()
        .with_context(|| format!("availability: {availability}"))?;
    println!("remaining|{remaining}");
    if failed || remaining != 0 {
        bail!("the flash sale did not sell exactly {units} units");
    }
    Ok(())
}

/// Registers `count` customers, a few at a time; their access tokens.
async fn customers(api: &Api, count: usize) -> anyhow::Result<Vec<String>> {
    let mut tokens = Vec::new();
    for chunk in (0..count).collect::<Vec<_>>().chunks(8) {
        let registered = futures_util::future::join_all(chunk.iter().map(|c| async move {
            let body: Value = api
                .client
                .post(format!("{}/api/v1/auth/register", api.base))
                .json(&json!({"email": format!("bench.flash.{c}@example.com"), "password": "Bench!Passw0rd",
                    "firstName": "Bench", "lastName": format!("{c}")}))
                .send()
                .await?
                .json()
                .await?;
            body["accessToken"]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("customer {c}: {body}"))
        }))
        .await;
        for token in registered {
            tokens.push(token?);
        }
    }
    Ok(tokens)
}

struct Crowd {
    won: usize,
    refused: usize,
    busy: usize,
    other: usize,
    /// Answer times in ms, sorted.
    times: Vec<f64>,
    wall: Duration,
    samples: Vec<String>,
}

impl Crowd {
    fn percentile(&self, p: f64) -> f64 {
        if self.times.is_empty() {
            return 0.0;
        }
        let at = ((self.times.len() as f64 * p).ceil() as usize).clamp(1, self.times.len());
        self.times[at - 1]
    }
}

/// Fires `buyers` checkouts of one unit of `variant` at once and sorts the answers.
async fn crowd(
    api: &Arc<Api>,
    tokens: &[(String, Value)],
    variant: &str,
    buyers: usize,
    refusal: &str,
) -> Crowd {
    let barrier = Arc::new(tokio::sync::Barrier::new(buyers + 1));
    let mut tasks = Vec::with_capacity(buyers);
    for b in 0..buyers {
        let api = api.clone();
        let barrier = barrier.clone();
        let (token, shipping) = tokens[b % tokens.len()].clone();
        let mut body = json!({"lines": [{"variantId": variant, "quantity": 1}]});
        if let (Some(body), Some(shipping)) = (body.as_object_mut(), shipping.as_object()) {
            body.extend(shipping.clone());
        }
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let started = Instant::now();
            let answer = api
                .client
                .post(format!("{}/api/v1/orders", api.base))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await;
            let (status, code) = match answer {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let body: Value = response.json().await.unwrap_or(Value::Null);
                    (status, body["code"].as_str().unwrap_or_default().to_owned())
                }
                Err(err) => (0, err.to_string()),
            };
            (status, code, started.elapsed())
        }));
    }
    let started = Instant::now();
    barrier.wait().await;
    let mut crowd = Crowd {
        won: 0,
        refused: 0,
        busy: 0,
        other: 0,
        times: Vec::with_capacity(buyers),
        wall: Duration::ZERO,
        samples: Vec::new(),
    };
    for task in tasks {
        let Ok((status, code, took)) = task.await else {
            crowd.other += 1;
            continue;
        };
        crowd.times.push(took.as_secs_f64() * 1000.0);
        match (status, code.as_str()) {
            (201, _) => crowd.won += 1,
            (409, c) if c == refusal => crowd.refused += 1,
            (429, _) => crowd.busy += 1,
            _ => {
                crowd.other += 1;
                if crowd.samples.len() < 5 {
                    crowd.samples.push(format!("{status} {code}"));
                }
            }
        }
    }
    crowd.wall = started.elapsed();
    crowd.times.sort_by(|a, b| a.total_cmp(b));
    crowd
}
