//! The portal's entry: the shops the visitor works for (or the application to open one), and
//! a shop's dashboard.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::{Extension, Form};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{page, shop};
use crate::error::Page;
use crate::render::{done, see_other, Portal};
use crate::session::Visitor;
use crate::Web;

pub async fn choose(State(web): State<Web>, Extension(visitor): Extension<Visitor>) -> Page {
    visitor.signed_in()?;
    let mine = web.read(&visitor, "/api/v1/merchants/mine").await?;
    let shops = mine.as_array().cloned().unwrap_or_default();
    if let [only] = shops.as_slice() {
        if let Some(id) = only.get("merchantId").and_then(Value::as_str) {
            return Ok(see_other(&format!("/merchant/{id}")));
        }
    }
    web.views.page(
        &visitor,
        Portal::Merchant,
        "merchant/apply.html",
        json!({"shops": shops}),
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    business_name: String,
    legal_name: String,
    business_type: String,
    tax_id: String,
    contact_email: String,
    contact_phone: String,
    category: String,
    line1: String,
    city: String,
    country: String,
    latitude: f64,
    longitude: f64,
}

pub async fn apply(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Form(form): Form<Application>,
) -> Page {
    visitor.signed_in()?;
    let result = web
        .change(
            &visitor,
            Method::POST,
            "/api/v1/merchants",
            json!({
                "businessName": form.business_name.trim(), "legalName": form.legal_name.trim(),
                "businessType": form.business_type, "taxId": form.tax_id.trim(),
                "contactEmail": form.contact_email.trim(), "contactPhone": form.contact_phone.trim(),
                "category": form.category.trim(),
                "address": {"line1": form.line1.trim(), "city": form.city.trim(), "country": form.country.trim()},
                "location": {"latitude": form.latitude, "longitude": form.longitude},
            }),
        )
        .await;
    Ok(match result {
        Ok(_) => done(
            "/merchant",
            "ok",
            crate::i18n::text(visitor.locale.code(), "merchant.application_sent"),
        ),
        Err(err) => crate::render::outcome("/merchant", visitor.locale, "", Err(err)),
    })
}

pub async fn show(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(merchant): Path<Uuid>,
) -> Page {
    let shop = shop(&web, &visitor, merchant).await?;
    let manages = shop.role != "cashier";
    let balance = async {
        if manages {
            web.read(&visitor, format!("/api/v1/merchants/{merchant}/balance"))
                .await
                .ok()
        } else {
            None
        }
    };
    let to_fulfil = async {
        if manages {
            web.read(
                &visitor,
                format!("/api/v1/orders?merchantId={merchant}&status=PAID&limit=5"),
            )
            .await
            .ok()
        } else {
            None
        }
    };
    let redemptions = web.read(
        &visitor,
        format!("/api/v1/redemptions?merchantId={merchant}&limit=5"),
    );
    let (balance, to_fulfil, redemptions) = tokio::join!(balance, to_fulfil, redemptions);
    page(
        &web,
        &visitor,
        &shop,
        "merchant/dashboard.html",
        json!({
            "balance": balance,
            "to_fulfil": to_fulfil.and_then(|p| p.get("items").cloned()),
            "redemptions": redemptions.ok().and_then(|p| p.get("items").cloned()),
        }),
    )
}
