//! Checkout: the cart becomes orders (one per merchant, one group), the group is paid with a
//! method the deployment offers, and the payment page follows it: the simulator's approve
//! button, a KHQR code to scan, bank transfer details, or the provider's own page.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::{Extension, Form};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use platform::config::ModuleConfig;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::{Page, WebError};
use crate::render::{done, outcome, see_other, Portal};
use crate::session::Visitor;
use crate::Web;

pub async fn review(State(web): State<Web>, Extension(visitor): Extension<Visitor>) -> Page {
    visitor.signed_in()?;
    let (cart, addresses) = tokio::join!(
        web.read(&visitor, "/api/v1/cart"),
        web.read(&visitor, "/api/v1/users/me/addresses"),
    );
    web.views.page(
        &visitor,
        Portal::Customer,
        "customer/checkout.html",
        json!({
            "cart": cart?,
            "addresses": addresses.unwrap_or_else(|_| json!([])),
            // One key per drawn page: the same form sent twice checks out once.
            "key": Uuid::new_v4(),
        }),
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaceForm {
    key: Uuid,
    address_id: Option<String>,
    note: Option<String>,
}

pub async fn place(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Form(form): Form<PlaceForm>,
) -> Page {
    visitor.signed_in()?;
    let mut body = json!({});
    if let Some(address) = form.address_id.as_deref().filter(|a| !a.is_empty()) {
        body["shippingAddressId"] = json!(address);
    }
    if let Some(note) = form
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        body["note"] = json!(note);
    }
    let answer = web
        .backend
        .send_once(
            &visitor.caller(),
            "/api/v1/orders",
            &body,
            &format!("web-checkout-{}", form.key),
        )
        .await?;
    if !answer.ok() {
        return Ok(outcome("/checkout", visitor.locale, "", answer.into_ok()));
    }
    let group = answer
        .body
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Ok(see_other(&format!("/checkout/{group}")))
}

/// The payment methods this deployment offers: payments' own switches, read from its section.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct PaymentSwitches {
    simulator: Switch,
    khqr: Switch,
    bank_transfer: Switch,
    aba_payway: Switch,
    wing: Switch,
    pipay: Switch,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct Switch {
    enabled: bool,
}

impl ModuleConfig for PaymentSwitches {
    const SECTION: &'static str = "payments";

    fn development() -> Self {
        Self {
            simulator: Switch { enabled: true },
            ..Self::default()
        }
    }
}

fn payment_methods(web: &Web) -> Vec<&'static str> {
    let switches: PaymentSwitches = web.ctx.config.section_or_default();
    [
        ("khqr", switches.khqr.enabled),
        ("aba_payway", switches.aba_payway.enabled),
        ("wing", switches.wing.enabled),
        ("pipay", switches.pipay.enabled),
        ("bank_transfer", switches.bank_transfer.enabled),
        ("simulator", switches.simulator.enabled),
    ]
    .into_iter()
    .filter_map(|(method, on)| on.then_some(method))
    .collect()
}

pub async fn choose_payment(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(group): Path<Uuid>,
) -> Page {
    visitor.signed_in()?;
    let group = web
        .read(&visitor, format!("/api/v1/orders/groups/{group}"))
        .await?;
    web.views.page(
        &visitor,
        Portal::Customer,
        "customer/payment.html",
        json!({
            "group": group,
            "methods": payment_methods(&web),
            "key": Uuid::new_v4(),
            "payment": Value::Null,
            "instructions": Value::Null,
            "qr_image": Value::Null,
        }),
    )
}

#[derive(Debug, Deserialize)]
pub struct PayForm {
    method: String,
    key: Uuid,
}

pub async fn pay(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(group): Path<Uuid>,
    Form(form): Form<PayForm>,
) -> Page {
    visitor.signed_in()?;
    if !payment_methods(&web).contains(&form.method.as_str()) {
        return Err(WebError::BadForm(format!("method {}", form.method)));
    }
    let answer = web
        .backend
        .send_once(
            &visitor.caller(),
            "/api/v1/payments",
            &json!({"orderGroupId": group, "method": form.method}),
            &format!("web-pay-{}", form.key),
        )
        .await?;
    if !answer.ok() {
        return Ok(done(
            &format!("/checkout/{group}"),
            "error",
            answer.detail(),
        ));
    }
    let payment = answer
        .body
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Ok(see_other(&format!("/payments/{payment}")))
}

pub async fn payment(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<Uuid>,
) -> Page {
    visitor.signed_in()?;
    let (payment, instructions) = tokio::join!(
        web.read(&visitor, format!("/api/v1/payments/{id}")),
        web.read(&visitor, format!("/api/v1/payments/{id}/instructions")),
    );
    let payment = payment?;
    let instructions = instructions.unwrap_or(Value::Null);
    // The code is drawn by payments; shown as an image so no markup of it enters the page.
    let qr_image = instructions
        .get("qrSvg")
        .and_then(Value::as_str)
        .map(|svg| format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg)));
    let group = payment.get("orderGroupId").cloned().unwrap_or(Value::Null);
    web.views.page(
        &visitor,
        Portal::Customer,
        "customer/payment.html",
        json!({
            "group": {"id": group},
            "methods": [],
            "key": Value::Null,
            "payment": payment,
            "instructions": instructions,
            "qr_image": qr_image,
        }),
    )
}

/// The payment's state, polled by the payment page (htmx) until it settles.
pub async fn payment_status(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<Uuid>,
) -> Page {
    visitor.signed_in()?;
    let payment = web.read(&visitor, format!("/api/v1/payments/{id}")).await?;
    web.views.fragment(
        &visitor,
        "customer/payment_status.html",
        json!({"payment": payment}),
    )
}

/// The simulator's approval, from the payment page (development deployments only: payments
/// answers 404 when the simulator is off).
pub async fn simulate(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<Uuid>,
) -> Page {
    visitor.signed_in()?;
    // Only a payment this visitor can see is approved from here.
    web.read(&visitor, format!("/api/v1/payments/{id}")).await?;
    let result = web
        .change(
            &visitor,
            Method::POST,
            &format!("/api/v1/payments/simulator/{id}/approve"),
            json!({}),
        )
        .await;
    Ok(outcome(
        &format!("/payments/{id}"),
        visitor.locale,
        "payment.approved",
        result,
    ))
}
