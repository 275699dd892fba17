//! inventory's HTTP face: stock of a SKU, adjustments, alerts, the movement ledger, and the
//! internal reservation routes behind the typed client.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::Json;
use kernel::error::Problem;
use kernel::{Actor, ApiError, MerchantPermission, Page, PageQuery, Permission};
use platform::http::{internal_only, ApiJson, ClassPolicy};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::*;
use crate::domain::Step;
use crate::service::{merchant_for, Inventory};

type St = State<Arc<Inventory>>;

pub fn router(inventory: Arc<Inventory>) -> OpenApiRouter {
    inventory
        .ctx
        .rate_limited(
            OpenApiRouter::new()
                .routes(routes!(alerts))
                .routes(routes!(get_stock, change_stock))
                .routes(routes!(movements)),
            ClassPolicy::ByMethod,
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(availability))
                .routes(routes!(reserve))
                .routes(routes!(confirm))
                .routes(routes!(release))
                .routes(routes!(return_stock))
                .layer(axum::middleware::from_fn(internal_only)),
        )
        .with_state(inventory)
}

/// Stock of a SKU, per location and in total (merchant staff, admins).
#[utoipa::path(get, path = "/api/v1/inventory/{sku}", tag = "inventory",
    params(("sku" = String, Path, description = "SKU"), MerchantScope), security(("bearer" = [])),
    responses((status = 200, body = StockLevel), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_stock(
    State(i): St,
    actor: Actor,
    Path(sku): Path<String>,
    Query(scope): Query<MerchantScope>,
) -> Result<Json<StockLevel>, ApiError> {
    let merchant_id = merchant_for(&actor, scope.merchant_id, MerchantPermission::ViewInternal)?;
    Ok(Json(i.level(merchant_id, &sku).await?))
}

/// Set (`onHand`) or adjust (`delta`) stock at a location, with a reason; and/or set the
/// low-stock threshold (owner, manager).
#[utoipa::path(put, path = "/api/v1/inventory/{sku}", tag = "inventory", request_body = StockChange,
    params(("sku" = String, Path, description = "SKU")), security(("bearer" = [])),
    responses((status = 200, body = StockLevel), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn change_stock(
    State(i): St,
    actor: Actor,
    Path(sku): Path<String>,
    ApiJson(body): ApiJson<StockChange>,
) -> Result<Json<StockLevel>, ApiError> {
    let merchant_id = merchant_for(&actor, body.merchant_id, MerchantPermission::ManageStock)?;
    Ok(Json(i.change(&actor, merchant_id, &sku, body).await?))
}

/// SKUs whose available stock is under their threshold (the actor's merchant; admins: all,
/// or `merchantId`).
#[utoipa::path(get, path = "/api/v1/inventory/alerts", tag = "inventory", params(MerchantScope),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<LowStockAlert>), (status = 403, body = Problem)))]
async fn alerts(
    State(i): St,
    actor: Actor,
    Query(scope): Query<MerchantScope>,
) -> Result<Json<Vec<LowStockAlert>>, ApiError> {
    let merchant_id = if scope.merchant_id.is_none() && actor.can(Permission::AdminCatalog) {
        None
    } else {
        Some(merchant_for(
            &actor,
            scope.merchant_id,
            MerchantPermission::ViewInternal,
        )?)
    };
    Ok(Json(i.alerts(merchant_id).await?))
}

/// The movement ledger of a SKU, oldest first.
#[utoipa::path(get, path = "/api/v1/inventory/{sku}/movements", tag = "inventory",
    params(("sku" = String, Path, description = "SKU"), MerchantScope, PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Movement>), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn movements(
    State(i): St,
    actor: Actor,
    Path(sku): Path<String>,
    Query(scope): Query<MerchantScope>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<Movement>>, ApiError> {
    let merchant_id = merchant_for(&actor, scope.merchant_id, MerchantPermission::ViewInternal)?;
    let limit = page.limit();
    let items = i
        .movements(merchant_id, &sku, page.id_cursor()?, limit + 1)
        .await?;
    Ok(Json(Page::from_overfetch(items, limit, |m| {
        m.id.to_string()
    })))
}

/// What each SKU could give one line now (internal; at most 200 SKUs).
#[utoipa::path(post, path = "/internal/v1/inventory/availability", tag = "internal", request_body = AvailabilityQuery,
    responses((status = 200, body = Vec<Availability>), (status = 422, body = Problem)))]
async fn availability(
    State(i): St,
    actor: Actor,
    ApiJson(body): ApiJson<AvailabilityQuery>,
) -> Result<Json<Vec<Availability>>, ApiError> {
    actor.require_internal()?;
    Ok(Json(i.availability(body.items).await?))
}

/// Reserve every line or none (internal; idempotent by `reservationId`).
#[utoipa::path(post, path = "/internal/v1/inventory/reservations", tag = "internal", request_body = ReserveRequest,
    responses((status = 200, body = Reservation), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn reserve(
    State(i): St,
    actor: Actor,
    ApiJson(body): ApiJson<ReserveRequest>,
) -> Result<Json<Reservation>, ApiError> {
    actor.require_internal()?;
    Ok(Json(i.reserve(body).await?))
}

async fn step(
    i: &Inventory,
    actor: &Actor,
    id: Uuid,
    step: Step,
) -> Result<Json<Reservation>, ApiError> {
    actor.require_internal()?;
    Ok(Json(i.step(id, step).await?))
}

/// Sell the reserved units (internal; idempotent).
#[utoipa::path(post, path = "/internal/v1/inventory/reservations/{id}/confirm", tag = "internal",
    params(("id" = Uuid, Path, description = "Reservation id")),
    responses((status = 200, body = Reservation), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn confirm(
    State(i): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Reservation>, ApiError> {
    step(&i, &actor, id, Step::Confirm).await
}

/// Give the reserved units back (internal; idempotent).
#[utoipa::path(post, path = "/internal/v1/inventory/reservations/{id}/release", tag = "internal",
    params(("id" = Uuid, Path, description = "Reservation id")),
    responses((status = 200, body = Reservation), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn release(
    State(i): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Reservation>, ApiError> {
    step(&i, &actor, id, Step::Release).await
}

/// Put sold units back on hand (internal; idempotent).
#[utoipa::path(post, path = "/internal/v1/inventory/reservations/{id}/return", tag = "internal",
    params(("id" = Uuid, Path, description = "Reservation id")),
    responses((status = 200, body = Reservation), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn return_stock(
    State(i): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Reservation>, ApiError> {
    step(&i, &actor, id, Step::Return).await
}
