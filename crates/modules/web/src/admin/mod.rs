//! The admin portal: the marketplace's dashboard, merchant applications, product, voucher and
//! review moderation, fraud cases, payouts, users and dead letters. Admins only; the API
//! checks the role again on every call.

mod lists;
mod merchants;
mod operations;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::json;

use crate::error::{Page, WebError};
use crate::render::Portal;
use crate::session::Visitor;
use crate::Web;

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/admin", get(dashboard))
        .route("/admin/merchants", get(merchants::list))
        .route("/admin/merchants/{id}", get(merchants::show))
        .route("/admin/merchants/{id}/{action}", post(merchants::decide))
        .route("/admin/products", get(lists::products))
        .route(
            "/admin/products/{id}/{action}",
            post(lists::moderate_product),
        )
        .route("/admin/reviews", get(lists::reviews))
        .route("/admin/reviews/{id}/{action}", post(lists::moderate_review))
        .route("/admin/fraud", get(lists::fraud_cases))
        .route("/admin/fraud/{id}/{action}", post(lists::decide_case))
        .route("/admin/users", get(lists::users))
        .route("/admin/users/{id}/{action}", post(lists::user_status))
        .route("/admin/payouts", get(operations::payouts))
        .route("/admin/payouts/run", post(operations::run_payouts))
        .route("/admin/dead-letters", get(operations::dead_letters))
        .route(
            "/admin/dead-letters/{id}/retry",
            post(operations::retry_dead_letter),
        )
}

/// Admins only: anyone else signed in is refused, anyone signed out is sent to sign in.
pub fn admin(visitor: &Visitor) -> Result<(), WebError> {
    if visitor.signed_in()?.admin {
        Ok(())
    } else {
        Err(WebError::Forbidden)
    }
}

async fn dashboard(State(web): State<Web>, Extension(visitor): Extension<Visitor>) -> Page {
    admin(&visitor)?;
    let (summary, pending, cases, dead) = tokio::join!(
        web.read(&visitor, "/api/v1/admin/analytics/summary"),
        web.read(
            &visitor,
            "/api/v1/admin/merchants?status=PENDING_REVIEW&limit=5"
        ),
        web.read(&visitor, "/api/v1/admin/fraud-cases?status=OPEN&limit=5"),
        web.read(&visitor, "/api/v1/admin/events/dead-letters?limit=5"),
    );
    let items = |page: Result<serde_json::Value, WebError>| {
        page.ok()
            .and_then(|p| p.get("items").cloned())
            .unwrap_or_else(|| json!([]))
    };
    web.views.page(
        &visitor,
        Portal::Admin,
        "admin/dashboard.html",
        json!({
            "summary": summary.unwrap_or(serde_json::Value::Null),
            "pending": items(pending),
            "cases": items(cases),
            "dead": items(dead),
        }),
    )
}
