//! The account: who is signed in, and the addresses orders are shipped to.

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
    let (me, addresses) = tokio::join!(
        web.read(&visitor, "/api/v1/users/me"),
        web.read(&visitor, "/api/v1/users/me/addresses"),
    );
    web.views.page(
        &visitor,
        Portal::Customer,
        "customer/account.html",
        json!({"me": me?, "addresses": addresses?}),
    )
}

#[derive(Debug, Deserialize)]
pub struct AddressForm {
    recipient: String,
    phone: String,
    street: String,
    city: String,
    province: Option<String>,
    postal_code: Option<String>,
    country: String,
}

pub async fn add_address(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Form(form): Form<AddressForm>,
) -> Page {
    visitor.signed_in()?;
    let optional = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let result = web
        .change(
            &visitor,
            Method::POST,
            "/api/v1/users/me/addresses",
            json!({
                "recipient": form.recipient.trim(), "phone": form.phone.trim(),
                "street": form.street.trim(), "city": form.city.trim(),
                "province": optional(&form.province), "postalCode": optional(&form.postal_code),
                "country": form.country.trim(),
            }),
        )
        .await;
    Ok(outcome(
        "/account",
        visitor.locale,
        "account.address_added",
        result,
    ))
}

pub async fn remove_address(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<Uuid>,
) -> Page {
    visitor.signed_in()?;
    let result = web
        .change(
            &visitor,
            Method::DELETE,
            &format!("/api/v1/users/me/addresses/{id}"),
            json!({}),
        )
        .await;
    Ok(outcome(
        "/account",
        visitor.locale,
        "account.address_removed",
        result,
    ))
}
