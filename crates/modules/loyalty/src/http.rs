//! loyalty's HTTP face: a customer's rewards, the tiers, admins' view and adjustments, and
//! the internal routes checkout redeems through.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use kernel::error::Problem;
use kernel::{Actor, ApiError};
use platform::http::{internal_only, ApiJson, ClassPolicy};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::*;
use crate::service::Loyalty;

type St = State<Arc<Loyalty>>;

pub fn router(loyalty: Arc<Loyalty>) -> OpenApiRouter {
    loyalty
        .ctx
        .rate_limited(
            OpenApiRouter::new()
                .routes(routes!(rewards_account))
                .routes(routes!(rewards_transactions))
                .routes(routes!(rewards_tiers))
                .routes(routes!(rewards_achievements))
                .routes(routes!(admin_rewards_account))
                .routes(routes!(adjust_rewards)),
            ClassPolicy::ByMethod,
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(internal_tiers))
                .routes(routes!(customer_tier))
                .routes(routes!(redemption_terms))
                .routes(routes!(redeem_points))
                .routes(routes!(give_back_points))
                .layer(axum::middleware::from_fn(internal_only)),
        )
        .with_state(loyalty)
}

/// The caller's points, tier and progress to the next one.
#[utoipa::path(get, path = "/api/v1/rewards/account", tag = "loyalty", security(("bearer" = [])),
    responses((status = 200, body = RewardsAccount), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn rewards_account(State(l): St, actor: Actor) -> Result<Json<RewardsAccount>, ApiError> {
    Ok(Json(l.my_account(&actor).await?))
}

/// The caller's point entries, newest first.
#[utoipa::path(get, path = "/api/v1/rewards/transactions", tag = "loyalty", params(EntryQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<RewardsEntry>), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn rewards_transactions(
    State(l): St,
    actor: Actor,
    Query(query): Query<EntryQuery>,
) -> Result<Json<Vec<RewardsEntry>>, ApiError> {
    Ok(Json(l.my_entries(&actor, &query).await?))
}

/// The tiers, lowest first (public).
#[utoipa::path(get, path = "/api/v1/rewards/tiers", tag = "loyalty",
    responses((status = 200, body = Vec<Tier>)))]
async fn rewards_tiers(State(l): St) -> Json<Vec<Tier>> {
    Json(l.tiers())
}

/// The achievements, with the caller's progress and awards.
#[utoipa::path(get, path = "/api/v1/rewards/achievements", tag = "loyalty", security(("bearer" = [])),
    responses((status = 200, body = Vec<Achievement>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn rewards_achievements(
    State(l): St,
    actor: Actor,
) -> Result<Json<Vec<Achievement>>, ApiError> {
    Ok(Json(l.my_achievements(&actor).await?))
}

/// Any customer's rewards account and latest entries (admins).
#[utoipa::path(get, path = "/api/v1/admin/rewards/accounts/{userId}", tag = "loyalty",
    params(("userId" = Uuid, Path, description = "the customer")), security(("bearer" = [])),
    responses((status = 200, body = AdminRewardsAccount), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn admin_rewards_account(
    State(l): St,
    actor: Actor,
    Path(user_id): Path<Uuid>,
) -> Result<Json<AdminRewardsAccount>, ApiError> {
    Ok(Json(l.admin_account(&actor, user_id).await?))
}

/// Credit or debit a customer's points, with a reason (admins; the entry records who).
#[utoipa::path(post, path = "/api/v1/admin/rewards/accounts/{userId}/adjustments", tag = "loyalty",
    request_body = AdjustmentInput, params(("userId" = Uuid, Path, description = "the customer")),
    security(("bearer" = [])),
    responses((status = 201, body = RewardsEntry), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn adjust_rewards(
    State(l): St,
    actor: Actor,
    Path(user_id): Path<Uuid>,
    ApiJson(body): ApiJson<AdjustmentInput>,
) -> Result<(StatusCode, Json<RewardsEntry>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(l.adjust(&actor, user_id, body).await?),
    ))
}

/// The tiers, lowest first (internal, for promotions' tier conditions).
#[utoipa::path(get, path = "/internal/v1/loyalty/tiers", tag = "internal",
    responses((status = 200, body = Vec<Tier>), (status = 403, body = Problem)))]
async fn internal_tiers(State(l): St, actor: Actor) -> Result<Json<Vec<Tier>>, ApiError> {
    actor.require_internal()?;
    Ok(Json(l.tiers()))
}

/// A customer's tier now (internal, for promotions' tier conditions).
#[utoipa::path(get, path = "/internal/v1/loyalty/customers/{customerId}/tier", tag = "internal",
    params(("customerId" = Uuid, Path, description = "the customer")),
    responses((status = 200, body = CustomerTier), (status = 403, body = Problem)))]
async fn customer_tier(
    State(l): St,
    actor: Actor,
    Path(customer_id): Path<Uuid>,
) -> Result<Json<CustomerTier>, ApiError> {
    actor.require_internal()?;
    Ok(Json(l.tier_of(customer_id).await?))
}

/// What a customer's points are worth in a currency (internal, for checkout).
#[utoipa::path(post, path = "/internal/v1/loyalty/terms", tag = "internal", request_body = TermsRequest,
    responses((status = 200, body = RedemptionTerms), (status = 403, body = Problem)))]
async fn redemption_terms(
    State(l): St,
    actor: Actor,
    Json(body): Json<TermsRequest>,
) -> Result<Json<RedemptionTerms>, ApiError> {
    actor.require_internal()?;
    Ok(Json(l.terms(&body).await?))
}

/// Take a checkout's points, all or none (internal, for checkout).
#[utoipa::path(post, path = "/internal/v1/loyalty/redemptions", tag = "internal", request_body = RedeemRequest,
    responses((status = 200, body = PointsRedemption), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn redeem_points(
    State(l): St,
    actor: Actor,
    Json(body): Json<RedeemRequest>,
) -> Result<Json<PointsRedemption>, ApiError> {
    actor.require_internal()?;
    Ok(Json(l.redeem(&body).await?))
}

/// Give back what a checkout that did not complete took (internal, for checkout).
#[utoipa::path(delete, path = "/internal/v1/loyalty/redemptions/{groupId}", tag = "internal",
    params(("groupId" = Uuid, Path, description = "the checkout's order group")),
    responses((status = 200, body = PointsRedemption), (status = 403, body = Problem)))]
async fn give_back_points(
    State(l): St,
    actor: Actor,
    Path(group_id): Path<Uuid>,
) -> Result<Json<PointsRedemption>, ApiError> {
    actor.require_internal()?;
    Ok(Json(l.give_back(group_id).await?))
}
