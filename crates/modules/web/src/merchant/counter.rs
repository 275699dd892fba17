//! The counter: a cashier redeems a customer's voucher by scanning its QR code with the
//! device's camera (`/static/scanner.js` fills the form) or by typing the code and PIN. The
//! answer shows the outcome and the fraud band (score and the rules that fired); a redemption
//! held for review says so.

use axum::extract::{Path, State};
use axum::{Extension, Form};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{page, shop};
use crate::error::{Page, WebError};
use crate::session::Visitor;
use crate::Web;

pub async fn show(
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
        "merchant/counter.html",
        json!({"outlets": outlets, "key": Uuid::new_v4()}),
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedeemForm {
    outlet_id: Uuid,
    device_id: String,
    key: Uuid,
    token: Option<String>,
    code: Option<String>,
    pin: Option<String>,
    amount: Option<String>,
    latitude: Option<String>,
    longitude: Option<String>,
}

fn present(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The fraud band of a score: how the cashier should read the outcome.
fn band(score: i64) -> &'static str {
    match score {
        s if s >= 70 => "high",
        s if s >= 40 => "medium",
        _ => "low",
    }
}

pub async fn redeem(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(merchant): Path<Uuid>,
    Form(form): Form<RedeemForm>,
) -> Page {
    let shop = shop(&web, &visitor, merchant).await?;
    let mut body = json!({"outletId": form.outlet_id, "deviceId": form.device_id.trim()});
    match present(&form.token) {
        Some(token) => body["token"] = json!(token),
        None => body["code"] = json!(present(&form.code).unwrap_or_default().to_uppercase()),
    }
    if let Some(pin) = present(&form.pin) {
        body["pin"] = json!(pin);
    }
    if let Some(amount) = present(&form.amount) {
        let minor = amount
            .parse::<i64>()
            .ok()
            .filter(|a| *a > 0)
            .ok_or_else(|| WebError::BadForm(format!("amount {amount:?}: whole minor units")))?;
        body["amount"] = json!(minor);
    }
    let location = present(&form.latitude)
        .zip(present(&form.longitude))
        .and_then(|(lat, lng)| Some((lat.parse::<f64>().ok()?, lng.parse::<f64>().ok()?)));
    if let Some((latitude, longitude)) = location {
        body["location"] = json!({"latitude": latitude, "longitude": longitude});
    }
    // The key of the drawn form: a double tap redeems once and shows the same answer.
    let answer = web
        .backend
        .send_once(
            &visitor.caller(),
            "/api/v1/redemptions",
            &body,
            &format!("web-redeem-{}", form.key),
        )
        .await?;
    let redemption = if answer.ok() {
        answer.body.clone()
    } else {
        Value::Null
    };
    let score = redemption.get("score").and_then(Value::as_i64).unwrap_or(0);
    page(
        &web,
        &visitor,
        &shop,
        "merchant/redemption.html",
        json!({
            "redemption": redemption,
            "band": band(score),
            "refused": (!answer.ok()).then(|| json!({"code": answer.code(), "detail": answer.detail()})),
        }),
    )
}
