//! The shop's voucher offers: the list (drafts and hidden ones included) and the form that
//! creates the voucher product, its offer and its stock at once and sends it for review.

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::{Extension, Form};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::catalog::{localized, parse_price, stock, ListQuery};
use super::{page, shop};
use crate::error::Page;
use crate::i18n;
use crate::render::{done, outcome, t};
use crate::session::Visitor;
use crate::table::{query, text_of, Cell, Column, RowAction, Table};
use crate::Web;

fn offer_table() -> Table {
    Table {
        title: t("merchant.vouchers"),
        empty: t("merchant.vouchers_empty"),
        columns: vec![
            Column {
                label: t("col.title"),
                cell: Cell::Link("/title", |row| format!("/offers/{}", text_of(row, "/id"))),
            },
            Column {
                label: t("col.kind"),
                cell: Cell::Text("/kind"),
            },
            Column {
                label: t("col.price"),
                cell: Cell::Money("/price", "/currency"),
            },
            Column {
                label: t("col.face_value"),
                cell: Cell::Money("/faceValue", "/currency"),
            },
            Column {
                label: t("col.issued"),
                cell: Cell::Text("/issued"),
            },
            Column {
                label: t("col.status"),
                cell: Cell::Status("/productStatus"),
            },
        ],
        actions: vec![RowAction {
            label: t("merchant.submit_review"),
            target: |row| {
                format!(
                    "/merchant/{}/products/{}/submit",
                    text_of(row, "/merchantId"),
                    text_of(row, "/productId")
                )
            },
            input: None,
            applies: |row| {
                matches!(
                    text_of(row, "/productStatus").as_str(),
                    "DRAFT" | "REJECTED"
                )
            },
            danger: false,
        }],
    }
}

pub async fn offers(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(merchant): Path<Uuid>,
    Query(list): Query<ListQuery>,
) -> Page {
    let shop = shop(&web, &visitor, merchant).await?;
    let merchant_id = merchant.to_string();
    let pairs = [
        ("merchantId", Some(merchant_id.as_str())),
        ("includeHidden", Some("true")),
        ("cursor", list.cursor.as_deref()),
    ];
    let found = web
        .read(&visitor, format!("/api/v1/vouchers{}", query(&pairs)))
        .await?;
    let base = format!("/merchant/{merchant}/vouchers");
    let mut drawn = offer_table().draw(visitor.locale, &found, vec![], |cursor| {
        format!("{base}{}", query(&[("cursor", Some(cursor))]))
    });
    drawn["create"] = json!({"href": format!("{base}/new"), "label": t("merchant.new_voucher")});
    page(&web, &visitor, &shop, "list.html", drawn)
}

pub async fn new_offer(
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
        "merchant/voucher_form.html",
        json!({"categories": categories}),
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferForm {
    title: String,
    title_km: Option<String>,
    description: Option<String>,
    terms: Option<String>,
    category_id: Uuid,
    kind: String,
    price: String,
    face_value: String,
    currency: String,
    valid_days: i64,
    stock: i64,
}

pub async fn create_offer(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(merchant): Path<Uuid>,
    Form(form): Form<OfferForm>,
) -> Page {
    let shop = shop(&web, &visitor, merchant).await?;
    let back = format!("/merchant/{merchant}/vouchers/new");
    let prices = parse_price(&form.price, &form.currency)
        .and_then(|price| Ok((price, parse_price(&form.face_value, &form.currency)?)));
    let (price, face_value) = match prices {
        Ok(prices) => prices,
        Err(err) => return Ok(outcome(&back, visitor.locale, "", Err(err))),
    };
    let sku = format!(
        "V-{}",
        Uuid::new_v4().simple().to_string()[..10].to_uppercase()
    );
    let product = web
        .change(
            &visitor,
            Method::POST,
            "/api/v1/products",
            json!({
                "merchantId": merchant, "name": localized(&form.title, form.title_km.as_deref()),
                "categoryId": form.category_id, "type": "VOUCHER",
                "variants": [{"sku": sku, "price": price, "currency": form.currency}],
            }),
        )
        .await;
    let product = match product {
        Ok(product) => product,
        Err(err) => return Ok(outcome(&back, visitor.locale, "", Err(err))),
    };
    let mut offer = json!({
        "variantId": text_of(&product, "/variants/0/id"), "kind": form.kind,
        "faceValue": face_value, "validDays": form.valid_days, "claimable": price == 0,
    });
    if price == 0 {
        // A free voucher is claimed, not bought: claims are held by the offer's caps, not by
        // inventory, so its stock becomes the cap and a customer claims one.
        offer["totalCap"] = json!(form.stock.max(0));
        offer["perCustomerCap"] = json!(1);
    }
    for (field, text) in [("description", &form.description), ("terms", &form.terms)] {
        if let Some(text) = text.as_deref().filter(|t| !t.trim().is_empty()) {
            offer[field] = localized(text, None);
        }
    }
    let steps = async {
        web.change(&visitor, Method::POST, "/api/v1/vouchers", offer)
            .await?;
        web.change(
            &visitor,
            Method::PATCH,
            &format!("/api/v1/products/{}/status", text_of(&product, "/id")),
            json!({"status": "PENDING_REVIEW"}),
        )
        .await
    };
    if let Err(err) = steps.await {
        // The product stays a draft the merchant can finish from the products page.
        return Ok(outcome(&back, visitor.locale, "", Err(err)));
    }
    let stocked = stock(&web, &visitor, &shop, &sku, form.stock).await;
    let key = if stocked {
        "merchant.voucher_created"
    } else {
        "merchant.stock_later"
    };
    Ok(done(
        &format!("/merchant/{merchant}/vouchers"),
        "ok",
        i18n::text(visitor.locale.code(), key),
    ))
}
