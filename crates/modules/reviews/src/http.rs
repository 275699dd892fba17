//! reviews' HTTP face: reviews of products, voucher offers and merchants; writing, editing
//! and deleting them; helpful votes, reports, merchant responses; admins' moderation.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use kernel::error::Problem;
use kernel::{Actor, ApiError, Page};
use platform::http::{internal_only, ApiJson, ClassPolicy};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::*;
use crate::service::Reviews;

type St = State<Arc<Reviews>>;

pub fn router(reviews: Arc<Reviews>) -> OpenApiRouter {
    reviews
        .ctx
        .rate_limited(
            OpenApiRouter::new()
                .routes(routes!(list_product_reviews, create_product_review))
                .routes(routes!(list_voucher_reviews, create_voucher_review))
                .routes(routes!(list_merchant_reviews))
                .routes(routes!(get_review, edit_review, delete_review))
                .routes(routes!(vote_review_helpful))
                .routes(routes!(report_review))
                .routes(routes!(respond_to_review))
                .routes(routes!(list_reviews_for_moderation))
                .routes(routes!(approve_review))
                .routes(routes!(reject_review)),
            ClassPolicy::ByMethod,
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(review_authorship))
                .layer(axum::middleware::from_fn(internal_only)),
        )
        .with_state(reviews)
}

/// Who wrote a review (internal, for media's review photos).
#[utoipa::path(get, path = "/internal/v1/reviews/{id}/authorship", tag = "internal",
    params(("id" = Uuid, Path, description = "Review id")),
    responses((status = 200, body = ReviewAuthorship), (status = 404, body = Problem)))]
async fn review_authorship(
    State(r): St,
    Path(id): Path<Uuid>,
) -> Result<Json<ReviewAuthorship>, ApiError> {
    Ok(Json(r.authorship(id).await?))
}

/// Public reviews of a product with its rating (the caller's own in any status too).
#[utoipa::path(get, path = "/api/v1/products/{id}/reviews", tag = "reviews", params(("id" = Uuid, Path, description = "Product id"), ReviewQuery),
    responses((status = 200, body = ReviewPage), (status = 422, body = Problem)))]
async fn list_product_reviews(
    State(r): St,
    actor: Option<Actor>,
    Path(id): Path<Uuid>,
    Query(q): Query<ReviewQuery>,
) -> Result<Json<ReviewPage>, ApiError> {
    Ok(Json(
        r.list(actor.as_ref(), ReviewSubjectKind::Product, id, &q)
            .await?,
    ))
}

/// Review a product the caller received (a DELIVERED or COMPLETED order of it); one review
/// per order.
#[utoipa::path(post, path = "/api/v1/products/{id}/reviews", tag = "reviews", request_body = ReviewInput,
    params(("id" = Uuid, Path, description = "Product id")), security(("bearer" = [])),
    responses((status = 201, body = Review), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_product_review(
    State(r): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<ReviewInput>,
) -> Result<(StatusCode, Json<Review>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(
            r.create(&actor, ReviewSubjectKind::Product, id, body)
                .await?,
        ),
    ))
}

/// Public reviews of a voucher offer with its rating (the caller's own in any status too).
#[utoipa::path(get, path = "/api/v1/vouchers/{id}/reviews", tag = "reviews", params(("id" = Uuid, Path, description = "Voucher offer id"), ReviewQuery),
    responses((status = 200, body = ReviewPage), (status = 422, body = Problem)))]
async fn list_voucher_reviews(
    State(r): St,
    actor: Option<Actor>,
    Path(id): Path<Uuid>,
    Query(q): Query<ReviewQuery>,
) -> Result<Json<ReviewPage>, ApiError> {
    Ok(Json(
        r.list(actor.as_ref(), ReviewSubjectKind::Voucher, id, &q)
            .await?,
    ))
}

/// Review a voucher offer after redeeming one of its vouchers; one review per voucher.
#[utoipa::path(post, path = "/api/v1/vouchers/{id}/reviews", tag = "reviews", request_body = ReviewInput,
    params(("id" = Uuid, Path, description = "Voucher offer id")), security(("bearer" = [])),
    responses((status = 201, body = Review), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_voucher_review(
    State(r): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<ReviewInput>,
) -> Result<(StatusCode, Json<Review>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(
            r.create(&actor, ReviewSubjectKind::Voucher, id, body)
                .await?,
        ),
    ))
}

/// Public reviews of all of a merchant's products and voucher offers, with its rating.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/reviews", tag = "reviews", params(("id" = Uuid, Path, description = "Merchant id"), ReviewQuery),
    responses((status = 200, body = ReviewPage), (status = 422, body = Problem)))]
async fn list_merchant_reviews(
    State(r): St,
    actor: Option<Actor>,
    Path(id): Path<Uuid>,
    Query(q): Query<ReviewQuery>,
) -> Result<Json<ReviewPage>, ApiError> {
    Ok(Json(
        r.list(actor.as_ref(), ReviewSubjectKind::Merchant, id, &q)
            .await?,
    ))
}

/// One review: public ones to anyone, others to their author and admins.
#[utoipa::path(get, path = "/api/v1/reviews/{id}", tag = "reviews", params(("id" = Uuid, Path, description = "Review id")),
    responses((status = 200, body = Review), (status = 404, body = Problem)))]
async fn get_review(
    State(r): St,
    actor: Option<Actor>,
    Path(id): Path<Uuid>,
) -> Result<Json<Review>, ApiError> {
    Ok(Json(r.get(actor.as_ref(), id).await?))
}

/// The author replaces rating, title, text and the anonymous flag, within the edit window;
/// moderation runs again.
#[utoipa::path(put, path = "/api/v1/reviews/{id}", tag = "reviews", request_body = ReviewEdit,
    params(("id" = Uuid, Path, description = "Review id")), security(("bearer" = [])),
    responses((status = 200, body = Review), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn edit_review(
    State(r): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<ReviewEdit>,
) -> Result<Json<Review>, ApiError> {
    Ok(Json(r.edit(&actor, id, body).await?))
}

/// Delete a review (its author, or an admin).
#[utoipa::path(delete, path = "/api/v1/reviews/{id}", tag = "reviews",
    params(("id" = Uuid, Path, description = "Review id")), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_review(
    State(r): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    r.delete(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark a public review helpful: once per user (voting again changes nothing), never one's own.
#[utoipa::path(post, path = "/api/v1/reviews/{id}/helpful", tag = "reviews",
    params(("id" = Uuid, Path, description = "Review id")), security(("bearer" = [])),
    responses((status = 200, body = HelpfulVote), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn vote_review_helpful(
    State(r): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<HelpfulVote>, ApiError> {
    Ok(Json(r.helpful(&actor, id).await?))
}

/// Report a public review, once per user; enough open reports hold it for moderation.
#[utoipa::path(post, path = "/api/v1/reviews/{id}/report", tag = "reviews", request_body = ReviewReportInput,
    params(("id" = Uuid, Path, description = "Review id")), security(("bearer" = [])),
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn report_review(
    State(r): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<ReviewReportInput>,
) -> Result<StatusCode, ApiError> {
    r.report(&actor, id, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The reviewed merchant's public response (owner or manager of that merchant; one per review).
#[utoipa::path(post, path = "/api/v1/reviews/{id}/response", tag = "reviews", request_body = MerchantResponseInput,
    params(("id" = Uuid, Path, description = "Review id")), security(("bearer" = [])),
    responses((status = 201, body = Review), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn respond_to_review(
    State(r): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<MerchantResponseInput>,
) -> Result<(StatusCode, Json<Review>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(r.respond(&actor, id, body).await?),
    ))
}

/// Reviews by status, newest first; `status=PENDING` is the moderation queue (admins).
#[utoipa::path(get, path = "/api/v1/admin/reviews", tag = "reviews-admin", params(AdminReviewQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Page<Review>), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn list_reviews_for_moderation(
    State(r): St,
    actor: Actor,
    Query(q): Query<AdminReviewQuery>,
) -> Result<Json<Page<Review>>, ApiError> {
    Ok(Json(r.admin_list(&actor, &q).await?))
}

/// Make a review public (admins); clears its open reports.
#[utoipa::path(post, path = "/api/v1/admin/reviews/{id}/approve", tag = "reviews-admin",
    params(("id" = Uuid, Path, description = "Review id")), security(("bearer" = [])),
    responses((status = 200, body = Review), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn approve_review(
    State(r): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Review>, ApiError> {
    Ok(Json(r.approve(&actor, id).await?))
}

/// Take a review down with a reason its author sees (admins).
#[utoipa::path(post, path = "/api/v1/admin/reviews/{id}/reject", tag = "reviews-admin", request_body = ReviewRejection,
    params(("id" = Uuid, Path, description = "Review id")), security(("bearer" = [])),
    responses((status = 200, body = Review), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn reject_review(
    State(r): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<ReviewRejection>,
) -> Result<Json<Review>, ApiError> {
    Ok(Json(r.reject(&actor, id, body).await?))
}
