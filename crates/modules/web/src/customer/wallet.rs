//! The wallet: vouchers bought, claimed or received; one voucher's page with its QR code (it
//! rotates: the page fetches a new one every 30 s, so a screenshot goes stale) and the printed
//! code with its PIN for typing at the counter; gifting.

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::{Extension, Form};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use qrcode::render::svg;
use qrcode::QrCode;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::{Page, WebError};
use crate::render::{outcome, Portal};
use crate::session::Visitor;
use crate::table::query;
use crate::Web;

#[derive(Debug, Default, Deserialize)]
pub struct WalletFilter {
    status: Option<String>,
    cursor: Option<String>,
}

pub async fn list(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Query(filter): Query<WalletFilter>,
) -> Page {
    visitor.signed_in()?;
    let status = filter.status.as_deref().filter(|s| {
        matches!(
            *s,
            "ACTIVE" | "PARTIALLY_REDEEMED" | "REDEEMED" | "EXPIRED" | "REFUNDED" | "TRANSFERRED"
        )
    });
    let pairs = [("status", status), ("cursor", filter.cursor.as_deref())];
    let (wallet, gifts) = tokio::join!(
        web.read(&visitor, format!("/api/v1/wallet{}", query(&pairs))),
        web.read(&visitor, "/api/v1/wallet/gifts"),
    );
    let wallet = wallet?;
    let next = wallet
        .get("nextCursor")
        .and_then(Value::as_str)
        .map(|cursor| {
            format!(
                "/wallet{}",
                query(&[("status", status), ("cursor", Some(cursor))])
            )
        });
    web.views.page(
        &visitor,
        Portal::Customer,
        "customer/wallet.html",
        json!({
            "items": wallet.get("items").cloned().unwrap_or_else(|| json!([])),
            "gifts": gifts.ok().filter(Value::is_array).unwrap_or_else(|| json!([])),
            "status": status,
            "next": next,
        }),
    )
}

pub async fn show(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<Uuid>,
) -> Page {
    visitor.signed_in()?;
    let view = voucher_view(&web, &visitor, id).await?;
    web.views
        .page(&visitor, Portal::Customer, "customer/voucher.html", view)
}

/// The QR fragment the voucher page swaps in every 30 s.
pub async fn qr(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<Uuid>,
) -> Page {
    visitor.signed_in()?;
    let view = voucher_view(&web, &visitor, id).await?;
    web.views
        .fragment(&visitor, "customer/voucher_qr.html", view)
}

/// The voucher, whether it can still be used, and then its current QR code.
async fn voucher_view(web: &Web, visitor: &Visitor, id: Uuid) -> Result<Value, WebError> {
    let voucher = web.read(visitor, format!("/api/v1/wallet/{id}")).await?;
    let usable = matches!(
        voucher.get("status").and_then(Value::as_str),
        Some("ACTIVE" | "PARTIALLY_REDEEMED")
    );
    let qr = if usable {
        Some(qr_image(web, visitor, id).await?)
    } else {
        None
    };
    Ok(json!({"voucher": voucher, "qr": qr, "usable": usable}))
}

/// The current on-screen token drawn as an SVG image (a data URL: no markup of it in the page).
async fn qr_image(web: &Web, visitor: &Visitor, id: Uuid) -> Result<Value, WebError> {
    let token = web
        .read(
            visitor,
            format!("/api/v1/wallet/{id}/qr?format=token&variant=screen"),
        )
        .await?;
    let text = token
        .get("token")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let code = QrCode::new(text.as_bytes()).map_err(|e| WebError::Template(e.to_string()))?;
    let svg = code
        .render::<svg::Color>()
        .min_dimensions(280, 280)
        .quiet_zone(true)
        .build();
    Ok(json!({
        "src": format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg)),
        "refreshAt": token.get("refreshAt"),
    }))
}

#[derive(Debug, Deserialize)]
pub struct GiftForm {
    email: String,
    message: Option<String>,
}

pub async fn gift(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<Uuid>,
    Form(form): Form<GiftForm>,
) -> Page {
    visitor.signed_in()?;
    let message = form
        .message
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty());
    let result = web
        .change(
            &visitor,
            Method::POST,
            &format!("/api/v1/wallet/{id}/gift"),
            json!({"email": form.email.trim(), "message": message}),
        )
        .await;
    Ok(outcome(
        &format!("/wallet/{id}"),
        visitor.locale,
        "wallet.gift_sent",
        result,
    ))
}

#[derive(Debug, Deserialize)]
pub struct AcceptForm {
    token: String,
}

pub async fn accept_gift(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Form(form): Form<AcceptForm>,
) -> Page {
    visitor.signed_in()?;
    let result = web
        .change(
            &visitor,
            Method::POST,
            "/api/v1/wallet/gifts/accept",
            json!({"token": form.token.trim()}),
        )
        .await;
    Ok(outcome(
        "/wallet",
        visitor.locale,
        "wallet.gift_accepted",
        result,
    ))
}
