//! ledger's HTTP face: merchant balances and statements, payouts, and the admin's payout
//! runs and trial balance.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use kernel::error::Problem;
use kernel::{Actor, ApiError, Page, Permission};
use platform::http::{ApiJson, ClassPolicy};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::*;
use crate::service::Ledger;

type St = State<Arc<Ledger>>;

pub fn router(ledger: Arc<Ledger>) -> OpenApiRouter {
    ledger
        .ctx
        .rate_limited(
            OpenApiRouter::new()
                .routes(routes!(balance))
                .routes(routes!(statement))
                .routes(routes!(list_payouts))
                .routes(routes!(start_run))
                .routes(routes!(get_run))
                .routes(routes!(trial_balance)),
            ClassPolicy::ByMethod,
        )
        .with_state(ledger)
}

/// The merchant's balance per currency: available for the next payout, in transit, held.
/// Owner and managers, and admins.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/balance", tag = "ledger",
    params(("id" = Uuid, Path, description = "merchant id")), security(("bearer" = [])),
    responses((status = 200, body = MerchantBalance), (status = 403, body = Problem)))]
async fn balance(
    State(l): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<MerchantBalance>, ApiError> {
    Ok(Json(l.balance(&actor, id).await?))
}

/// Movements of the merchant's balance in `[from, to)`, with opening and closing balances.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/statement", tag = "ledger",
    params(("id" = Uuid, Path, description = "merchant id"), StatementQuery), security(("bearer" = [])),
    responses((status = 200, body = Statement), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn statement(
    State(l): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(query): Query<StatementQuery>,
) -> Result<Json<Statement>, ApiError> {
    Ok(Json(l.statement(&actor, id, &query).await?))
}

/// Payouts, newest first: a merchant's (owner, managers) or, for admins, all.
#[utoipa::path(get, path = "/api/v1/payouts", tag = "ledger", params(PayoutQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Page<Payout>), (status = 403, body = Problem)))]
async fn list_payouts(
    State(l): St,
    actor: Actor,
    Query(query): Query<PayoutQuery>,
) -> Result<Json<Page<Payout>>, ApiError> {
    Ok(Json(l.payouts(&actor, &query).await?))
}

/// Starts the payout run of a period now (admins). A period runs once: 409
/// `payout_run_exists` the second time.
#[utoipa::path(post, path = "/api/v1/admin/payouts/run", tag = "ledger-admin",
    request_body = StartPayoutRun, security(("bearer" = [])),
    responses((status = 201, body = PayoutRun), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn start_run(
    State(l): St,
    actor: Actor,
    ApiJson(body): ApiJson<StartPayoutRun>,
) -> Result<(StatusCode, Json<PayoutRun>), ApiError> {
    actor.require(Permission::AdminPayments)?;
    let run = l
        .start_run(body.period, &format!("admin:{}", actor.user_id))
        .await?;
    Ok((StatusCode::CREATED, Json(run)))
}

/// A payout run and its payouts (admins).
#[utoipa::path(get, path = "/api/v1/admin/payouts/runs/{period}", tag = "ledger-admin",
    params(("period" = String, Path, description = "ISO week, e.g. 2026-W48")), security(("bearer" = [])),
    responses((status = 200, body = PayoutRun), (status = 404, body = Problem)))]
async fn get_run(
    State(l): St,
    actor: Actor,
    Path(period): Path<String>,
) -> Result<Json<PayoutRun>, ApiError> {
    actor.require(Permission::AdminPayments)?;
    Ok(Json(l.run(&period).await?))
}

/// Every account's balance per currency; each currency's total is zero (admins).
#[utoipa::path(get, path = "/api/v1/admin/ledger/trial-balance", tag = "ledger-admin",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<TrialBalance>), (status = 403, body = Problem)))]
async fn trial_balance(State(l): St, actor: Actor) -> Result<Json<Vec<TrialBalance>>, ApiError> {
    Ok(Json(l.trial_balance(&actor).await?))
}
