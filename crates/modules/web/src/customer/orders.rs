//! The customer's orders: history, one order with its timeline and shipment, cancelling one
//! that is not paid yet.

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::Extension;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::Page;
use crate::render::{outcome, t, Portal};
use crate::session::Visitor;
use crate::table::{query, Cell, Column, Table};
use crate::Web;

#[derive(Debug, Default, Deserialize)]
pub struct Cursor {
    cursor: Option<String>,
}

fn history() -> Table {
    Table {
        title: t("orders.title"),
        empty: t("orders.empty"),
        columns: vec![
            Column {
                label: t("col.number"),
                cell: Cell::Link("/number", |row| {
                    format!("/orders/{}", crate::table::text_of(row, "/id"))
                }),
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
        ],
        actions: vec![],
    }
}

pub async fn list(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Query(page): Query<Cursor>,
) -> Page {
    visitor.signed_in()?;
    let orders = web
        .read(
            &visitor,
            format!(
                "/api/v1/orders{}",
                query(&[("cursor", page.cursor.as_deref())])
            ),
        )
        .await?;
    let drawn = history().draw(visitor.locale, &orders, vec![], |cursor| {
        format!("/orders{}", query(&[("cursor", Some(cursor))]))
    });
    web.views
        .page(&visitor, Portal::Customer, "list.html", drawn)
}

pub async fn show(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<Uuid>,
) -> Page {
    visitor.signed_in()?;
    let (order, timeline) = tokio::join!(
        web.read(&visitor, format!("/api/v1/orders/{id}")),
        web.read(&visitor, format!("/api/v1/orders/{id}/timeline")),
    );
    let order = order?;
    let shipped = order
        .get("digitalOnly")
        .and_then(Value::as_bool)
        .is_some_and(|digital| !digital);
    let shipment = if shipped {
        web.read(&visitor, format!("/api/v1/orders/{id}/shipment"))
            .await
            .unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    let settled = !matches!(
        order.get("status").and_then(Value::as_str),
        Some("PENDING_PAYMENT")
    );
    web.views.page(
        &visitor,
        Portal::Customer,
        "customer/order.html",
        json!({
            "order": order,
            "timeline": timeline.unwrap_or_else(|_| json!([])),
            "shipment": shipment,
            // Until it is paid the page looks again every few seconds.
            "poll": !settled,
        }),
    )
}

pub async fn cancel(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<Uuid>,
) -> Page {
    visitor.signed_in()?;
    let result = web
        .change(
            &visitor,
            Method::POST,
            &format!("/api/v1/orders/{id}/cancel"),
            json!({"reason": "cancelled by the customer"}),
        )
        .await;
    Ok(outcome(
        &format!("/orders/{id}"),
        visitor.locale,
        "order.cancel_done",
        result,
    ))
}
