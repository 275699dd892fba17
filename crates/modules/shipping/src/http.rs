//! shipping's HTTP face: couriers and quotes, admins' rate tables, merchants' couriers,
//! shipments with their tracking and labels, courier webhooks (raw body, signed), the internal
//! quote for orders and cart, and the simulator's advance in development.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kernel::error::Problem;
use kernel::{Actor, ApiError};
use platform::http::{internal_only, ApiJson, ClassPolicy};
use platform::ratelimit::RouteClass;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::*;
use crate::domain::SIGNATURE_HEADER;
use crate::service::Shipping;

type St = State<Arc<Shipping>>;

pub fn router(shipping: Arc<Shipping>) -> OpenApiRouter {
    let ctx = &shipping.ctx;
    let mut router = ctx
        .rate_limited(
            OpenApiRouter::new()
                .routes(routes!(list_couriers))
                .routes(routes!(get_courier_rates, replace_courier_rates))
                .routes(routes!(get_merchant_couriers, set_merchant_couriers))
                .routes(routes!(get_shipment))
                .routes(routes!(get_order_shipment))
                .routes(routes!(get_tracking))
                .routes(routes!(get_label)),
            ClassPolicy::ByMethod,
        )
        // A quote reads: it counts as a read, not against the tight budget of writes.
        .merge(ctx.rate_limited(
            OpenApiRouter::new().routes(routes!(quote_rates)),
            ClassPolicy::Fixed(RouteClass::PublicRead),
        ))
        // Couriers are not end users: their webhooks are verified by signature, not limited.
        .merge(OpenApiRouter::new().routes(routes!(courier_webhook)))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(internal_rates))
                .layer(axum::middleware::from_fn(internal_only)),
        );
    if shipping.config.simulator.enabled {
        router = router.merge(OpenApiRouter::new().routes(routes!(simulator_advance)));
    }
    router.with_state(shipping)
}

/// The couriers customers may be offered, with their services (`?country=ID`: one country's).
#[utoipa::path(get, path = "/api/v1/shipping/couriers", tag = "shipping", params(CourierQuery),
    responses((status = 200, body = Vec<Courier>)))]
async fn list_couriers(
    State(s): St,
    Query(query): Query<CourierQuery>,
) -> Result<Json<Vec<Courier>>, ApiError> {
    Ok(Json(s.couriers(&query).await?))
}

/// Quote shipping: per merchant's parcel, the options of the couriers it ships with to the
/// destination (or the signed-in customer's saved address), cheapest first, in minor units of
/// the currency. Prices come from the rate tables and the catalog's weights, never from the
/// request.
#[utoipa::path(post, path = "/api/v1/shipping/rates", tag = "shipping", request_body = RateRequest,
    responses((status = 200, body = RateQuote), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn quote_rates(
    State(s): St,
    actor: Option<Actor>,
    ApiJson(body): ApiJson<RateRequest>,
) -> Result<Json<RateQuote>, ApiError> {
    Ok(Json(s.public_rates(actor.as_ref(), body).await?))
}

/// The same quote for orders and cart (internal).
#[utoipa::path(post, path = "/internal/v1/shipping/rates", tag = "internal", request_body = RateQuery,
    responses((status = 200, body = RateQuote), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn internal_rates(
    State(s): St,
    actor: Actor,
    ApiJson(body): ApiJson<RateQuery>,
) -> Result<Json<RateQuote>, ApiError> {
    actor.require_internal()?;
    Ok(Json(s.internal_rates(body).await?))
}

/// A courier's full rate table (admins, `admin:orders`).
#[utoipa::path(get, path = "/api/v1/admin/shipping/couriers/{code}/rates", tag = "shipping-admin",
    params(("code" = String, Path, description = "Courier code, e.g. JNE")), security(("bearer" = [])),
    responses((status = 200, body = CourierRates), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn get_courier_rates(
    State(s): St,
    actor: Actor,
    Path(code): Path<String>,
) -> Result<Json<CourierRates>, ApiError> {
    Ok(Json(s.courier_rates(&actor, &code).await?))
}

/// Replace a courier's rate table as a whole (admins). Refused with `invalid_rate_table` and
/// every problem listed when brackets overlap or leave gaps, an amount is not positive, a
/// same-day service leaves the city, ...; a refused table changes nothing.
#[utoipa::path(put, path = "/api/v1/admin/shipping/couriers/{code}/rates", tag = "shipping-admin",
    request_body = RateTable, params(("code" = String, Path, description = "Courier code, e.g. JNE")),
    security(("bearer" = [])),
    responses((status = 200, body = CourierRates), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn replace_courier_rates(
    State(s): St,
    actor: Actor,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<RateTable>,
) -> Result<Json<CourierRates>, ApiError> {
    Ok(Json(s.replace_rates(&actor, &code, body).await?))
}

/// The couriers a merchant ships with (until it chooses: every active courier of its country).
#[utoipa::path(get, path = "/api/v1/merchants/{id}/shipping/couriers", tag = "shipping",
    params(("id" = Uuid, Path, description = "Merchant id")),
    responses((status = 200, body = MerchantCouriers), (status = 404, body = Problem)))]
async fn get_merchant_couriers(
    State(s): St,
    Path(id): Path<Uuid>,
) -> Result<Json<MerchantCouriers>, ApiError> {
    Ok(Json(s.merchant_couriers(id).await?))
}

/// Choose the couriers a merchant ships with, among the active couriers of its country (its
/// owner or managers, or an admin).
#[utoipa::path(put, path = "/api/v1/merchants/{id}/shipping/couriers", tag = "shipping",
    request_body = MerchantCouriersInput, params(("id" = Uuid, Path, description = "Merchant id")),
    security(("bearer" = [])),
    responses((status = 200, body = MerchantCouriers), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn set_merchant_couriers(
    State(s): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<MerchantCouriersInput>,
) -> Result<Json<MerchantCouriers>, ApiError> {
    Ok(Json(s.set_merchant_couriers(&actor, id, body).await?))
}

/// A shipment: to the order's customer, the merchant's staff and admins.
#[utoipa::path(get, path = "/api/v1/shipments/{id}", tag = "shipping",
    params(("id" = Uuid, Path, description = "Shipment id")), security(("bearer" = [])),
    responses((status = 200, body = Shipment), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_shipment(
    State(s): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Shipment>, ApiError> {
    Ok(Json(s.shipment(&actor, id).await?))
}

/// The shipment of an order, once the merchant shipped it.
#[utoipa::path(get, path = "/api/v1/orders/{id}/shipment", tag = "shipping",
    params(("id" = Uuid, Path, description = "Order id")), security(("bearer" = [])),
    responses((status = 200, body = Shipment), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_order_shipment(
    State(s): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Shipment>, ApiError> {
    Ok(Json(s.shipment_of_order(&actor, id).await?))
}

/// The tracking timeline, in the order things happened (reports that came too late to move
/// the shipment are kept with `applied: false`).
#[utoipa::path(get, path = "/api/v1/shipments/{id}/tracking", tag = "shipping",
    params(("id" = Uuid, Path, description = "Shipment id")), security(("bearer" = [])),
    responses((status = 200, body = Tracking), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_tracking(
    State(s): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Tracking>, ApiError> {
    Ok(Json(s.tracking(&actor, id).await?))
}

/// The shipping label: one A6 page of PDF with the Code 128 barcode and QR code of the
/// tracking number (the merchant's staff and admins).
#[utoipa::path(get, path = "/api/v1/shipments/{id}/label", tag = "shipping",
    params(("id" = Uuid, Path, description = "Shipment id")), security(("bearer" = [])),
    responses((status = 200, description = "application/pdf"), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_label(State(s): St, actor: Actor, Path(id): Path<Uuid>) -> Result<Response, ApiError> {
    let (shipment, pdf) = s.label(&actor, id).await?;
    let mut response = pdf.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    let name: String = shipment
        .tracking_number
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("inline; filename=\"label-{name}.pdf\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// A courier reports a shipment's progress. Signed: `X-Pasar-Signature: t=<unix seconds>,
/// v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with the courier's secret; a timestamp outside
/// the tolerance is refused; each `eventId` is applied once; a report never moves a shipment
/// back.
#[utoipa::path(post, path = "/api/v1/shipping/webhook/{courier}", tag = "shipping",
    params(("courier" = String, Path, description = "Courier code, e.g. JNE"),
        ("X-Pasar-Signature" = String, Header, description = "t=<unix seconds>,v1=<hex HMAC-SHA256>")),
    request_body(content = CourierUpdate, description = "the courier's report, signed as sent"),
    responses((status = 200, body = TrackingAck), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn courier_webhook(
    State(s): St,
    Path(courier): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<TrackingAck>, ApiError> {
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok());
    Ok(Json(s.webhook(&courier, signature, &body).await?))
}

/// The simulator courier reports the shipment's next step (`?to=` another status). Development
/// only (`shipping.simulator.enabled`); anyone may call it, as a courier would.
#[utoipa::path(post, path = "/api/v1/shipping/simulator/{id}/advance", tag = "shipping-simulator",
    params(("id" = Uuid, Path, description = "Shipment id"), AdvanceQuery),
    responses((status = 200, body = Shipment), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn simulator_advance(
    State(s): St,
    Path(id): Path<Uuid>,
    Query(query): Query<AdvanceQuery>,
) -> Result<Json<Shipment>, ApiError> {
    Ok(Json(s.advance(id, query.to).await?))
}
