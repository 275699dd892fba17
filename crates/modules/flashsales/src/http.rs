//! flash sales' HTTP face: sales for their managers, the public list and availability, and
//! the internal routes cart and checkout price and take units through.

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
use crate::service::FlashSales;

type St = State<Arc<FlashSales>>;

pub fn router(sales: Arc<FlashSales>) -> OpenApiRouter {
    sales
        .ctx
        .rate_limited(
            OpenApiRouter::new()
                .routes(routes!(list_sales, create_sale))
                .routes(routes!(get_sale, update_sale))
                .routes(routes!(end_sale))
                .routes(routes!(sale_availability)),
            ClassPolicy::ByMethod,
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(live_prices))
                .routes(routes!(take_units))
                .routes(routes!(release_units))
                .layer(axum::middleware::from_fn(internal_only)),
        )
        .with_state(sales)
}

/// Live and upcoming sales with countdowns (public), or with `managed=true` the sales the
/// caller manages, ended ones included.
#[utoipa::path(get, path = "/api/v1/flash-sales", tag = "flashsales", params(FlashSaleQuery),
    responses((status = 200, body = Vec<FlashSale>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn list_sales(
    State(s): St,
    actor: Option<Actor>,
    Query(query): Query<FlashSaleQuery>,
) -> Result<Json<Vec<FlashSale>>, ApiError> {
    Ok(Json(s.sales(actor.as_ref(), &query).await?))
}

/// Set up a sale: a merchant's (its owner or a manager) for its own variants, or the
/// platform's (admins) for any.
#[utoipa::path(post, path = "/api/v1/flash-sales", tag = "flashsales", request_body = FlashSaleInput,
    security(("bearer" = [])),
    responses((status = 201, body = FlashSale), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_sale(
    State(s): St,
    actor: Actor,
    ApiJson(body): ApiJson<FlashSaleInput>,
) -> Result<(StatusCode, Json<FlashSale>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.create_sale(&actor, body).await?),
    ))
}

/// One sale: public until it ends; its managers see it always.
#[utoipa::path(get, path = "/api/v1/flash-sales/{id}", tag = "flashsales",
    params(("id" = Uuid, Path, description = "flash sale")),
    responses((status = 200, body = FlashSale), (status = 404, body = Problem)))]
async fn get_sale(
    State(s): St,
    actor: Option<Actor>,
    Path(id): Path<Uuid>,
) -> Result<Json<FlashSale>, ApiError> {
    Ok(Json(s.sale(actor.as_ref(), id).await?))
}

/// Change a sale: anything before its start; after it, only `endsAt`, brought forward.
#[utoipa::path(put, path = "/api/v1/flash-sales/{id}", tag = "flashsales", request_body = FlashSaleUpdate,
    params(("id" = Uuid, Path, description = "flash sale")), security(("bearer" = [])),
    responses((status = 200, body = FlashSale), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_sale(
    State(s): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<FlashSaleUpdate>,
) -> Result<Json<FlashSale>, ApiError> {
    Ok(Json(s.update_sale(&actor, id, body).await?))
}

/// End a sale now; units already held by checkouts stay theirs.
#[utoipa::path(post, path = "/api/v1/flash-sales/{id}/end", tag = "flashsales",
    params(("id" = Uuid, Path, description = "flash sale")), security(("bearer" = [])),
    responses((status = 200, body = FlashSale), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
async fn end_sale(
    State(s): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<FlashSale>, ApiError> {
    Ok(Json(s.end_sale(&actor, id).await?))
}

/// Units left per item, with the server's clock for countdowns (public).
#[utoipa::path(get, path = "/api/v1/flash-sales/{id}/availability", tag = "flashsales",
    params(("id" = Uuid, Path, description = "flash sale")),
    responses((status = 200, body = FlashSaleAvailability), (status = 404, body = Problem)))]
async fn sale_availability(
    State(s): St,
    Path(id): Path<Uuid>,
) -> Result<Json<FlashSaleAvailability>, ApiError> {
    Ok(Json(s.availability(id).await?))
}

/// Live sale prices of variants (internal, for cart).
#[utoipa::path(post, path = "/internal/v1/flashsales/prices", tag = "internal", request_body = LivePricesRequest,
    responses((status = 200, body = Vec<LivePrice>), (status = 403, body = Problem)))]
async fn live_prices(
    State(s): St,
    actor: Actor,
    Json(body): Json<LivePricesRequest>,
) -> Result<Json<Vec<LivePrice>>, ApiError> {
    actor.require_internal()?;
    Ok(Json(s.live_prices(&body.variant_ids).await?))
}

/// Take a checkout's sale units, all or none (internal, checkout's first step).
#[utoipa::path(post, path = "/internal/v1/flashsales/holds", tag = "internal", request_body = TakeRequest,
    responses((status = 200, body = Taken), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn take_units(
    State(s): St,
    actor: Actor,
    Json(body): Json<TakeRequest>,
) -> Result<Json<Taken>, ApiError> {
    actor.require_internal()?;
    Ok(Json(s.take(&body).await?))
}

/// Give back what a checkout that did not complete took (internal, for checkout).
#[utoipa::path(delete, path = "/internal/v1/flashsales/holds/{groupId}", tag = "internal",
    params(("groupId" = Uuid, Path, description = "the checkout's order group")),
    responses((status = 200, body = Released), (status = 403, body = Problem)))]
async fn release_units(
    State(s): St,
    actor: Actor,
    Path(group_id): Path<Uuid>,
) -> Result<Json<Released>, ApiError> {
    actor.require_internal()?;
    Ok(Json(s.release(group_id).await?))
}
