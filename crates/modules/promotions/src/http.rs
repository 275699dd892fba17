//! promotions' HTTP face: campaigns and promotions for their managers, coupon codes and their
//! export, coupon validation for customers, analytics, and the internal routes cart and
//! checkout price and reserve through.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kernel::error::Problem;
use kernel::{Actor, ApiError};
use platform::http::{internal_only, ApiJson, ClassPolicy};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::*;
use crate::service::Promotions;

type St = State<Arc<Promotions>>;

pub fn router(promotions: Arc<Promotions>) -> OpenApiRouter {
    promotions
        .ctx
        .rate_limited(
            OpenApiRouter::new()
                .routes(routes!(list_campaigns, create_campaign))
                .routes(routes!(get_campaign, update_campaign))
                .routes(routes!(move_campaign))
                .routes(routes!(list_promotions, create_promotion))
                .routes(routes!(get_promotion, update_promotion, delete_promotion))
                .routes(routes!(list_codes, generate_codes))
                .routes(routes!(validate_coupon))
                .routes(routes!(admin_analytics))
                .routes(routes!(merchant_analytics)),
            ClassPolicy::ByMethod,
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(quote_promotions))
                .routes(routes!(reserve_promotions))
                .routes(routes!(release_promotions))
                .layer(axum::middleware::from_fn(internal_only)),
        )
        .with_state(promotions)
}

/// Campaigns the caller manages: an admin's (all, or one merchant's), or their merchant's.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "promotions", params(CampaignQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<Campaign>), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn list_campaigns(
    State(p): St,
    actor: Actor,
    Query(query): Query<CampaignQuery>,
) -> Result<Json<Vec<Campaign>>, ApiError> {
    Ok(Json(p.campaigns(&actor, &query).await?))
}

/// Start a campaign as a DRAFT: the platform's (admins) or a merchant's (its owner or a
/// manager).
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "promotions", request_body = CampaignInput,
    security(("bearer" = [])),
    responses((status = 201, body = Campaign), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_campaign(
    State(p): St,
    actor: Actor,
    ApiJson(body): ApiJson<CampaignInput>,
) -> Result<(StatusCode, Json<Campaign>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(p.create_campaign(&actor, body).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "promotions",
    params(("id" = Uuid, Path, description = "campaign")), security(("bearer" = [])),
    responses((status = 200, body = Campaign), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_campaign(
    State(p): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(p.campaign(&actor, id).await?))
}

/// Edit a campaign that has not ended (its budget never below what was used).
#[utoipa::path(put, path = "/api/v1/campaigns/{id}", tag = "promotions", request_body = CampaignInput,
    params(("id" = Uuid, Path, description = "campaign")), security(("bearer" = [])),
    responses((status = 200, body = Campaign), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_campaign(
    State(p): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<CampaignInput>,
) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(p.update_campaign(&actor, id, body).await?))
}

/// Move a campaign: schedule (it runs once its start has come), pause, resume, end.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/status", tag = "promotions",
    request_body = CampaignStatusChange,
    params(("id" = Uuid, Path, description = "campaign")), security(("bearer" = [])),
    responses((status = 200, body = Campaign), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn move_campaign(
    State(p): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<CampaignStatusChange>,
) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(p.move_campaign(&actor, id, body.status).await?))
}

#[utoipa::path(get, path = "/api/v1/promotions", tag = "promotions", params(PromotionQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<Promotion>), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn list_promotions(
    State(p): St,
    actor: Actor,
    Query(query): Query<PromotionQuery>,
) -> Result<Json<Vec<Promotion>>, ApiError> {
    Ok(Json(p.promotions(&actor, &query).await?))
}

/// Add a promotion to a campaign; its rules are checked, and the items they name must exist
/// (and be the merchant's own, for a merchant's campaign).
#[utoipa::path(post, path = "/api/v1/promotions", tag = "promotions", request_body = PromotionInput,
    security(("bearer" = [])),
    responses((status = 201, body = Promotion), (status = 401, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_promotion(
    State(p): St,
    actor: Actor,
    ApiJson(body): ApiJson<PromotionInput>,
) -> Result<(StatusCode, Json<Promotion>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(p.create_promotion(&actor, body).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/promotions/{id}", tag = "promotions",
    params(("id" = Uuid, Path, description = "promotion")), security(("bearer" = [])),
    responses((status = 200, body = Promotion), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_promotion(
    State(p): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Promotion>, ApiError> {
    Ok(Json(p.promotion(&actor, id).await?))
}

#[utoipa::path(put, path = "/api/v1/promotions/{id}", tag = "promotions", request_body = PromotionInput,
    params(("id" = Uuid, Path, description = "promotion")), security(("bearer" = [])),
    responses((status = 200, body = Promotion), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_promotion(
    State(p): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<PromotionInput>,
) -> Result<Json<Promotion>, ApiError> {
    Ok(Json(p.update_promotion(&actor, id, body).await?))
}

/// Stop a promotion at once; checkouts that already reserved it keep their discount.
#[utoipa::path(delete, path = "/api/v1/promotions/{id}", tag = "promotions",
    params(("id" = Uuid, Path, description = "promotion")), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
async fn delete_promotion(
    State(p): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    p.delete_promotion(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CodesQuery {
    /// `json` (default) or `csv`; `Accept: text/csv` also selects CSV.
    format: Option<String>,
}

/// A promotion's codes with their uses, as JSON or CSV (`code,usage_limit,uses`).
#[utoipa::path(get, path = "/api/v1/promotions/{id}/codes", tag = "promotions", params(
        ("id" = Uuid, Path, description = "promotion"), CodesQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<CouponCode>, content_type = "application/json"),
        (status = 200, body = String, content_type = "text/csv"),
        (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn list_codes(
    State(p): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(query): Query<CodesQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let wants_csv = match query.format.as_deref() {
        Some("csv") => true,
        Some("json") => false,
        Some(_) => return Err(ApiError::validation_one("format", "must be json or csv")),
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv")),
    };
    let codes = p.codes(&actor, id).await?;
    if !wants_csv {
        return Ok(Json(codes).into_response());
    }
    let mut csv = String::from("code,usage_limit,uses\n");
    for c in &codes {
        let limit = c.usage_limit.map(|l| l.to_string()).unwrap_or_default();
        csv.push_str(&format!("{},{},{}\n", c.code, limit, c.uses));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"codes-{id}.csv\""),
            ),
        ],
        csv,
    )
        .into_response())
}

/// Generate unique codes for a CODE promotion from a pattern (`#`: a random character).
#[utoipa::path(post, path = "/api/v1/promotions/{id}/codes", tag = "promotions", request_body = GenerateCodes,
    params(("id" = Uuid, Path, description = "promotion")), security(("bearer" = [])),
    responses((status = 201, body = GeneratedCodes), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn generate_codes(
    State(p): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<GenerateCodes>,
) -> Result<(StatusCode, Json<GeneratedCodes>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(p.generate_codes(&actor, id, body).await?),
    ))
}

/// Whether a code applies and what it takes off the given lines, or why not (a stable
/// `reason`). Without lines, only the code's own state is checked.
#[utoipa::path(post, path = "/api/v1/coupons/validate", tag = "promotions", request_body = ValidateCoupon,
    security(("bearer" = [])),
    responses((status = 200, body = CouponCheck), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn validate_coupon(
    State(p): St,
    actor: Actor,
    ApiJson(body): ApiJson<ValidateCoupon>,
) -> Result<Json<CouponCheck>, ApiError> {
    Ok(Json(p.validate_coupon(&actor, body).await?))
}

/// Every promotion's uses, customers, discount by bearer, revenue and ROI (admins).
#[utoipa::path(get, path = "/api/v1/admin/analytics/promotions", tag = "promotions",
    security(("bearer" = [])),
    responses((status = 200, body = PromotionAnalytics), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn admin_analytics(State(p): St, actor: Actor) -> Result<Json<PromotionAnalytics>, ApiError> {
    Ok(Json(p.analytics(&actor, None).await?))
}

/// One merchant's promotions' figures (its owner and managers).
#[utoipa::path(get, path = "/api/v1/merchants/{id}/analytics/promotions", tag = "promotions",
    params(("id" = Uuid, Path, description = "merchant")), security(("bearer" = [])),
    responses((status = 200, body = PromotionAnalytics), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn merchant_analytics(
    State(p): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<PromotionAnalytics>, ApiError> {
    Ok(Json(p.analytics(&actor, Some(id)).await?))
}

/// The discounts of lines (internal, for cart and checkout).
#[utoipa::path(post, path = "/internal/v1/promotions/quote", tag = "internal", request_body = QuoteRequest,
    responses((status = 200, body = Quote), (status = 403, body = Problem)))]
async fn quote_promotions(
    State(p): St,
    actor: Actor,
    Json(body): Json<QuoteRequest>,
) -> Result<Json<Quote>, ApiError> {
    actor.require_internal()?;
    Ok(Json(p.quote(&body).await?))
}

/// Reserve a checkout's promotions, all or nothing (internal, for checkout).
#[utoipa::path(post, path = "/internal/v1/promotions/reservations", tag = "internal", request_body = ReservePromotions,
    responses((status = 200, body = PromotionReservation), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn reserve_promotions(
    State(p): St,
    actor: Actor,
    Json(body): Json<ReservePromotions>,
) -> Result<Json<PromotionReservation>, ApiError> {
    actor.require_internal()?;
    Ok(Json(p.reserve(&body).await?))
}

/// Release what a checkout that did not complete reserved (internal, for checkout).
#[utoipa::path(delete, path = "/internal/v1/promotions/reservations/{groupId}", tag = "internal",
    params(("groupId" = Uuid, Path, description = "the checkout's order group")),
    responses((status = 200, body = PromotionReservation), (status = 403, body = Problem)))]
async fn release_promotions(
    State(p): St,
    actor: Actor,
    Path(group_id): Path<Uuid>,
) -> Result<Json<PromotionReservation>, ApiError> {
    actor.require_internal()?;
    Ok(Json(p.release(group_id).await?))
}
