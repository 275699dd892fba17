//! The shop's money: balance per currency, the bank account payouts go to, the statement of
//! the last 30 days and the payouts made.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::{Extension, Form};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{page, shop};
use crate::error::Page;
use crate::render::outcome;
use crate::session::Visitor;
use crate::Web;

pub async fn show(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(merchant): Path<Uuid>,
) -> Page {
    let shop = shop(&web, &visitor, merchant).await?;
    let (detail, balance, statement, payouts) = tokio::join!(
        web.read(&visitor, format!("/api/v1/merchants/{merchant}")),
        web.read(&visitor, format!("/api/v1/merchants/{merchant}/balance")),
        web.read(&visitor, format!("/api/v1/merchants/{merchant}/statement")),
        web.read(
            &visitor,
            format!("/api/v1/payouts?merchantId={merchant}&limit=20")
        ),
    );
    page(
        &web,
        &visitor,
        &shop,
        "merchant/money.html",
        json!({
            "bank": detail?.get("bankAccount").cloned().unwrap_or(Value::Null),
            "balance": balance?,
            "statement": statement.unwrap_or(Value::Null),
            "payouts": payouts.ok().and_then(|p| p.get("items").cloned()).unwrap_or_else(|| json!([])),
        }),
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BankForm {
    bank_name: String,
    account_name: String,
    account_number: String,
}

pub async fn bank_account(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(merchant): Path<Uuid>,
    Form(form): Form<BankForm>,
) -> Page {
    shop(&web, &visitor, merchant).await?;
    let result = web
        .change(
            &visitor,
            Method::PUT,
            &format!("/api/v1/merchants/{merchant}/bank-account"),
            json!({"bankName": form.bank_name.trim(), "accountName": form.account_name.trim(),
                   "accountNumber": form.account_number.trim()}),
        )
        .await;
    Ok(outcome(
        &format!("/merchant/{merchant}/money"),
        visitor.locale,
        "money.bank_saved",
        result,
    ))
}
