//! The admin's queues: products and vouchers waiting for review, reviews to moderate, fraud
//! cases to decide, and users (suspend, reactivate).

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::{Extension, Form};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::admin;
use crate::error::{Page, WebError};
use crate::render::{outcome, t, Portal};
use crate::session::Visitor;
use crate::table::{always, filters, query, text_of, ByState, Cell, Column, RowAction, Table};
use crate::Web;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    email: Option<String>,
    cursor: Option<String>,
}

fn products_table() -> Table {
    Table {
        title: t("admin.products"),
        empty: t("admin.products_empty"),
        columns: vec![
            Column {
                label: t("col.name"),
                cell: Cell::Localized("/name"),
            },
            Column {
                label: t("col.merchant"),
                cell: Cell::Text("/merchantName"),
            },
            Column {
                label: t("col.type"),
                cell: Cell::Text("/type"),
            },
            Column {
                label: t("col.price"),
                cell: Cell::Money("/price/min", "/price/currency"),
            },
            Column {
                label: t("col.status"),
                cell: Cell::Status("/status"),
            },
        ],
        actions: vec![
            RowAction {
                label: t("action.approve"),
                target: |row| format!("/admin/products/{}/approve", text_of(row, "/id")),
                input: None,
                applies: always,
                danger: false,
            },
            RowAction {
                label: t("action.reject"),
                target: |row| format!("/admin/products/{}/reject", text_of(row, "/id")),
                input: Some(("reason", t("col.reason"))),
                applies: always,
                danger: true,
            },
        ],
    }
}

/// Products and voucher products sent for review, oldest first as catalogue lists them.
pub async fn products(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Query(list): Query<ListQuery>,
) -> Page {
    admin(&visitor)?;
    let found = web
        .read(
            &visitor,
            format!(
                "/api/v1/products{}",
                query(&[
                    ("status", Some("PENDING_REVIEW")),
                    ("cursor", list.cursor.as_deref())
                ])
            ),
        )
        .await?;
    let drawn = products_table().draw(visitor.locale, &found, vec![], |cursor| {
        format!("/admin/products{}", query(&[("cursor", Some(cursor))]))
    });
    web.views.page(&visitor, Portal::Admin, "list.html", drawn)
}

#[derive(Debug, Default, Deserialize)]
pub struct Reason {
    reason: Option<String>,
    note: Option<String>,
}

fn reason_of(form: &Reason) -> String {
    form.reason
        .as_deref()
        .or(form.note.as_deref())
        .map(str::trim)
        .unwrap_or_default()
        .to_owned()
}

pub async fn moderate_product(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path((id, action)): Path<(Uuid, String)>,
    Form(form): Form<Reason>,
) -> Page {
    admin(&visitor)?;
    let body = match action.as_str() {
        "approve" => json!({"status": "ACTIVE"}),
        "reject" => json!({"status": "REJECTED", "reason": reason_of(&form)}),
        _ => return Err(WebError::NotFound),
    };
    let result = web
        .change(
            &visitor,
            Method::PATCH,
            &format!("/api/v1/products/{id}/status"),
            body,
        )
        .await;
    Ok(outcome(
        "/admin/products",
        visitor.locale,
        "admin.moderated",
        result,
    ))
}

const REVIEW_STATES: [(&str, &str); 3] = [
    ("PENDING", t("status.pending")),
    ("APPROVED", t("status.approved")),
    ("REJECTED", t("status.rejected")),
];

fn reviews_table() -> Table {
    Table {
        title: t("admin.reviews"),
        empty: t("admin.reviews_empty"),
        columns: vec![
            Column {
                label: t("col.rating"),
                cell: Cell::Text("/rating"),
            },
            Column {
                label: t("col.title"),
                cell: Cell::Text("/title"),
            },
            Column {
                label: t("col.text"),
                cell: Cell::Text("/text"),
            },
            Column {
                label: t("col.subject"),
                cell: Cell::Text("/subjectKind"),
            },
            Column {
                label: t("col.status"),
                cell: Cell::Status("/status"),
            },
        ],
        actions: vec![
            RowAction {
                label: t("action.approve"),
                target: |row| format!("/admin/reviews/{}/approve", text_of(row, "/id")),
                input: None,
                applies: |row| text_of(row, "/status") != "APPROVED",
                danger: false,
            },
            RowAction {
                label: t("action.reject"),
                target: |row| format!("/admin/reviews/{}/reject", text_of(row, "/id")),
                input: Some(("reason", t("col.reason"))),
                applies: |row| text_of(row, "/status") != "REJECTED",
                danger: true,
            },
        ],
    }
}

pub async fn reviews(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Query(list): Query<ListQuery>,
) -> Page {
    admin(&visitor)?;
    let drawn = ByState {
        api: "/api/v1/admin/reviews".into(),
        api_params: Vec::new(),
        page: "/admin/reviews".into(),
        states: &REVIEW_STATES,
        default: Some("PENDING"),
    }
    .draw(
        &web,
        &visitor,
        &reviews_table(),
        list.status.as_deref(),
        list.cursor.as_deref(),
    )
    .await?;
    web.views.page(&visitor, Portal::Admin, "list.html", drawn)
}

pub async fn moderate_review(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path((id, action)): Path<(Uuid, String)>,
    Form(form): Form<Reason>,
) -> Page {
    admin(&visitor)?;
    let body = match action.as_str() {
        "approve" => json!({}),
        "reject" => json!({"reason": reason_of(&form)}),
        _ => return Err(WebError::NotFound),
    };
    let result = web
        .change(
            &visitor,
            Method::POST,
            &format!("/api/v1/admin/reviews/{id}/{action}"),
            body,
        )
        .await;
    Ok(outcome(
        "/admin/reviews",
        visitor.locale,
        "admin.moderated",
        result,
    ))
}

const CASE_STATES: [(&str, &str); 3] = [
    ("OPEN", t("status.open")),
    ("APPROVED", t("status.approved")),
    ("REJECTED", t("status.rejected")),
];

fn hits(row: &Value) -> bool {
    text_of(row, "/status") == "OPEN"
}

fn cases_table() -> Table {
    Table {
        title: t("admin.fraud"),
        empty: t("admin.fraud_empty"),
        columns: vec![
            Column {
                label: t("col.date"),
                cell: Cell::Time("/createdAt"),
            },
            Column {
                label: t("col.title"),
                cell: Cell::Localized("/redemption/title"),
            },
            Column {
                label: t("col.amount"),
                cell: Cell::Money("/redemption/amount", "/redemption/currency"),
            },
            Column {
                label: t("col.score"),
                cell: Cell::Text("/score"),
            },
            Column {
                label: t("col.rules"),
                cell: Cell::Text("/redemption/hits/0/detail"),
            },
            Column {
                label: t("col.status"),
                cell: Cell::Status("/status"),
            },
        ],
        actions: vec![
            RowAction {
                label: t("action.approve"),
                target: |row| format!("/admin/fraud/{}/approve", text_of(row, "/id")),
                input: Some(("note", t("col.note"))),
                applies: hits,
                danger: false,
            },
            RowAction {
                label: t("action.reject"),
                target: |row| format!("/admin/fraud/{}/reject", text_of(row, "/id")),
                input: Some(("note", t("col.note"))),
                applies: hits,
                danger: true,
            },
        ],
    }
}

pub async fn fraud_cases(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Query(list): Query<ListQuery>,
) -> Page {
    admin(&visitor)?;
    let drawn = ByState {
        api: "/api/v1/admin/fraud-cases".into(),
        api_params: Vec::new(),
        page: "/admin/fraud".into(),
        states: &CASE_STATES,
        default: Some("OPEN"),
    }
    .draw(
        &web,
        &visitor,
        &cases_table(),
        list.status.as_deref(),
        list.cursor.as_deref(),
    )
    .await?;
    web.views.page(&visitor, Portal::Admin, "list.html", drawn)
}

pub async fn decide_case(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path((id, action)): Path<(Uuid, String)>,
    Form(form): Form<Reason>,
) -> Page {
    admin(&visitor)?;
    if !matches!(action.as_str(), "approve" | "reject") {
        return Err(WebError::NotFound);
    }
    let result = web
        .change(
            &visitor,
            Method::POST,
            &format!("/api/v1/admin/fraud-cases/{id}/{action}"),
            json!({"note": reason_of(&form)}),
        )
        .await;
    Ok(outcome(
        "/admin/fraud",
        visitor.locale,
        "admin.case_decided",
        result,
    ))
}

const USER_STATES: [(&str, &str); 3] = [
    ("", t("filter.all")),
    ("ACTIVE", t("status.active")),
    ("SUSPENDED", t("status.suspended")),
];

fn users_table() -> Table {
    Table {
        title: t("admin.users"),
        empty: t("admin.users_empty"),
        columns: vec![
            Column {
                label: t("col.email"),
                cell: Cell::Text("/email"),
            },
            Column {
                label: t("col.name"),
                cell: Cell::Text("/firstName"),
            },
            Column {
                label: t("col.roles"),
                cell: Cell::Text("/roles"),
            },
            Column {
                label: t("col.date"),
                cell: Cell::Time("/createdAt"),
            },
            Column {
                label: t("col.status"),
                cell: Cell::Status("/status"),
            },
        ],
        actions: vec![
            RowAction {
                label: t("action.suspend"),
                target: |row| format!("/admin/users/{}/suspend", text_of(row, "/id")),
                input: None,
                applies: |row| text_of(row, "/status") == "ACTIVE",
                danger: true,
            },
            RowAction {
                label: t("action.reactivate"),
                target: |row| format!("/admin/users/{}/reactivate", text_of(row, "/id")),
                input: None,
                applies: |row| text_of(row, "/status") == "SUSPENDED",
                danger: false,
            },
        ],
    }
}

pub async fn users(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Query(list): Query<ListQuery>,
) -> Page {
    admin(&visitor)?;
    let status = list
        .status
        .as_deref()
        .and_then(|s| USER_STATES.iter().map(|(v, _)| *v).find(|v| *v == s));
    let email = list
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    let found = web
        .read(
            &visitor,
            format!(
                "/api/v1/admin/users{}",
                query(&[
                    ("status", status),
                    ("email", email),
                    ("cursor", list.cursor.as_deref())
                ])
            ),
        )
        .await?;
    let mut drawn = users_table().draw(
        visitor.locale,
        &found,
        filters("/admin/users", "status", &USER_STATES, status.or(Some(""))),
        |cursor| {
            format!(
                "/admin/users{}",
                query(&[
                    ("status", status),
                    ("email", email),
                    ("cursor", Some(cursor))
                ])
            )
        },
    );
    drawn["search"] = json!({"name": "email", "value": email, "label": t("col.email")});
    web.views.page(&visitor, Portal::Admin, "list.html", drawn)
}

pub async fn user_status(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path((id, action)): Path<(Uuid, String)>,
) -> Page {
    admin(&visitor)?;
    if !matches!(action.as_str(), "suspend" | "reactivate") {
        return Err(WebError::NotFound);
    }
    let result = web
        .change(
            &visitor,
            Method::POST,
            &format!("/api/v1/admin/users/{id}/{action}"),
            json!({}),
        )
        .await;
    Ok(outcome(
        "/admin/users",
        visitor.locale,
        "admin.user_changed",
        result,
    ))
}
