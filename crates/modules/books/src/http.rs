//! books' HTTP face (admins): books, pages, placements, generation, the PDF, publishing.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kernel::error::Problem;
use kernel::{Actor, ApiError, Page, PageQuery};
use platform::http::{ApiJson, ClassPolicy};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::*;
use crate::service::Books;

type St = State<Arc<Books>>;

pub fn router(books: Arc<Books>) -> OpenApiRouter {
    books
        .ctx
        .rate_limited(
            OpenApiRouter::new()
                .routes(routes!(list_books, create_book))
                .routes(routes!(get_book, update_book))
                .routes(routes!(add_page))
                .routes(routes!(remove_page))
                .routes(routes!(add_placement))
                .routes(routes!(remove_placement))
                .routes(routes!(generate))
                .routes(routes!(pdf))
                .routes(routes!(publish)),
            ClassPolicy::ByMethod,
        )
        .with_state(books)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct BookQuery {
    status: Option<BookStatus>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// Voucher books, newest first (admins).
#[utoipa::path(get, path = "/api/v1/admin/voucher-books", tag = "admin", params(BookQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Page<Book>), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn list_books(
    State(b): St,
    actor: Actor,
    Query(q): Query<BookQuery>,
) -> Result<Json<Page<Book>>, ApiError> {
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    Ok(Json(b.list(&actor, q.status, &page).await?))
}

/// A new voucher book, in draft (admins).
#[utoipa::path(post, path = "/api/v1/admin/voucher-books", tag = "admin", request_body = BookInput,
    security(("bearer" = [])),
    responses((status = 201, body = Book), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn create_book(
    State(b): St,
    actor: Actor,
    ApiJson(body): ApiJson<BookInput>,
) -> Result<(StatusCode, Json<Book>), ApiError> {
    Ok((StatusCode::CREATED, Json(b.create(&actor, body).await?)))
}

/// A book with its pages, placements and PDF (admins).
#[utoipa::path(get, path = "/api/v1/admin/voucher-books/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "book id")), security(("bearer" = [])),
    responses((status = 200, body = Book), (status = 404, body = Problem)))]
async fn get_book(
    State(b): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Book>, ApiError> {
    Ok(Json(b.get(&actor, id).await?))
}

/// Changes the cover's details; a ready book goes back to draft (admins).
#[utoipa::path(put, path = "/api/v1/admin/voucher-books/{id}", tag = "admin", request_body = BookInput,
    params(("id" = Uuid, Path, description = "book id")), security(("bearer" = [])),
    responses((status = 200, body = Book), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn update_book(
    State(b): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<BookInput>,
) -> Result<Json<Book>, ApiError> {
    Ok(Json(b.update(&actor, id, body).await?))
}

/// Appends a page (admins).
#[utoipa::path(post, path = "/api/v1/admin/voucher-books/{id}/pages", tag = "admin",
    params(("id" = Uuid, Path, description = "book id")), security(("bearer" = [])),
    responses((status = 201, body = BookPage), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn add_page(
    State(b): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, Json<BookPage>), ApiError> {
    Ok((StatusCode::CREATED, Json(b.add_page(&actor, id).await?)))
}

/// Removes a page without printed vouchers; later pages move up (admins).
#[utoipa::path(delete, path = "/api/v1/admin/voucher-books/{id}/pages/{pageId}", tag = "admin",
    params(("id" = Uuid, Path, description = "book id"), ("pageId" = Uuid, Path, description = "page id")),
    security(("bearer" = [])),
    responses((status = 204, description = "removed"), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn remove_page(
    State(b): St,
    actor: Actor,
    Path((id, page_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    b.remove_page(&actor, id, page_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Puts a voucher, ad, image or sponsored block on a free part of the page's grid (admins).
#[utoipa::path(post, path = "/api/v1/admin/voucher-books/{id}/pages/{pageId}/placements", tag = "admin",
    request_body = PlacementInput,
    params(("id" = Uuid, Path, description = "book id"), ("pageId" = Uuid, Path, description = "page id")),
    security(("bearer" = [])),
    responses((status = 201, body = Placement), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn add_placement(
    State(b): St,
    actor: Actor,
    Path((id, page_id)): Path<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<PlacementInput>,
) -> Result<(StatusCode, Json<Placement>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(b.add_placement(&actor, id, page_id, body).await?),
    ))
}

/// Takes a placement off its page, unless its voucher was printed (admins).
#[utoipa::path(delete, path = "/api/v1/admin/voucher-books/{id}/pages/{pageId}/placements/{placementId}",
    tag = "admin",
    params(("id" = Uuid, Path, description = "book id"), ("pageId" = Uuid, Path, description = "page id"),
        ("placementId" = Uuid, Path, description = "placement id")),
    security(("bearer" = [])),
    responses((status = 204, description = "removed"), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn remove_placement(
    State(b): St,
    actor: Actor,
    Path((id, page_id, placement_id)): Path<(Uuid, Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    b.remove_placement(&actor, id, page_id, placement_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Generates the print-ready PDF (a job; the book shows `GENERATING`, then
/// `READY_FOR_PRINT`, or `DRAFT` with `error`) (admins).
#[utoipa::path(post, path = "/api/v1/admin/voucher-books/{id}/generate", tag = "admin",
    params(("id" = Uuid, Path, description = "book id")), security(("bearer" = [])),
    responses((status = 202, body = Book), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn generate(
    State(b): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, Json<Book>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(b.generate(&actor, id).await?)))
}

/// The print-ready PDF (A5 pages, embedded fonts, vector QR codes) (admins).
#[utoipa::path(get, path = "/api/v1/admin/voucher-books/{id}/pdf", tag = "admin",
    params(("id" = Uuid, Path, description = "book id")), security(("bearer" = [])),
    responses((status = 200, description = "the PDF", content_type = "application/pdf"),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn pdf(State(b): St, actor: Actor, Path(id): Path<Uuid>) -> Result<Response, ApiError> {
    let (bytes, name) = b.pdf(&actor, id).await?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// A ready book goes out; it no longer changes (admins).
#[utoipa::path(post, path = "/api/v1/admin/voucher-books/{id}/publish", tag = "admin",
    params(("id" = Uuid, Path, description = "book id")), security(("bearer" = [])),
    responses((status = 200, body = Book), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn publish(State(b): St, actor: Actor, Path(id): Path<Uuid>) -> Result<Json<Book>, ApiError> {
    Ok(Json(b.publish_book(&actor, id).await?))
}
