//! Orders to fulfil: the shop's orders by state, each moved on to the states the order itself
//! allows next.

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::{Extension, Form};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{page, shop, ORDER_MOVES};
use crate::error::{Page, WebError};
use crate::render::{outcome, t};
use crate::session::Visitor;
use crate::table::{text_of, ByState, Cell, Column, RowAction, Table};
use crate::Web;

const ORDER_STATES: [(&str, &str); 6] = [
    ("", t("filter.all")),
    ("PAID", t("status.paid")),
    ("PROCESSING", t("status.processing")),
    ("SHIPPED", t("status.shipped")),
    ("DELIVERED", t("status.delivered")),
    ("COMPLETED", t("status.completed")),
];

fn allows(row: &Value, status: &str) -> bool {
    row.get("allowedNextStates")
        .and_then(Value::as_array)
        .is_some_and(|next| next.iter().any(|s| s.as_str() == Some(status)))
}

fn move_action(status: &'static str, label: &'static str) -> RowAction {
    // A fn pointer per state: the row gives the merchant and order, the state is fixed.
    macro_rules! to {
        ($state:literal) => {
            RowAction {
                label,
                target: |row| {
                    format!(
                        "/merchant/{}/orders/{}/status/{}",
                        text_of(row, "/merchantId"),
                        text_of(row, "/id"),
                        $state
                    )
                },
                input: if $state == "SHIPPED" {
                    Some(("trackingNumber", t("col.tracking")))
                } else {
                    None
                },
                applies: |row| allows(row, $state),
                danger: $state == "CANCELLED",
            }
        };
    }
    match status {
        "PROCESSING" => to!("PROCESSING"),
        "SHIPPED" => to!("SHIPPED"),
        "DELIVERED" => to!("DELIVERED"),
        "COMPLETED" => to!("COMPLETED"),
        _ => to!("CANCELLED"),
    }
}

fn table() -> Table {
    Table {
        title: t("merchant.orders"),
        empty: t("merchant.orders_empty"),
        columns: vec![
            Column {
                label: t("col.number"),
                cell: Cell::Text("/number"),
            },
            Column {
                label: t("col.date"),
                cell: Cell::Time("/createdAt"),
            },
            Column {
                label: t("col.status"),
                cell: Cell::Status("/status"),
            },
            Column {
                label: t("col.total"),
                cell: Cell::Money("/total", "/currency"),
            },
            Column {
                label: t("col.tracking"),
                cell: Cell::Text("/trackingNumber"),
            },
        ],
        actions: ORDER_MOVES
            .iter()
            .map(|(status, label)| move_action(status, label))
            .collect(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    cursor: Option<String>,
}

pub async fn list(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(merchant): Path<Uuid>,
    Query(list): Query<ListQuery>,
) -> Page {
    let shop = shop(&web, &visitor, merchant).await?;
    let drawn = ByState {
        api: "/api/v1/orders".into(),
        api_params: vec![("merchantId", merchant.to_string())],
        page: format!("/merchant/{merchant}/orders"),
        states: &ORDER_STATES,
        default: None,
    }
    .draw(
        &web,
        &visitor,
        &table(),
        list.status.as_deref(),
        list.cursor.as_deref(),
    )
    .await?;
    page(&web, &visitor, &shop, "list.html", drawn)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MoveForm {
    tracking_number: Option<String>,
}

pub async fn move_to(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path((merchant, order, status)): Path<(Uuid, Uuid, String)>,
    Form(form): Form<MoveForm>,
) -> Page {
    shop(&web, &visitor, merchant).await?;
    if !ORDER_MOVES.iter().any(|(s, _)| *s == status) {
        return Err(WebError::NotFound);
    }
    let mut body = json!({"status": status});
    if let Some(tracking) = form
        .tracking_number
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        body["trackingNumber"] = json!(tracking);
    }
    let result = web
        .change(
            &visitor,
            Method::PATCH,
            &format!("/api/v1/orders/{order}/status"),
            body,
        )
        .await;
    Ok(outcome(
        &format!("/merchant/{merchant}/orders"),
        visitor.locale,
        "merchant.order_moved",
        result,
    ))
}
