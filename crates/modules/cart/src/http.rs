//! cart's HTTP face: the caller's cart (customer, or guest by `X-Cart-Token`), and the
//! internal routes checkout reads it through.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kernel::error::Problem;
use kernel::{Actor, ApiError};
use platform::http::{internal_only, ApiJson, ClassPolicy};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::*;
use crate::service::{Caller, Cart};

type St = State<Arc<Cart>>;

pub fn router(cart: Arc<Cart>) -> OpenApiRouter {
    cart.ctx
        .rate_limited(
            OpenApiRouter::new()
                .routes(routes!(get_cart, clear_cart))
                .routes(routes!(add_item))
                .routes(routes!(update_item, remove_item))
                .routes(routes!(merge))
                .routes(routes!(validate))
                .routes(routes!(summary))
                .routes(routes!(add_coupon))
                .routes(routes!(remove_coupon)),
            ClassPolicy::ByMethod,
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(contents))
                .layer(axum::middleware::from_fn(internal_only)),
        )
        .with_state(cart)
}

/// The caller of a cart route: the signed-in person, if any, and the guest cart token sent.
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(CART_TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        Ok(Caller {
            actor: parts.extensions.get::<Actor>().cloned(),
            token,
        })
    }
}

/// The cart as JSON, with a new guest cart's token also in `X-Cart-Token`.
fn cart_response(view: CartView) -> Response {
    let header = view
        .cart_token
        .as_deref()
        .and_then(|t| HeaderValue::from_str(t).ok());
    let mut response = Json(view).into_response();
    if let Some(value) = header {
        response.headers_mut().insert(CART_TOKEN_HEADER, value);
    }
    response
}

/// The caller's cart with current prices. A signed-in customer sending a guest
/// `X-Cart-Token` gets that cart merged into theirs.
#[utoipa::path(get, path = "/api/v1/cart", tag = "cart",
    params(("X-Cart-Token" = Option<String>, Header, description = "guest cart token")),
    responses((status = 200, body = CartView), (status = 404, body = Problem)))]
async fn get_cart(State(c): St, caller: Caller) -> Result<Response, ApiError> {
    Ok(cart_response(c.view(&caller).await?))
}

/// Empty the cart.
#[utoipa::path(delete, path = "/api/v1/cart", tag = "cart",
    params(("X-Cart-Token" = Option<String>, Header, description = "guest cart token")),
    responses((status = 200, body = CartView), (status = 404, body = Problem)))]
async fn clear_cart(State(c): St, caller: Caller) -> Result<Response, ApiError> {
    Ok(cart_response(c.clear(&caller).await?))
}

/// Add units of a variant. Without a cart yet, a guest gets a new one and its token in
/// `X-Cart-Token` (and `cartToken`).
#[utoipa::path(post, path = "/api/v1/cart/items", tag = "cart", request_body = AddItem,
    params(("X-Cart-Token" = Option<String>, Header, description = "guest cart token")),
    responses((status = 200, body = CartView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn add_item(
    State(c): St,
    caller: Caller,
    ApiJson(body): ApiJson<AddItem>,
) -> Result<Response, ApiError> {
    Ok(cart_response(c.add(&caller, body).await?))
}

/// Set a line's quantity (the line takes the current price).
#[utoipa::path(put, path = "/api/v1/cart/items/{id}", tag = "cart", request_body = UpdateItem,
    params(("id" = Uuid, Path, description = "cart item id"),
        ("X-Cart-Token" = Option<String>, Header, description = "guest cart token")),
    responses((status = 200, body = CartView), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_item(
    State(c): St,
    caller: Caller,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<UpdateItem>,
) -> Result<Response, ApiError> {
    Ok(cart_response(c.update(&caller, id, body).await?))
}

/// Remove a line.
#[utoipa::path(delete, path = "/api/v1/cart/items/{id}", tag = "cart",
    params(("id" = Uuid, Path, description = "cart item id"),
        ("X-Cart-Token" = Option<String>, Header, description = "guest cart token")),
    responses((status = 200, body = CartView), (status = 404, body = Problem)))]
async fn remove_item(
    State(c): St,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    Ok(cart_response(c.remove(&caller, id).await?))
}

/// Merge the guest cart named by `X-Cart-Token` into the signed-in customer's cart.
#[utoipa::path(post, path = "/api/v1/cart/merge", tag = "cart",
    params(("X-Cart-Token" = String, Header, description = "guest cart token")),
    security(("bearer" = [])),
    responses((status = 200, body = CartView), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn merge(State(c): St, caller: Caller) -> Result<Response, ApiError> {
    Ok(cart_response(c.merge_explicit(&caller).await?))
}

/// What would stop checkout now, per line: gone, not for sale, repriced, out of stock.
#[utoipa::path(post, path = "/api/v1/cart/validate", tag = "cart",
    params(("X-Cart-Token" = Option<String>, Header, description = "guest cart token")),
    responses((status = 200, body = Validation), (status = 404, body = Problem)))]
async fn validate(State(c): St, caller: Caller) -> Result<Json<Validation>, ApiError> {
    Ok(Json(c.validate(&caller).await?))
}

/// Lines grouped by merchant with subtotals, the discounts of promotions (automatic ones and
/// the codes entered, with the reason a code does not apply), and shipping: per merchant the
/// cheapest option to the customer's address (`addressId`, else their primary address).
#[utoipa::path(get, path = "/api/v1/cart/summary", tag = "cart",
    params(("X-Cart-Token" = Option<String>, Header, description = "guest cart token"), SummaryQuery),
    responses((status = 200, body = CartSummary), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn summary(
    State(c): St,
    caller: Caller,
    Query(query): Query<SummaryQuery>,
) -> Result<Json<CartSummary>, ApiError> {
    Ok(Json(c.summary(&caller, query.address_id).await?))
}

/// Enter a coupon code. The answer is the summary: whether the code applies, what it takes
/// off, or why not.
#[utoipa::path(post, path = "/api/v1/cart/coupons", tag = "cart", request_body = AddCoupon,
    params(("X-Cart-Token" = Option<String>, Header, description = "guest cart token")),
    responses((status = 200, body = CartSummary), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn add_coupon(
    State(c): St,
    caller: Caller,
    ApiJson(body): ApiJson<AddCoupon>,
) -> Result<Json<CartSummary>, ApiError> {
    Ok(Json(c.add_coupon(&caller, body).await?))
}

/// Remove a coupon code; the answer is the summary without it.
#[utoipa::path(delete, path = "/api/v1/cart/coupons/{code}", tag = "cart",
    params(("code" = String, Path, description = "coupon code"),
        ("X-Cart-Token" = Option<String>, Header, description = "guest cart token")),
    responses((status = 200, body = CartSummary), (status = 404, body = Problem)))]
async fn remove_coupon(
    State(c): St,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<CartSummary>, ApiError> {
    Ok(Json(c.remove_coupon(&caller, &code).await?))
}

/// A customer's cart lines (internal, for checkout).
#[utoipa::path(get, path = "/internal/v1/cart/{customerId}", tag = "internal",
    params(("customerId" = Uuid, Path, description = "customer")),
    responses((status = 200, body = CartContents)))]
async fn contents(
    State(c): St,
    actor: Actor,
    Path(customer_id): Path<Uuid>,
) -> Result<Json<CartContents>, ApiError> {
    actor.require_internal()?;
    Ok(Json(c.contents(customer_id).await?))
}
