//! Operations: payout runs (start one for a period, see each merchant's payout and its
//! failure) and dead letters (events a consumer gave up on, retried by hand).

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::{Extension, Form};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::admin;
use crate::error::Page;
use crate::render::{outcome, t, Portal};
use crate::session::Visitor;
use crate::table::{always, query, text_of, ByState, Cell, Column, RowAction, Table};
use crate::Web;

const PAYOUT_STATES: [(&str, &str); 4] = [
    ("", t("filter.all")),
    ("FAILED", t("status.failed")),
    ("PENDING", t("status.pending")),
    ("PAID", t("status.paid")),
];

fn payouts_table() -> Table {
    Table {
        title: t("admin.payouts"),
        empty: t("admin.payouts_empty"),
        columns: vec![
            Column {
                label: t("col.period"),
                cell: Cell::Text("/period"),
            },
            Column {
                label: t("col.merchant"),
                cell: Cell::Text("/merchantId"),
            },
            Column {
                label: t("col.amount"),
                cell: Cell::Money("/amount", "/currency"),
            },
            Column {
                label: t("col.attempts"),
                cell: Cell::Text("/attempts"),
            },
            Column {
                label: t("col.failure"),
                cell: Cell::Text("/failureReason"),
            },
            Column {
                label: t("col.status"),
                cell: Cell::Status("/status"),
            },
        ],
        actions: vec![],
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PayoutQuery {
    status: Option<String>,
    cursor: Option<String>,
}

pub async fn payouts(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Query(list): Query<PayoutQuery>,
) -> Page {
    admin(&visitor)?;
    let mut drawn = ByState {
        api: "/api/v1/payouts".into(),
        api_params: Vec::new(),
        page: "/admin/payouts".into(),
        states: &PAYOUT_STATES,
        default: None,
    }
    .draw(
        &web,
        &visitor,
        &payouts_table(),
        list.status.as_deref(),
        list.cursor.as_deref(),
    )
    .await?;
    drawn["run_form"] = json!(true);
    web.views
        .page(&visitor, Portal::Admin, "admin/payouts.html", drawn)
}

#[derive(Debug, Deserialize)]
pub struct RunForm {
    period: Option<String>,
}

/// Starts (or, for a period already run, continues: failed payouts are tried again) the
/// payout run of a period.
pub async fn run_payouts(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Form(form): Form<RunForm>,
) -> Page {
    admin(&visitor)?;
    let period = form
        .period
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let result = web
        .change(
            &visitor,
            Method::POST,
            "/api/v1/admin/payouts/run",
            json!({"period": period}),
        )
        .await;
    Ok(outcome(
        "/admin/payouts",
        visitor.locale,
        "admin.payouts_started",
        result,
    ))
}

fn dead_letters_table() -> Table {
    Table {
        title: t("admin.dead_letters"),
        empty: t("admin.dead_letters_empty"),
        columns: vec![
            Column {
                label: t("col.date"),
                cell: Cell::Time("/failedAt"),
            },
            Column {
                label: t("col.event"),
                cell: Cell::Text("/eventType"),
            },
            Column {
                label: t("col.consumer"),
                cell: Cell::Text("/consumer"),
            },
            Column {
                label: t("col.attempts"),
                cell: Cell::Text("/attempts"),
            },
            Column {
                label: t("col.failure"),
                cell: Cell::Text("/lastError"),
            },
        ],
        actions: vec![RowAction {
            label: t("action.retry"),
            target: |row| format!("/admin/dead-letters/{}/retry", text_of(row, "/id")),
            input: None,
            applies: always,
            danger: false,
        }],
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Cursor {
    cursor: Option<String>,
}

pub async fn dead_letters(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Query(list): Query<Cursor>,
) -> Page {
    admin(&visitor)?;
    let found = web
        .read(
            &visitor,
            format!(
                "/api/v1/admin/events/dead-letters{}",
                query(&[("cursor", list.cursor.as_deref())])
            ),
        )
        .await?;
    let drawn = dead_letters_table().draw(visitor.locale, &found, vec![], |cursor| {
        format!("/admin/dead-letters{}", query(&[("cursor", Some(cursor))]))
    });
    web.views.page(&visitor, Portal::Admin, "list.html", drawn)
}

pub async fn retry_dead_letter(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<Uuid>,
) -> Page {
    admin(&visitor)?;
    let result = web
        .change(
            &visitor,
            Method::POST,
            &format!("/api/v1/admin/events/dead-letters/{id}/retry"),
            json!({}),
        )
        .await;
    Ok(outcome(
        "/admin/dead-letters",
        visitor.locale,
        "admin.retried",
        result,
    ))
}
