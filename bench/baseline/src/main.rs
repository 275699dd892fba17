//! Benchmark helpers, run by `bench/run.sh`:
//! - `hello <addr>`: the yardstick, a bare axum hello-world with nothing in front of it;
//! - `point <addr> <database-url>`: bare axum reading one product row by id from the same
//!   database pasar serves (the yardstick of the product detail read);
//! - `load <pasar-url> <admin-email> <password> <out-dir>`: fills a running pasar through its
//!   API (100 merchants x 100 listed products, stock for 1,000 SKUs) and writes the ids the
//!   wrk scripts pick from;
//! - `checkout ...` and `write ...`: the checkout benchmark and its yardstick (see `checkout.rs`).
//! - `redeem ...`: counter redemptions and token verification (see `redeem.rs`).
//! - `promo-cart ...` and `promo-add ...`: the promotion benchmark's set-up (see
//!   `promotions.rs`).
//! - `flashsale ...`: a crowd at a flash sale and at plain stock (see `flashsale.rs`).
//! - `search-seed ...` and `fts ...`: the search benchmark's catalog and its PostgreSQL
//!   full-text yardstick (see `search.rs`).
//! - `shipping-seed ...` and `shipping-bare ...`: the shipping quote benchmark's merchants and
//!   its yardstick (see `shipping.rs`).
//! - `chat ...`, `ws-bare ...` and `chat-bare ...`: WebSocket chat under many connections and
//!   its yardstick (see `chat.rs`).
//! - `books ...`: voucher book generation, time and memory (see `books.rs`).

mod books;
mod chat;
mod checkout;
mod flashsale;
mod media;
mod promotions;
mod redeem;
mod search;
mod shipping;

use std::sync::Arc;

use anyhow::{bail, Context};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use uuid::Uuid;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["hello", addr] => hello(addr).await,
        ["point", addr, url] => point(addr, url).await,
        ["load", base, email, password, out] => load(base, email, password, out).await,
        ["checkout", base, email, password, secret, seconds, customers] => {
            checkout::checkout(base, email, password, secret, seconds.parse()?, customers.parse()?).await
        }
        ["write", addr, url] => checkout::write(addr, url).await,
        ["promo-cart", base, email, password, state] => promotions::cart(base, email, password, state).await,
        ["promo-add", base, state] => promotions::add(base, state).await,
        ["flashsale", base, email, password, buyers, units, accounts] => {
            flashsale::flashsale(base, email, password, buyers.parse()?, units.parse()?, accounts.parse()?).await
        }
        ["redeem", base, email, password, secret, seconds, workers, vouchers] => {
            redeem::redeem(base, email, password, secret, seconds.parse()?, workers.parse()?, vouchers.parse()?).await
        }
        ["search-seed", url, products, out] => search::seed(url, products.parse()?, out).await,
        ["fts", addr, url] => search::serve_fts(addr, url).await,
        ["shipping-seed", base, email, password, out] => shipping::seed(base, email, password, out).await,
        ["shipping-bare", addr, url] => shipping::bare(addr, url).await,
        ["media-fixtures", dir] => media::fixtures(dir),
        ["chat", base, email, password, connections, seconds, pid] => {
            chat::chat(base, email, password, connections.parse()?, seconds.parse()?, pid.parse()?).await
        }
        ["ws-bare", addr] => chat::bare(addr).await,
        ["books", base, email, password, pages, pid] => {
            books::books(base, email, password, pages.parse()?, pid.parse()?).await
        }
        ["chat-bare", addr, connections, seconds] => chat::bare_load(addr, connections.parse()?, seconds.parse()?).await,
        _ => bail!("usage: bench-baseline books <url> <admin-email> <password> <pages> <pasar-pid> | chat <url> <admin-email> <password> <connections> <seconds> <pasar-pid> | ws-bare <addr> | chat-bare <addr> <connections> <seconds> | shipping-seed <url> <admin-email> <password> <out-dir> | shipping-bare <addr> <db-url> | media-fixtures <dir> | search-seed <pg-url> <products> <out-dir> | fts <addr> <pg-url> | hello <addr> | point <addr> <db-url> | load <url> <admin-email> <password> <out-dir> | checkout <url> <admin-email> <password> <webhook-secret> <seconds> <customers> | write <addr> <db-url> | redeem <url> <admin-email> <password> <webhook-secret> <seconds> <workers> <vouchers> | promo-cart <url> <admin-email> <password> <state-file> | promo-add <url> <state-file> | flashsale <url> <admin-email> <password> <buyers> <units> <accounts>"),
    }
}

async fn serve(addr: &str, app: Router) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn hello(addr: &str) -> anyhow::Result<()> {
    serve(addr, Router::new().route("/", get(|| async { "hello" }))).await
}

#[derive(Clone)]
enum Pool {
    Sqlite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
}

type Row = (
    Uuid,
    Uuid,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    String,
);

const POINT_READ: &str =
    "SELECT id, merchant_id, slug, name, min_price, max_price, currency, status
    FROM catalog_products WHERE id = $1";

async fn product(
    State(pool): State<Arc<Pool>>,
    Path(id): Path<Uuid>,
) -> Result<Json<Value>, StatusCode> {
    let row: Option<Row> = match pool.as_ref() {
        Pool::Sqlite(p) => sqlx::query_as(POINT_READ).bind(id).fetch_optional(p).await,
        Pool::Pg(p) => sqlx::query_as(POINT_READ).bind(id).fetch_optional(p).await,
    }
    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let (id, merchant_id, slug, name, min, max, currency, status) =
        row.ok_or(StatusCode::NOT_FOUND)?;
    let name: Value = serde_json::from_str(&name).unwrap_or(Value::Null);
    Ok(Json(
        json!({"id": id, "merchantId": merchant_id, "slug": slug, "name": name,
        "price": {"min": min, "max": max, "currency": currency}, "status": status}),
    ))
}

async fn point(addr: &str, url: &str) -> anyhow::Result<()> {
    let pool = if url.starts_with("postgres") {
        Pool::Pg(
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(16)
                .connect(url)
                .await?,
        )
    } else {
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
        Pool::Sqlite(
            sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options.read_only(true))
                .await?,
        )
    };
    serve(
        addr,
        Router::new()
            .route("/products/{id}", get(product))
            .with_state(Arc::new(pool)),
    )
    .await
}

pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
}

impl Api {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
        token: &str,
    ) -> anyhow::Result<Value> {
        for attempt in 0..200 {
            let response = self
                .client
                .request(method.clone(), format!("{}{path}", self.base))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await?;
            let status = response.status();
            let value: Value = response.json().await.unwrap_or(Value::Null);
            // Inventory learns SKUs from events: a 404 right after creation is retried.
            if status == 404 && path.starts_with("/api/v1/inventory") && attempt < 199 {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
            if !status.is_success() {
                bail!("{method} {path}: {status} {value}");
            }
            return Ok(value);
        }
        bail!("{path}: gave up")
    }

    pub async fn post(&self, path: &str, body: Value, token: &str) -> anyhow::Result<Value> {
        self.send(reqwest::Method::POST, path, body, token).await
    }
}

/// Saves an address for the customer (checkout needs one when something ships); its id.
pub async fn saved_address(api: &Api, token: &str) -> anyhow::Result<String> {
    id(&api
        .post(
            "/api/v1/users/me/addresses",
            json!({"recipient": "Bench Customer", "phone": "+85512345678", "street": "No. 1, Street 240",
                "city": "Phnom Penh", "province": "Phnom Penh", "country": "KH", "isPrimary": true}),
            token,
        )
        .await?)
}

/// What a checkout of one merchant's physical goods adds to its body: the address and the
/// simulator courier's regular service.
pub fn shipping_fields(address: &str, merchant_id: &str) -> Value {
    json!({"shippingAddressId": address,
        "shipping": [{"merchantId": merchant_id, "courierCode": "SIMULATOR", "serviceCode": "REGULAR"}]})
}

/// Signs in through the API; the access token.
pub async fn login(api: &Api, email: &str, password: &str) -> anyhow::Result<String> {
    let body: Value = api
        .client
        .post(format!("{}/api/v1/auth/login", api.base))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await?
        .json()
        .await?;
    Ok(body["accessToken"]
        .as_str()
        .with_context(|| format!("login {email}: {body}"))?
        .to_owned())
}

pub fn id(value: &Value) -> anyhow::Result<String> {
    value["id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no id in {value}"))
}

/// A product the load created.
pub struct Listed {
    pub product_id: String,
    pub variant_id: String,
    pub sku: String,
}

pub struct Shop {
    pub merchant_id: String,
    pub products: Vec<Listed>,
}

/// Registers owner `m`, applies and approves their merchant, and lists `products` products
/// (with `stock` on hand each when given), all through the public API.
pub async fn merchant_with_products(
    api: &Api,
    admin: &str,
    m: usize,
    categories: &[String],
    products: usize,
    stock: Option<i64>,
) -> anyhow::Result<Shop> {
    let owner_email = format!("bench.owner.{m}@example.com");
    let registered = api.client.post(format!("{}/api/v1/auth/register", api.base))
        .json(&json!({"email": owner_email, "password": "Bench!Passw0rd", "firstName": "Bench", "lastName": format!("{m}")}))
        .send().await?.json::<Value>().await?;
    let owner = registered["accessToken"]
        .as_str()
        .context("owner token")?
        .to_owned();
    let merchant = api.post("/api/v1/merchants", json!({
        "businessName": format!("Bench Merchant {m}"), "legalName": format!("Bench Merchant {m} Ltd"),
        "businessType": "COMPANY", "taxId": format!("BENCH-{m}"), "contactEmail": owner_email,
        "contactPhone": "+85512345678", "address": {"line1": "1 Bench St", "city": "Phnom Penh", "country": "KH"},
        "location": {"latitude": 11.55, "longitude": 104.92}, "category": "bench"
    }), &owner).await?;
    let merchant_id = id(&merchant)?;
    api.post(
        &format!("/api/v1/admin/merchants/{merchant_id}/approve"),
        json!({}),
        admin,
    )
    .await?;
    let mut listed = Vec::new();
    for p in 0..products {
        let sku = format!("B{m:03}-{p:03}");
        let product = api.post("/api/v1/products", json!({
            "merchantId": merchant_id,
            "name": {"en": format!("Bench product {m}-{p}"), "km": "ផលិតផល"},
            "description": {"en": "A product of the catalog benchmark, with a description of realistic length to serialize."},
            "categoryId": categories[(m + p) % categories.len()],
            "type": "PHYSICAL", "weightGrams": 300,
            "attributes": {"material": "cotton", "origin": "KH"},
            "variants": [{"sku": sku, "options": {"size": "M"}, "price": 500 + ((m * 31 + p * 17) % 5000) as i64, "currency": "USD"}]
        }), &owner).await?;
        let product_id = id(&product)?;
        let variant_id = id(&product["variants"][0])?;
        let status = format!("/api/v1/products/{product_id}/status");
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
            admin,
        )
        .await?;
        listed.push(Listed {
            product_id,
            variant_id,
            sku,
        });
    }
    if let Some(on_hand) = stock {
        for product in &listed {
            api.send(
                reqwest::Method::PUT,
                &format!("/api/v1/inventory/{}", product.sku),
                json!({"onHand": on_hand, "reason": "bench stock"}),
                &owner,
            )
            .await?;
        }
    }
    Ok(Shop {
        merchant_id,
        products: listed,
    })
}

/// Override with BENCH_MERCHANTS for a quicker, smaller load.
const MERCHANTS: usize = 100;
const PRODUCTS: usize = 100;
/// Merchants whose SKUs get stock for the reservation scenarios (10 x 100 = 1,000 SKUs).
const STOCKED: usize = 10;

async fn load(base: &str, email: &str, password: &str, out: &str) -> anyhow::Result<()> {
    let api = Arc::new(Api {
        client: reqwest::Client::new(),
        base: base.trim_end_matches('/').to_owned(),
    });
    let login = api
        .client
        .post(format!("{}/api/v1/auth/login", api.base))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await?
        .json::<Value>()
        .await?;
    let admin = login["accessToken"]
        .as_str()
        .context("admin login")?
        .to_owned();
    let mut categories = Vec::new();
    for c in 0..10 {
        let body = api
            .post(
                "/api/v1/categories",
                json!({"slug": format!("bench-{c}"), "name": {"en": format!("Bench {c}")}}),
                &admin,
            )
            .await?;
        categories.push(id(&body)?);
    }
    let categories = Arc::new(categories);
    let limit = Arc::new(tokio::sync::Semaphore::new(8));
    let mut tasks = tokio::task::JoinSet::new();
    let merchants = std::env::var("BENCH_MERCHANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(MERCHANTS);
    for m in 0..merchants {
        let (api, admin, categories, limit) = (
            api.clone(),
            admin.clone(),
            categories.clone(),
            limit.clone(),
        );
        tasks.spawn(async move {
            let _permit = limit.acquire().await?;
            let stock = (m < STOCKED).then_some(1_000_000);
            let shop =
                merchant_with_products(&api, &admin, m, &categories, PRODUCTS, stock).await?;
            let ids = shop
                .products
                .iter()
                .map(|p| p.product_id.clone())
                .collect::<Vec<_>>();
            let skus = shop.products.into_iter().map(|p| p.sku).collect::<Vec<_>>();
            anyhow::Ok((m, shop.merchant_id, ids, skus))
        });
    }
    let mut product_ids = Vec::new();
    let mut stocked = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (m, merchant_id, ids, skus) = done??;
        product_ids.extend(ids);
        if m < STOCKED {
            stocked.extend(skus.into_iter().map(|s| (merchant_id.clone(), s)));
        }
    }
    let quote = |s: &str| format!("\"{s}\"");
    let lua = format!(
        "product_ids = {{{}}}\nstocked = {{{}}}\n",
        product_ids
            .iter()
            .map(|s| quote(s))
            .collect::<Vec<_>>()
            .join(","),
        stocked
            .iter()
            .map(|(m, s)| format!("{{{}, {}}}", quote(m), quote(s)))
            .collect::<Vec<_>>()
            .join(",")
    );
    std::fs::write(format!("{out}/targets.lua"), lua)?;
    println!(
        "loaded {} products, {} stocked SKUs",
        product_ids.len(),
        stocked.len()
    );
    Ok(())
}
