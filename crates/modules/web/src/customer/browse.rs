//! Browsing: the front page, products (search with facets when there is a query), voucher
//! offers, and their pages. Open to visitors who are not signed in.

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::Extension;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::Page;
use crate::render::{outcome, Portal};
use crate::session::Visitor;
use crate::table::query;
use crate::Web;

pub async fn home(State(web): State<Web>, Extension(visitor): Extension<Visitor>) -> Page {
    let (offers, products, categories) = tokio::join!(
        web.read(&visitor, "/api/v1/vouchers?limit=8&sort=newest"),
        web.read(&visitor, "/api/v1/products?limit=8&type=PHYSICAL"),
        web.read(&visitor, "/api/v1/categories"),
    );
    web.views.page(
        &visitor,
        Portal::Customer,
        "customer/home.html",
        json!({
            "offers": items(offers?),
            "products": items(products?),
            "categories": top_categories(categories.unwrap_or(Value::Null)),
        }),
    )
}

fn items(page: Value) -> Value {
    page.get("items").cloned().unwrap_or_else(|| json!([]))
}

fn top_categories(categories: Value) -> Value {
    let list = categories
        .get("items")
        .cloned()
        .unwrap_or(categories)
        .as_array()
        .cloned()
        .unwrap_or_default();
    Value::Array(list.into_iter().take(12).collect())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductFilter {
    q: Option<String>,
    category_id: Option<Uuid>,
    sort: Option<String>,
    min_price: Option<i64>,
    max_price: Option<i64>,
    cursor: Option<String>,
}

pub async fn products(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Query(filter): Query<ProductFilter>,
) -> Page {
    let category = filter.category_id.map(|c| c.to_string());
    let min = filter.min_price.map(|p| p.to_string());
    let max = filter.max_price.map(|p| p.to_string());
    let q = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let common = [
        ("categoryId", category.as_deref()),
        ("minPrice", min.as_deref()),
        ("maxPrice", max.as_deref()),
        ("cursor", filter.cursor.as_deref()),
    ];
    // A query goes to search (typos forgiven, facets); without one, the catalogue's list.
    let (path, searched) = match q {
        Some(q) => {
            let mut pairs = vec![
                ("q", Some(q)),
                ("facets", Some("true")),
                ("sort", filter.sort.as_deref()),
            ];
            pairs.extend(common);
            (format!("/api/v1/search{}", query(&pairs)), true)
        }
        None => {
            let sort = filter
                .sort
                .as_deref()
                .filter(|s| matches!(*s, "newest" | "price_asc" | "price_desc"));
            let mut pairs = vec![("sort", sort)];
            pairs.extend(common);
            (format!("/api/v1/products{}", query(&pairs)), false)
        }
    };
    let (results, categories) = tokio::join!(
        web.read(&visitor, &path),
        web.read(&visitor, "/api/v1/categories"),
    );
    let results = results?;
    let next = results
        .get("nextCursor")
        .and_then(Value::as_str)
        .map(|cursor| {
            format!(
                "/products{}",
                query(&[
                    ("q", q),
                    ("categoryId", category.as_deref()),
                    ("sort", filter.sort.as_deref()),
                    ("cursor", Some(cursor)),
                ])
            )
        });
    web.views.page(
        &visitor,
        Portal::Customer,
        "customer/products.html",
        json!({
            "q": q.unwrap_or_default(),
            "searched": searched,
            "category_id": category,
            "sort": filter.sort,
            "items": items(results.clone()),
            "total": results.get("total"),
            "facets": results.get("facets"),
            "categories": top_categories(categories.unwrap_or(Value::Null)),
            "next": next,
        }),
    )
}

pub async fn product(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<Uuid>,
) -> Page {
    let (product, reviews, media) = tokio::join!(
        web.read(&visitor, format!("/api/v1/products/{id}")),
        web.read(&visitor, format!("/api/v1/products/{id}/reviews?limit=5")),
        web.read(&visitor, format!("/api/v1/products/{id}/media")),
    );
    web.views.page(
        &visitor,
        Portal::Customer,
        "customer/product.html",
        json!({
            "product": product?,
            "reviews": reviews.unwrap_or(Value::Null),
            "gallery": gallery(media.unwrap_or(Value::Null)),
        }),
    )
}

/// The product's gallery images in order, each with the thumbnail a phone needs (media's
/// public, cached routes on this site) and the original for a larger screen.
fn gallery(media: Value) -> Value {
    let items = media
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let images: Vec<Value> = items
        .iter()
        .filter(|item| item.get("slot").and_then(Value::as_str) == Some("GALLERY"))
        .filter_map(|item| {
            let media = item.get("media")?;
            let id = media.get("id")?.as_str()?;
            // The largest thumbnail that fits a phone's column, else the original.
            let size = media
                .get("thumbnailSizes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_u64)
                .filter(|s| *s <= 800)
                .max();
            let src = match size {
                Some(size) => format!("/api/v1/media/{id}/thumbnail?size={size}"),
                None => format!("/api/v1/media/{id}"),
            };
            Some(json!({"src": src, "full": format!("/api/v1/media/{id}")}))
        })
        .collect();
    Value::Array(images)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferFilter {
    kind: Option<String>,
    category_id: Option<Uuid>,
    sort: Option<String>,
    claimable: Option<bool>,
    cursor: Option<String>,
}

pub async fn offers(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Query(filter): Query<OfferFilter>,
) -> Page {
    let category = filter.category_id.map(|c| c.to_string());
    let kind = filter
        .kind
        .as_deref()
        .filter(|k| matches!(*k, "GIFT_CARD" | "DISCOUNT" | "ITEM"));
    let claimable = filter.claimable.map(|c| c.to_string());
    let pairs = [
        ("kind", kind),
        ("categoryId", category.as_deref()),
        ("sort", filter.sort.as_deref()),
        ("claimable", claimable.as_deref()),
        ("cursor", filter.cursor.as_deref()),
    ];
    let page = web
        .read(&visitor, format!("/api/v1/vouchers{}", query(&pairs)))
        .await?;
    let next = page
        .get("nextCursor")
        .and_then(Value::as_str)
        .map(|cursor| {
            let mut pairs = pairs;
            pairs[4] = ("cursor", Some(cursor));
            format!("/offers{}", query(&pairs))
        });
    web.views.page(
        &visitor,
        Portal::Customer,
        "customer/offers.html",
        json!({"items": items(page), "kind": kind, "sort": filter.sort, "next": next}),
    )
}

pub async fn offer(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<Uuid>,
) -> Page {
    let (offer, reviews) = tokio::join!(
        web.read(&visitor, format!("/api/v1/vouchers/{id}")),
        web.read(&visitor, format!("/api/v1/vouchers/{id}/reviews?limit=5")),
    );
    web.views.page(
        &visitor,
        Portal::Customer,
        "customer/offer.html",
        json!({"offer": offer?, "reviews": reviews.unwrap_or(Value::Null)}),
    )
}

pub async fn claim(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<Uuid>,
) -> Page {
    visitor.signed_in()?;
    let result = web
        .change(
            &visitor,
            Method::POST,
            &format!("/api/v1/vouchers/{id}/claim"),
            json!({}),
        )
        .await;
    let target = if result.is_ok() {
        "/wallet".to_owned()
    } else {
        format!("/offers/{id}")
    };
    Ok(outcome(&target, visitor.locale, "offer.claimed", result))
}
