//! The cart of the signed-in customer (the API's cart, priced by the catalogue).

use axum::extract::{Path, State};
use axum::http::Method;
use axum::{Extension, Form};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::error::Page;
use crate::render::{outcome, Portal};
use crate::session::Visitor;
use crate::Web;

pub async fn show(State(web): State<Web>, Extension(visitor): Extension<Visitor>) -> Page {
    visitor.signed_in()?;
    let cart = web.read(&visitor, "/api/v1/cart").await?;
    web.views.page(
        &visitor,
        Portal::Customer,
        "customer/cart.html",
        json!({"cart": cart}),
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddForm {
    variant_id: Uuid,
    quantity: Option<i64>,
}

pub async fn add(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Form(form): Form<AddForm>,
) -> Page {
    visitor.signed_in()?;
    let result = web
        .change(
            &visitor,
            Method::POST,
            "/api/v1/cart/items",
            json!({"variantId": form.variant_id, "quantity": form.quantity.unwrap_or(1)}),
        )
        .await;
    Ok(outcome("/cart", visitor.locale, "cart.added", result))
}

#[derive(Debug, Deserialize)]
pub struct QuantityForm {
    quantity: i64,
}

pub async fn update(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<Uuid>,
    Form(form): Form<QuantityForm>,
) -> Page {
    visitor.signed_in()?;
    let result = web
        .change(
            &visitor,
            Method::PUT,
            &format!("/api/v1/cart/items/{id}"),
            json!({"quantity": form.quantity}),
        )
        .await;
    Ok(outcome("/cart", visitor.locale, "cart.updated", result))
}

pub async fn remove(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<Uuid>,
) -> Page {
    visitor.signed_in()?;
    let result = web
        .change(
            &visitor,
            Method::DELETE,
            &format!("/api/v1/cart/items/{id}"),
            json!({}),
        )
        .await;
    Ok(outcome("/cart", visitor.locale, "cart.updated", result))
}
