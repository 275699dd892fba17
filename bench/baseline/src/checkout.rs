//! `checkout <pasar-url> <admin-email> <password> <webhook-secret> <seconds> <customers>`: the
//! checkout story end to end against a running pasar, one customer per concurrent worker, each
//! looping: add to cart → order → payment (simulator) → the gateway's signed webhook → poll
//! until the order is PAID. Prints the latency of each step and completed orders per second.
//!
//! With `BENCH_PROMOTIONS=1`, one automatic promotion and one coupon code (given with every
//! order) price each checkout, for the promotion benchmark's comparison.
//!
//! `write <addr> <database-url>`: the write yardstick, a bare axum handler committing one
//! single-row INSERT transaction per request to the same kind of database.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{id, login, merchant_with_products, Api};

const MERCHANTS: usize = 10;
const PRODUCTS: usize = 10;
const STEPS: [&str; 6] = [
    "cart add",
    "order (checkout saga)",
    "payment create",
    "webhook",
    "webhook → PAID seen",
    "end to end",
];

#[derive(Clone)]
struct Worker {
    api: Arc<Api>,
    token: String,
    /// (variant, its merchant).
    variants: Arc<Vec<(String, String)>>,
    address: String,
    secret: Arc<String>,
    order_body: Arc<Value>,
}

impl Worker {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        key: Option<String>,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .api
            .client
            .request(method, format!("{}{path}", self.api.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await?;
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{path}: {status} {value}");
        }
        Ok(value)
    }

    /// One order through every step; the duration of each.
    async fn one(&self, pick: usize) -> anyhow::Result<[Duration; 6]> {
        let started = Instant::now();
        let (variant, merchant) = &self.variants[pick % self.variants.len()];
        let mut order_body = self.order_body.as_ref().clone();
        if let (Some(body), Some(shipping)) = (
            order_body.as_object_mut(),
            crate::shipping_fields(&self.address, merchant).as_object(),
        ) {
            body.extend(shipping.clone());
        }
        self.call(
            reqwest::Method::POST,
            "/api/v1/cart/items",
            Some(json!({"variantId": variant, "quantity": 1})),
            None,
        )
        .await?;
        let added = Instant::now();
        let group = self
            .call(
                reqwest::Method::POST,
                "/api/v1/orders",
                Some(order_body),
                Some(Uuid::new_v4().to_string()),
            )
            .await?;
        let ordered = Instant::now();
        let order = id(&group["orders"][0])?;
        let payment = self
            .call(
                reqwest::Method::POST,
                "/api/v1/payments",
                Some(json!({"orderGroupId": id(&group)?, "method": "simulator"})),
                Some(Uuid::new_v4().to_string()),
            )
            .await?;
        let paying = Instant::now();
        // What the gateway sends: a signed webhook to the public endpoint.
        let body = serde_json::to_vec(&json!({
            "eventId": Uuid::new_v4().to_string(), "paymentId": id(&payment)?, "status": "SUCCEEDED",
            "amount": payment["amount"], "currency": payment["currency"],
        }))?;
        let response = self
            .api
            .client
            .post(format!(
                "{}/api/v1/payments/webhook/simulator",
                self.api.base
            ))
            .header("content-type", "application/json")
            .header(
                "x-simulator-signature",
                payments::providers::simulator::sign(&self.secret, &body),
            )
            .body(body)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("webhook: {}", response.status());
        }
        let hooked = Instant::now();
        loop {
            let view = self
                .call(
                    reqwest::Method::GET,
                    &format!("/api/v1/orders/{order}"),
                    None,
                    None,
                )
                .await?;
            if view["status"] == "PAID" {
                break;
            }
            if hooked.elapsed() > Duration::from_secs(30) {
                bail!("order {order} not paid within 30 s");
            }
            // A client polling harder than this would be most of the load it measures.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let paid = Instant::now();
        Ok([
            added - started,
            ordered - added,
            paying - ordered,
            hooked - paying,
            paid - hooked,
            paid - started,
        ])
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

pub async fn checkout(
    base: &str,
    email: &str,
    password: &str,
    secret: &str,
    seconds: u64,
    customers: usize,
) -> anyhow::Result<()> {
    let api = Arc::new(Api {
        client: reqwest::Client::new(),
        base: base.trim_end_matches('/').to_owned(),
    });
    let admin = login(&api, email, password).await?;
    let category = id(&api
        .post(
            "/api/v1/categories",
            json!({"slug": "checkout-bench", "name": {"en": "Checkout bench"}}),
            &admin,
        )
        .await?)?;
    let categories = vec![category];
    let mut variants = Vec::new();
    for m in 0..MERCHANTS {
        let shop =
            merchant_with_products(&api, &admin, m, &categories, PRODUCTS, Some(1_000_000)).await?;
        let merchant = shop.merchant_id.clone();
        variants.extend(
            shop.products
                .into_iter()
                .map(|p| (p.variant_id, merchant.clone())),
        );
    }
    let variants = Arc::new(variants);
    let order_body = if std::env::var("BENCH_PROMOTIONS").is_ok_and(|v| v == "1") {
        let campaign = crate::promotions::campaign(&api, &admin).await?;
        for (kind, code, effect) in [
            (
                "AUTOMATIC",
                None,
                json!({"type": "PERCENT_OFF", "percentBps": 500, "target": "ORDER"}),
            ),
            (
                "CODE",
                Some("BENCH"),
                json!({"type": "AMOUNT_OFF", "amount": 100, "target": "ORDER"}),
            ),
        ] {
            api.post(
                "/api/v1/promotions",
                json!({"campaignId": campaign, "name": {"en": kind}, "kind": kind, "code": code,
                    "currency": "USD", "bearer": "PLATFORM", "rules": {"effect": effect}}),
                &admin,
            )
            .await?;
        }
        Arc::new(json!({"couponCodes": ["BENCH"]}))
    } else {
        Arc::new(json!({}))
    };
    let mut workers = Vec::new();
    for c in 0..customers {
        let registered: Value = api.client.post(format!("{}/api/v1/auth/register", api.base))
            .json(&json!({"email": format!("bench.customer.{c}@example.com"), "password": "Bench!Passw0rd",
                "firstName": "Bench", "lastName": format!("Customer {c}")}))
            .send().await?.json().await?;
        let token = registered["accessToken"]
            .as_str()
            .with_context(|| format!("customer {c}: {registered}"))?
            .to_owned();
        let address = crate::saved_address(&api, &token).await?;
        workers.push(Worker {
            api: api.clone(),
            address,
            token,
            variants: variants.clone(),
            secret: Arc::new(secret.to_owned()),
            order_body: order_body.clone(),
        });
    }
    // Warm up (connections, caches) before measuring.
    for (n, worker) in workers.iter().enumerate() {
        worker.one(n).await?;
    }
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (n, worker) in workers.into_iter().enumerate() {
        tasks.spawn(async move {
            let mut samples = Vec::new();
            let mut errors = 0usize;
            let mut pick = n * 7;
            while Instant::now() < deadline {
                pick += 1;
                match worker.one(pick).await {
                    Ok(steps) => samples.push(steps),
                    Err(err) => {
                        errors += 1;
                        if errors <= 3 {
                            eprintln!("checkout failed: {err}");
                        }
                    }
                }
            }
            (samples, errors)
        });
    }
    let mut samples = Vec::new();
    let mut errors = 0;
    while let Some(done) = tasks.join_next().await {
        let (s, e) = done?;
        samples.extend(s);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "orders|{}|{:.1}|{}",
        samples.len(),
        samples.len() as f64 / elapsed,
        errors
    );
    for (step, name) in STEPS.iter().enumerate() {
        let mut durations: Vec<Duration> = samples.iter().map(|s| s[step]).collect();
        durations.sort();
        println!(
            "step|{name}|{:.2}|{:.2}",
            percentile(&durations, 0.5),
            percentile(&durations, 0.99)
        );
    }
    Ok(())
}

#[derive(Clone)]
enum Pool {
    Sqlite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
}

async fn insert(State(pool): State<Arc<Pool>>) -> StatusCode {
    let result = match pool.as_ref() {
        Pool::Sqlite(p) => sqlx::query("INSERT INTO bench_writes (id, at) VALUES ($1, $2)")
            .bind(Uuid::now_v7())
            .bind(0i64)
            .execute(p)
            .await
            .map(|_| ()),
        Pool::Pg(p) => sqlx::query("INSERT INTO bench_writes (id, at) VALUES ($1, $2)")
            .bind(Uuid::now_v7())
            .bind(0i64)
            .execute(p)
            .await
            .map(|_| ()),
    };
    if result.is_ok() {
        StatusCode::CREATED
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

pub async fn write(addr: &str, url: &str) -> anyhow::Result<()> {
    let create =
        "CREATE TABLE IF NOT EXISTS bench_writes (id UUID PRIMARY KEY, at BIGINT NOT NULL)";
    let pool = if url.starts_with("postgres") {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(16)
            .connect(url)
            .await?;
        sqlx::query(create).execute(&pool).await?;
        Pool::Pg(pool)
    } else {
        // The settings pasar runs SQLite with: WAL, synchronous NORMAL.
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
        let options = options
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::query(create).execute(&pool).await?;
        Pool::Sqlite(pool)
    };
    crate::serve(
        addr,
        Router::new()
            .route("/write", post(insert))
            .with_state(Arc::new(pool)),
    )
    .await
}
