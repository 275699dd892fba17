//! The shop's people and places: members and invitations, outlets.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::{Extension, Form};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{page, shop};
use crate::error::Page;
use crate::render::outcome;
use crate::session::Visitor;
use crate::Web;

pub async fn staff(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(merchant): Path<Uuid>,
) -> Page {
    let shop = shop(&web, &visitor, merchant).await?;
    let (members, invitations) = tokio::join!(
        web.read(&visitor, format!("/api/v1/merchants/{merchant}/members")),
        web.read(
            &visitor,
            format!("/api/v1/merchants/{merchant}/invitations")
        ),
    );
    page(
        &web,
        &visitor,
        &shop,
        "merchant/team.html",
        json!({"members": members?, "invitations": invitations?}),
    )
}

#[derive(Debug, Deserialize)]
pub struct InviteForm {
    email: String,
    role: String,
}

pub async fn invite(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(merchant): Path<Uuid>,
    Form(form): Form<InviteForm>,
) -> Page {
    shop(&web, &visitor, merchant).await?;
    let result = web
        .change(
            &visitor,
            Method::POST,
            &format!("/api/v1/merchants/{merchant}/invitations"),
            json!({"email": form.email.trim(), "role": form.role}),
        )
        .await;
    Ok(outcome(
        &format!("/merchant/{merchant}/staff"),
        visitor.locale,
        "team.invited",
        result,
    ))
}

pub async fn remove_member(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path((merchant, user)): Path<(Uuid, Uuid)>,
) -> Page {
    shop(&web, &visitor, merchant).await?;
    let result = web
        .change(
            &visitor,
            Method::DELETE,
            &format!("/api/v1/merchants/{merchant}/members/{user}"),
            json!({}),
        )
        .await;
    Ok(outcome(
        &format!("/merchant/{merchant}/staff"),
        visitor.locale,
        "team.removed",
        result,
    ))
}

pub async fn revoke(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path((merchant, invitation)): Path<(Uuid, Uuid)>,
) -> Page {
    shop(&web, &visitor, merchant).await?;
    let result = web
        .change(
            &visitor,
            Method::DELETE,
            &format!("/api/v1/merchants/{merchant}/invitations/{invitation}"),
            json!({}),
        )
        .await;
    Ok(outcome(
        &format!("/merchant/{merchant}/staff"),
        visitor.locale,
        "team.revoked",
        result,
    ))
}

pub async fn outlets(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(merchant): Path<Uuid>,
) -> Page {
    let shop = shop(&web, &visitor, merchant).await?;
    let outlets = web
        .read(&visitor, format!("/api/v1/merchants/{merchant}/outlets"))
        .await?;
    page(
        &web,
        &visitor,
        &shop,
        "merchant/outlets.html",
        json!({"outlets": outlets}),
    )
}

#[derive(Debug, Deserialize)]
pub struct OutletForm {
    name: String,
    line1: String,
    city: String,
    country: String,
    latitude: f64,
    longitude: f64,
    phone: Option<String>,
}

pub async fn add_outlet(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(merchant): Path<Uuid>,
    Form(form): Form<OutletForm>,
) -> Page {
    shop(&web, &visitor, merchant).await?;
    let phone = form
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let result = web
        .change(
            &visitor,
            Method::POST,
            &format!("/api/v1/merchants/{merchant}/outlets"),
            json!({
                "name": form.name.trim(),
                "address": {"line1": form.line1.trim(), "city": form.city.trim(), "country": form.country.trim()},
                "location": {"latitude": form.latitude, "longitude": form.longitude},
                "phone": phone,
            }),
        )
        .await;
    Ok(outcome(
        &format!("/merchant/{merchant}/outlets"),
        visitor.locale,
        "outlet.added",
        result,
    ))
}
