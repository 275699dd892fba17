//! The shipping benchmark's set-up and yardstick:
//! - `shipping-seed <pasar-url> <admin-email> <password> <out-dir>`: 3 merchants (Phnom Penh)
//!   with 2 listed products each, through the API; writes `rates.lua`, the wrk script posting
//!   one quote of a 3-merchant cart (2 items each) to another province, and checks once that
//!   pasar prices every parcel;
//! - `shipping-bare <addr> <database-url>`: the yardstick, a bare axum handler taking the same
//!   body and doing the reads a quote needs from the same database (each item's weight, each
//!   merchant's address), answering the parcels' weights: no edge, no rate tables.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{id, login, merchant_with_products, Api};

const MERCHANTS: usize = 3;
const PRODUCTS: usize = 2;

pub async fn seed(base: &str, email: &str, password: &str, out: &str) -> anyhow::Result<()> {
    let api = Api {
        client: reqwest::Client::new(),
        base: base.trim_end_matches('/').to_owned(),
    };
    let admin = login(&api, email, password).await?;
    let category = id(&api
        .post(
            "/api/v1/categories",
            json!({"slug": "shipping-bench", "name": {"en": "Shipping bench"}}),
            &admin,
        )
        .await?)?;
    let mut parcels = Vec::new();
    for m in 0..MERCHANTS {
        let shop = merchant_with_products(
            &api,
            &admin,
            m,
            std::slice::from_ref(&category),
            PRODUCTS,
            None,
        )
        .await?;
        let items: Vec<Value> = shop
            .products
            .iter()
            .enumerate()
            .map(|(n, p)| json!({"variantId": p.variant_id, "quantity": 1 + n}))
            .collect();
        parcels.push(json!({"merchantId": shop.merchant_id, "items": items}));
    }
    let body = json!({
        "currency": "USD",
        "destination": {"country": "KH", "province": "Kandal", "city": "Ta Khmau"},
        "parcels": parcels,
    });
    let quote = api
        .post("/api/v1/shipping/rates", body.clone(), &admin)
        .await?;
    let priced = quote["merchants"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter(|m| m["options"].as_array().is_some_and(|o| !o.is_empty()))
                .count()
        })
        .unwrap_or_default();
    if priced != MERCHANTS {
        bail!("the quote priced {priced} of {MERCHANTS} parcels: {quote}");
    }
    let lua = format!(
        "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = [[{body}]]\n"
    );
    std::fs::write(format!("{out}/rates.lua"), lua)?;
    println!(
        "3 merchants x {PRODUCTS} products; a quote has {} options",
        {
            quote["merchants"]
                .as_array()
                .map(|m| {
                    m.iter()
                        .map(|m| m["options"].as_array().map_or(0, Vec::len))
                        .sum::<usize>()
                })
                .unwrap_or_default()
        }
    );
    Ok(())
}

#[derive(Clone)]
enum Pool {
    Sqlite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    variant_id: Uuid,
    quantity: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Parcel {
    merchant_id: Uuid,
    items: Vec<Item>,
}

#[derive(Deserialize)]
struct Body {
    parcels: Vec<Parcel>,
}

const WEIGHT: &str = "SELECT p.weight_grams FROM catalog_variants v
    JOIN catalog_products p ON p.id = v.product_id WHERE v.id = $1";
const ADDRESS: &str = "SELECT address FROM merchants_merchants WHERE id = $1";

async fn rates(
    State(pool): State<Arc<Pool>>,
    Json(body): Json<Body>,
) -> Result<Json<Value>, StatusCode> {
    let fail = |_| StatusCode::INTERNAL_SERVER_ERROR;
    let mut merchants = Vec::with_capacity(body.parcels.len());
    for parcel in &body.parcels {
        let address: Option<String> = match pool.as_ref() {
            Pool::Sqlite(p) => {
                sqlx::query_scalar(ADDRESS)
                    .bind(parcel.merchant_id)
                    .fetch_optional(p)
                    .await
            }
            Pool::Pg(p) => {
                sqlx::query_scalar(ADDRESS)
                    .bind(parcel.merchant_id)
                    .fetch_optional(p)
                    .await
            }
        }
        .map_err(fail)?;
        let address: Value =
            serde_json::from_str(&address.ok_or(StatusCode::NOT_FOUND)?).unwrap_or(Value::Null);
        let mut grams = 0i64;
        for item in &parcel.items {
            let weight: Option<Option<i32>> = match pool.as_ref() {
                Pool::Sqlite(p) => {
                    sqlx::query_scalar(WEIGHT)
                        .bind(item.variant_id)
                        .fetch_optional(p)
                        .await
                }
                Pool::Pg(p) => {
                    sqlx::query_scalar(WEIGHT)
                        .bind(item.variant_id)
                        .fetch_optional(p)
                        .await
                }
            }
            .map_err(fail)?;
            grams += i64::from(weight.flatten().unwrap_or(1_000)) * item.quantity;
        }
        merchants.push(json!({"merchantId": parcel.merchant_id, "city": address["city"], "weightGrams": grams}));
    }
    Ok(Json(json!({"merchants": merchants})))
}

pub async fn bare(addr: &str, url: &str) -> anyhow::Result<()> {
    let pool = if url.starts_with("postgres") {
        Pool::Pg(
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(16)
                .connect(url)
                .await?,
        )
    } else {
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse().context("sqlite url")?;
        Pool::Sqlite(
            sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(
                    options
                        .read_only(true)
                        .busy_timeout(Duration::from_secs(10)),
                )
                .await?,
        )
    };
    crate::serve(
        addr,
        Router::new()
            .route("/rates", post(rates))
            .with_state(Arc::new(pool)),
    )
    .await
}
