//! orders' HTTP face: checkout, reads for customers, merchant staff and admins, status moves,
//! timeline and invoice; and the internal route payments reads what is payable through.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kernel::error::Problem;
use kernel::{Actor, ApiError, Page, Timestamp};
use platform::http::{internal_only, ApiJson, ClassPolicy};
use platform::idempotency;
use platform::ratelimit::RouteClass;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::*;
use crate::invoice::{self, InvoiceContext};
use crate::service::Orders;

type St = State<Arc<Orders>>;

pub fn router(orders: Arc<Orders>) -> OpenApiRouter {
    orders
        .ctx
        .rate_limited(
            OpenApiRouter::new().routes(routes!(checkout, list)),
            ClassPolicy::WritesAs(RouteClass::Checkout),
        )
        .merge(
            orders.ctx.rate_limited(
                OpenApiRouter::new()
                    .routes(routes!(get_order))
                    .routes(routes!(get_group))
                    .routes(routes!(cancel))
                    .routes(routes!(change_status))
                    .routes(routes!(timeline))
                    .routes(routes!(invoice)),
                ClassPolicy::ByMethod,
            ),
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(payable))
                .routes(routes!(parties))
                .layer(axum::middleware::from_fn(internal_only)),
        )
        .with_state(orders)
}

/// Check out the cart (or `lines`): one order per merchant in a group awaiting payment, stock
/// reserved, prices from the catalog. Send an `Idempotency-Key` to retry safely.
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = CheckoutRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry key (kept 24 h)")),
    security(("bearer" = [])),
    responses((status = 201, body = OrderGroup), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn checkout(
    State(o): St,
    actor: Actor,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CheckoutRequest>,
) -> Result<Response, ApiError> {
    o.ctx.require_verified(&actor, "checkout")?;
    let scope = format!("orders:{}", actor.user_id);
    let fingerprint = idempotency::fingerprint(&body);
    // The checkout saga may take up to its timeout before a retry presumes it dead.
    let lease = o.config.saga_timeout_secs;
    let orders = &o;
    idempotency::guard(
        &o.ctx.db,
        &headers,
        &scope,
        &fingerprint,
        lease,
        |attempt| async move {
            let group = orders.checkout(&actor, body, attempt.as_ref()).await?;
            Ok((StatusCode::CREATED, Json(group)).into_response())
        },
    )
    .await
}

/// Orders: a customer's own; with `merchantId`, that merchant's (its staff, admins); admins
/// without it, all. Newest first.
#[utoipa::path(get, path = "/api/v1/orders", operation_id = "list_orders", tag = "orders", params(OrderQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Order>), (status = 403, body = Problem)))]
async fn list(
    State(o): St,
    actor: Actor,
    Query(query): Query<OrderQuery>,
) -> Result<Json<Page<Order>>, ApiError> {
    Ok(Json(o.list(&actor, query).await?))
}

/// One order (its customer, its merchant's staff, admins; anyone else gets 404).
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", params(("id" = Uuid, Path, description = "order id")),
    security(("bearer" = [])), responses((status = 200, body = Order), (status = 404, body = Problem)))]
async fn get_order(
    State(o): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Order>, ApiError> {
    Ok(Json(o.get(&actor, id).await?))
}

/// An order group: what one checkout created and one payment pays (its customer, admins).
#[utoipa::path(get, path = "/api/v1/orders/groups/{id}", tag = "orders",
    params(("id" = Uuid, Path, description = "order group id")), security(("bearer" = [])),
    responses((status = 200, body = OrderGroup), (status = 404, body = Problem)))]
async fn get_group(
    State(o): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<OrderGroup>, ApiError> {
    Ok(Json(o.group(&actor, id).await?))
}

/// Cancel: the customer or merchant until shipped, admins also when shipped. Stock goes back;
/// a paid order is refunded.
#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel", tag = "orders", request_body = CancelRequest,
    params(("id" = Uuid, Path, description = "order id")), security(("bearer" = [])),
    responses((status = 200, body = Order), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
async fn cancel(
    State(o): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<CancelRequest>,
) -> Result<Json<Order>, ApiError> {
    Ok(Json(o.cancel(&actor, id, body.reason).await?))
}

/// Move an order: merchant owner/managers process, ship (with a tracking number), deliver,
/// take returns; customers confirm receipt. Illegal moves answer 409 with `allowedNextStates`.
#[utoipa::path(patch, path = "/api/v1/orders/{id}/status", operation_id = "change_order_status", tag = "orders", request_body = StatusChange,
    params(("id" = Uuid, Path, description = "order id")), security(("bearer" = [])),
    responses((status = 200, body = Order), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
async fn change_status(
    State(o): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<StatusChange>,
) -> Result<Json<Order>, ApiError> {
    Ok(Json(o.change_status(&actor, id, body).await?))
}

/// Every status the order went through, who moved it and why.
#[utoipa::path(get, path = "/api/v1/orders/{id}/timeline", tag = "orders",
    params(("id" = Uuid, Path, description = "order id")), security(("bearer" = [])),
    responses((status = 200, body = Vec<TimelineEntry>), (status = 404, body = Problem)))]
async fn timeline(
    State(o): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<TimelineEntry>>, ApiError> {
    Ok(Json(o.timeline(&actor, id).await?))
}

/// A printable invoice: HTML, or PDF with `?format=pdf` or `Accept: application/pdf`.
#[utoipa::path(get, path = "/api/v1/orders/{id}/invoice", tag = "orders",
    params(("id" = Uuid, Path, description = "order id"), InvoiceQuery), security(("bearer" = [])),
    responses((status = 200, description = "text/html or application/pdf"), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn invoice(
    State(o): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(query): Query<InvoiceQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let wants_pdf = match query.format.as_deref() {
        Some("pdf") => true,
        Some("html") => false,
        Some(_) => return Err(ApiError::validation_one("format", "must be html or pdf")),
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("application/pdf")),
    };
    let (order, group) = o.invoice_data(&actor, id).await?;
    let group_number = group.map(|g| g.number).unwrap_or_default();
    let ctx = InvoiceContext {
        group_number: &group_number,
        issued_at: Timestamp::now(),
    };
    let disposition = |ext: &str| {
        HeaderValue::from_str(&format!(
            "inline; filename=\"invoice-{}.{ext}\"",
            order.number
        ))
        .unwrap_or(HeaderValue::from_static("inline"))
    };
    Ok(if wants_pdf {
        let mut response = invoice::pdf(&order, &ctx).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/pdf"),
        );
        headers.insert(header::CONTENT_DISPOSITION, disposition("pdf"));
        response
    } else {
        let mut response = axum::response::Html(invoice::html(&order, &ctx)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, disposition("html"));
        response
    })
}

/// Who an order is between (internal, for chat).
#[utoipa::path(get, path = "/internal/v1/orders/{id}/parties", tag = "internal",
    params(("id" = Uuid, Path, description = "order id")),
    responses((status = 200, body = OrderParties), (status = 404, body = Problem)))]
async fn parties(
    State(o): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<OrderParties>, ApiError> {
    actor.require_internal()?;
    Ok(Json(o.parties(id).await?))
}

/// What a payment of the group must collect (internal, for payments).
#[utoipa::path(get, path = "/internal/v1/orders/groups/{id}/payable", tag = "internal",
    params(("id" = Uuid, Path, description = "order group id")),
    responses((status = 200, body = Payable), (status = 404, body = Problem)))]
async fn payable(
    State(o): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Payable>, ApiError> {
    actor.require_internal()?;
    Ok(Json(o.payable(id).await?))
}
