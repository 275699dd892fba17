//! The shop's products with their variants and stock. A new product is created, sent for
//! review (an admin approves it before it is listed) and stocked in one form; the helpers here
//! (prices, localized text, stock) serve the voucher forms too.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::{Extension, Form};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{page, shop, Shop};
use crate::error::{Page, WebError};
use crate::i18n;
use crate::render::{done, outcome, t};
use crate::session::Visitor;
use crate::table::{text_of, ByState, Cell, Column, RowAction, Table};
use crate::Web;

/// Product states a merchant filters on.
const PRODUCT_STATES: [(&str, &str); 5] = [
    ("", t("filter.all")),
    ("DRAFT", t("status.draft")),
    ("PENDING_REVIEW", t("status.pending_review")),
    ("ACTIVE", t("status.active")),
    ("REJECTED", t("status.rejected")),
];

fn product_table() -> Table {
    Table {
        title: t("merchant.products"),
        empty: t("merchant.products_empty"),
        columns: vec![
            Column {
                label: t("col.name"),
                cell: Cell::Link("/name", |row| {
                    format!(
                        "/merchant/{}/products/{}",
                        text_of(row, "/merchantId"),
                        text_of(row, "/id")
                    )
                }),
            },
            Column {
                label: t("col.type"),
                cell: Cell::Text("/type"),
            },
            Column {
                label: t("col.status"),
                cell: Cell::Status("/status"),
            },
            Column {
                label: t("col.price"),
                cell: Cell::Money("/price/min", "/price/currency"),
            },
        ],
        actions: vec![RowAction {
            label: t("merchant.submit_review"),
            target: |row| {
                format!(
                    "/merchant/{}/products/{}/submit",
                    text_of(row, "/merchantId"),
                    text_of(row, "/id")
                )
            },
            input: None,
            applies: |row| matches!(text_of(row, "/status").as_str(), "DRAFT" | "REJECTED"),
            danger: false,
        }],
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub(super) status: Option<String>,
    pub(super) cursor: Option<String>,
}

pub async fn products(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(merchant): Path<Uuid>,
    Query(list): Query<ListQuery>,
) -> Page {
    let shop = shop(&web, &visitor, merchant).await?;
    let base = format!("/merchant/{merchant}/products");
    let mut drawn = ByState {
        api: "/api/v1/products".into(),
        api_params: vec![("merchantId", merchant.to_string())],
        page: base.clone(),
        states: &PRODUCT_STATES,
        default: None,
    }
    .draw(
        &web,
        &visitor,
        &product_table(),
        list.status.as_deref(),
        list.cursor.as_deref(),
    )
    .await?;
    drawn["create"] = json!({"href": format!("{base}/new"), "label": t("merchant.new_product")});
    page(&web, &visitor, &shop, "list.html", drawn)
}

pub async fn new_product(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(merchant): Path<Uuid>,
) -> Page {
    let shop = shop(&web, &visitor, merchant).await?;
    let categories = web.read(&visitor, "/api/v1/categories").await?;
    page(
        &web,
        &visitor,
        &shop,
        "merchant/product_form.html",
        json!({"categories": categories}),
    )
}

/// Minor units of a price typed as `12.50` (USD) or `5000` (KHR, IDR).
pub(super) fn parse_price(text: &str, currency: &str) -> Result<i64, WebError> {
    let decimals: u32 = if currency == "USD" { 2 } else { 0 };
    let bad = || WebError::BadForm(format!("price {text:?}"));
    let text = text.trim().replace(',', "");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if fraction.len() > decimals as usize || whole.is_empty() {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let fraction_value: i64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<width$}", width = decimals as usize)
            .parse()
            .map_err(|_| bad())?
    };
    whole
        .checked_mul(10i64.pow(decimals))
        .and_then(|w| w.checked_add(fraction_value))
        .filter(|p| *p >= 0)
        .ok_or_else(bad)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductForm {
    name: String,
    name_km: Option<String>,
    description: Option<String>,
    category_id: Uuid,
    sku: String,
    price: String,
    currency: String,
    stock: Option<i64>,
}

pub(super) fn localized(en: &str, km: Option<&str>) -> Value {
    let mut text = json!({"en": en.trim()});
    if let Some(km) = km.map(str::trim).filter(|k| !k.is_empty()) {
        text["km"] = json!(km);
    }
    text
}

pub async fn create_product(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(merchant): Path<Uuid>,
    Form(form): Form<ProductForm>,
) -> Page {
    let shop = shop(&web, &visitor, merchant).await?;
    let back = format!("/merchant/{merchant}/products/new");
    let price = match parse_price(&form.price, &form.currency) {
        Ok(price) => price,
        Err(err) => return Ok(outcome(&back, visitor.locale, "", Err(err))),
    };
    let mut body = json!({
        "merchantId": merchant, "name": localized(&form.name, form.name_km.as_deref()),
        "categoryId": form.category_id, "type": "PHYSICAL",
        "variants": [{"sku": form.sku.trim(), "price": price, "currency": form.currency}],
    });
    if let Some(description) = form.description.as_deref().filter(|d| !d.trim().is_empty()) {
        body["description"] = localized(description, None);
    }
    let product = match web
        .change(&visitor, Method::POST, "/api/v1/products", body)
        .await
    {
        Ok(product) => product,
        Err(err) => return Ok(outcome(&back, visitor.locale, "", Err(err))),
    };
    let id = text_of(&product, "/id");
    let stocked = stock(
        &web,
        &visitor,
        &shop,
        form.sku.trim(),
        form.stock.unwrap_or(0),
    )
    .await;
    let key = if stocked {
        "merchant.product_created"
    } else {
        "merchant.stock_later"
    };
    Ok(done(
        &format!("/merchant/{merchant}/products/{id}"),
        "ok",
        i18n::text(visitor.locale.code(), key),
    ))
}

/// Sets the SKU's stock, waiting briefly for inventory to hear of a new variant (it learns of
/// it from catalogue's event). False when it could not be set yet.
pub(super) async fn stock(
    web: &Web,
    visitor: &Visitor,
    shop: &Shop,
    sku: &str,
    on_hand: i64,
) -> bool {
    if on_hand <= 0 {
        return true;
    }
    let body = json!({"merchantId": shop.id, "onHand": on_hand, "reason": "stock from the merchant portal"});
    let path = format!("/api/v1/inventory/{}", urlencode(sku));
    for _ in 0..25 {
        match web.change(visitor, Method::PUT, &path, body.clone()).await {
            Ok(_) => return true,
            Err(WebError::Api { status: 404, .. }) => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Err(_) => return false,
        }
    }
    false
}

fn urlencode(segment: &str) -> String {
    serde_urlencoded::to_string([("", segment)])
        .unwrap_or_default()
        .trim_start_matches('=')
        .replace('+', "%20")
}

pub async fn product(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path((merchant, product)): Path<(Uuid, Uuid)>,
) -> Page {
    let shop = shop(&web, &visitor, merchant).await?;
    let product = web
        .read(&visitor, format!("/api/v1/products/{product}"))
        .await?;
    if text_of(&product, "/merchantId") != merchant.to_string() {
        return Err(WebError::NotFound);
    }
    let variants = product
        .get("variants")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut stocked = Vec::new();
    for variant in variants {
        let sku = text_of(&variant, "/sku");
        // The shop named: staff of several shops are asked which one.
        let level = web
            .read(
                &visitor,
                format!(
                    "/api/v1/inventory/{}?merchantId={merchant}",
                    urlencode(&sku)
                ),
            )
            .await
            .unwrap_or(Value::Null);
        stocked.push(json!({"variant": variant, "stock": level}));
    }
    page(
        &web,
        &visitor,
        &shop,
        "merchant/product_form.html",
        json!({"product": product, "variants": stocked, "categories": []}),
    )
}

pub async fn submit(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path((merchant, product)): Path<(Uuid, Uuid)>,
) -> Page {
    shop(&web, &visitor, merchant).await?;
    let result = web
        .change(
            &visitor,
            Method::PATCH,
            &format!("/api/v1/products/{product}/status"),
            json!({"status": "PENDING_REVIEW"}),
        )
        .await;
    Ok(outcome(
        &format!("/merchant/{merchant}/products/{product}"),
        visitor.locale,
        "merchant.submitted",
        result,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantForm {
    sku: String,
    /// What tells it apart, e.g. `L` or `Blue`: the variant's `option`.
    option: Option<String>,
    price: String,
    currency: String,
    stock: Option<i64>,
}

pub async fn add_variant(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path((merchant, product)): Path<(Uuid, Uuid)>,
    Form(form): Form<VariantForm>,
) -> Page {
    let shop = shop(&web, &visitor, merchant).await?;
    let back = format!("/merchant/{merchant}/products/{product}");
    let price = match parse_price(&form.price, &form.currency) {
        Ok(price) => price,
        Err(err) => return Ok(outcome(&back, visitor.locale, "", Err(err))),
    };
    let mut variant = json!({"sku": form.sku.trim(), "price": price, "currency": form.currency});
    if let Some(option) = form
        .option
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty())
    {
        variant["options"] = json!({"option": option});
    }
    let result = web
        .change(
            &visitor,
            Method::POST,
            &format!("/api/v1/products/{product}/variants"),
            json!([variant]),
        )
        .await;
    if result.is_ok() {
        let stocked = stock(
            &web,
            &visitor,
            &shop,
            form.sku.trim(),
            form.stock.unwrap_or(0),
        )
        .await;
        let key = if stocked {
            "merchant.variant_added"
        } else {
            "merchant.stock_later"
        };
        return Ok(done(&back, "ok", i18n::text(visitor.locale.code(), key)));
    }
    Ok(outcome(&back, visitor.locale, "", result))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockForm {
    sku: String,
    on_hand: i64,
    back: Option<String>,
}

pub async fn set_stock(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(merchant): Path<Uuid>,
    Form(form): Form<StockForm>,
) -> Page {
    shop(&web, &visitor, merchant).await?;
    let result = web
        .change(
            &visitor,
            Method::PUT,
            &format!("/api/v1/inventory/{}", urlencode(form.sku.trim())),
            json!({"merchantId": merchant, "onHand": form.on_hand, "reason": "set in the merchant portal"}),
        )
        .await;
    let fallback = format!("/merchant/{merchant}/products");
    let back = crate::render::local_path(form.back.as_deref(), &fallback).to_owned();
    Ok(outcome(&back, visitor.locale, "merchant.stock_set", result))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_read_in_minor_units() {
        assert_eq!(parse_price("12.50", "USD").ok(), Some(1250));
        assert_eq!(parse_price("12.5", "USD").ok(), Some(1250));
        assert_eq!(parse_price("1,000", "KHR").ok(), Some(1000));
        assert_eq!(parse_price("7", "USD").ok(), Some(700));
        assert!(parse_price("1.234", "USD").is_err());
        assert!(parse_price("1.5", "KHR").is_err());
        assert!(parse_price("-3", "USD").is_err());
        assert!(parse_price("abc", "USD").is_err());
        assert!(parse_price("", "USD").is_err());
    }
}
