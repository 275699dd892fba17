//! Merchant applications and merchants: the list by state, one application with its details
//! and documents, and the decisions (approve, reject, suspend, reactivate), with a reason.

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::{Extension, Form};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::admin;
use crate::error::{Page, WebError};
use crate::render::{outcome, t, Portal};
use crate::session::Visitor;
use crate::table::{text_of, ByState, Cell, Column, Table, ALL};
use crate::Web;

const STATES: [(&str, &str); 5] = [
    ("PENDING_REVIEW", t("status.pending_review")),
    ("ACTIVE", t("status.active")),
    ("SUSPENDED", t("status.suspended")),
    ("REJECTED", t("status.rejected")),
    (ALL, t("filter.all")),
];

fn table() -> Table {
    Table {
        title: t("admin.merchants"),
        empty: t("admin.merchants_empty"),
        columns: vec![
            Column {
                label: t("col.name"),
                cell: Cell::Link("/businessName", |row| {
                    format!("/admin/merchants/{}", text_of(row, "/id"))
                }),
            },
            Column {
                label: t("col.category"),
                cell: Cell::Text("/category"),
            },
            Column {
                label: t("col.email"),
                cell: Cell::Text("/contactEmail"),
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
        actions: vec![],
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
    Query(list): Query<ListQuery>,
) -> Page {
    admin(&visitor)?;
    // Applications waiting come first: that is the queue.
    let drawn = ByState {
        api: "/api/v1/admin/merchants".into(),
        api_params: Vec::new(),
        page: "/admin/merchants".into(),
        states: &STATES,
        default: Some("PENDING_REVIEW"),
    }
    .draw(
        &web,
        &visitor,
        &table(),
        list.status.as_deref(),
        list.cursor.as_deref(),
    )
    .await?;
    web.views.page(&visitor, Portal::Admin, "list.html", drawn)
}

pub async fn show(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<Uuid>,
) -> Page {
    admin(&visitor)?;
    let (merchant, documents, audit) = tokio::join!(
        web.read(&visitor, format!("/api/v1/merchants/{id}")),
        web.read(&visitor, format!("/api/v1/merchants/{id}/media")),
        web.read(&visitor, format!("/api/v1/admin/merchants/{id}/audit")),
    );
    web.views.page(
        &visitor,
        Portal::Admin,
        "admin/merchant.html",
        json!({
            "merchant": merchant?,
            "media": documents.unwrap_or(serde_json::Value::Null),
            "audit": audit.unwrap_or(serde_json::Value::Null),
        }),
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct Reason {
    reason: Option<String>,
}

pub async fn decide(
    State(web): State<Web>,
    Extension(visitor): Extension<Visitor>,
    Path((id, action)): Path<(Uuid, String)>,
    Form(form): Form<Reason>,
) -> Page {
    admin(&visitor)?;
    let (needs_reason, done_key) = match action.as_str() {
        "approve" => (false, "admin.merchant_approved"),
        "reactivate" => (false, "admin.merchant_reactivated"),
        "reject" => (true, "admin.merchant_rejected"),
        "suspend" => (true, "admin.merchant_suspended"),
        _ => return Err(WebError::NotFound),
    };
    let reason = form.reason.as_deref().map(str::trim).unwrap_or_default();
    let body = if needs_reason {
        json!({"reason": reason})
    } else {
        json!({})
    };
    let result = web
        .change(
            &visitor,
            Method::POST,
            &format!("/api/v1/admin/merchants/{id}/{action}"),
            body,
        )
        .await;
    Ok(outcome(
        &format!("/admin/merchants/{id}"),
        visitor.locale,
        done_key,
        result,
    ))
}
