//! search's HTTP face: searching and suggestions for everyone, synonyms and rebuilds for
//! admins, and the internal rebuild `pasar search reindex` calls.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kernel::error::Problem;
use kernel::{Actor, ApiError, Permission};
use platform::http::{internal_only, ApiJson, ClassPolicy};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::*;
use crate::service::Search;

type St = State<Arc<Search>>;

pub fn router(search: Arc<Search>) -> OpenApiRouter {
    search
        .ctx
        .rate_limited(
            OpenApiRouter::new()
                .routes(routes!(search_listings))
                .routes(routes!(autocomplete))
                .routes(routes!(get_synonyms, put_synonyms))
                .routes(routes!(admin_reindex, admin_reindex_status)),
            ClassPolicy::ByMethod,
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(internal_reindex, internal_reindex_status))
                .layer(axum::middleware::from_fn(internal_only)),
        )
        .with_state(search)
}

/// Products and voucher offers matching words and filters, with facet counts.
#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchQuery),
    responses((status = 200, body = SearchResults), (status = 422, body = Problem), (status = 503, body = Problem)))]
async fn search_listings(
    State(s): St,
    Query(q): Query<SearchQuery>,
) -> Result<Json<SearchResults>, ApiError> {
    Ok(Json(s.search(&q).await?))
}

/// Names of products, offers, categories and brands starting with what was typed.
#[utoipa::path(get, path = "/api/v1/search/autocomplete", tag = "search", params(SuggestQuery),
    responses((status = 200, body = Vec<Suggestion>), (status = 422, body = Problem)))]
async fn autocomplete(
    State(s): St,
    Query(q): Query<SuggestQuery>,
) -> Result<Json<Vec<Suggestion>>, ApiError> {
    Ok(Json(s.suggest(&q)?))
}

/// The synonym groups applied to queries (admin).
#[utoipa::path(get, path = "/api/v1/admin/search/synonyms", tag = "search-admin",
    security(("bearer" = [])),
    responses((status = 200, body = Synonyms), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn get_synonyms(State(s): St, actor: Actor) -> Result<Json<Synonyms>, ApiError> {
    actor.require(Permission::AdminCatalog)?;
    Ok(Json(s.synonyms().await?))
}

/// Replace the synonym groups (admin); queries use them at once on this instance, within
/// seconds on others.
#[utoipa::path(put, path = "/api/v1/admin/search/synonyms", tag = "search-admin",
    request_body = Synonyms, security(("bearer" = [])),
    responses((status = 200, body = Synonyms), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn put_synonyms(
    State(s): St,
    actor: Actor,
    ApiJson(body): ApiJson<Synonyms>,
) -> Result<Json<Synonyms>, ApiError> {
    actor.require(Permission::AdminCatalog)?;
    Ok(Json(s.save_synonyms(body).await?))
}

/// Rebuild this instance's index from the modules' data, aside, then swap it in (admin);
/// searches keep answering from the old index meanwhile. 202 when it takes longer than the
/// request may: it runs on, and its status says when it is done.
#[utoipa::path(post, path = "/api/v1/admin/search/reindex", tag = "search-admin",
    security(("bearer" = [])),
    responses((status = 200, body = ReindexReport), (status = 202, body = ReindexStatus),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn admin_reindex(State(s): St, actor: Actor) -> Result<Response, ApiError> {
    actor.require(Permission::AdminCatalog)?;
    reindexed(&s).await
}

/// Whether a rebuild runs here, and how the last one went (admin).
#[utoipa::path(get, path = "/api/v1/admin/search/reindex", tag = "search-admin",
    security(("bearer" = [])),
    responses((status = 200, body = ReindexStatus), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn admin_reindex_status(State(s): St, actor: Actor) -> Result<Json<ReindexStatus>, ApiError> {
    actor.require(Permission::AdminCatalog)?;
    Ok(Json(s.reindex_status()))
}

/// The same rebuild, for `pasar search reindex` (internal).
#[utoipa::path(post, path = "/internal/v1/search/reindex", tag = "internal",
    responses((status = 200, body = ReindexReport), (status = 202, body = ReindexStatus),
        (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn internal_reindex(State(s): St, actor: Actor) -> Result<Response, ApiError> {
    actor.require_internal()?;
    reindexed(&s).await
}

/// The rebuild's status, for `pasar search reindex` (internal).
#[utoipa::path(get, path = "/internal/v1/search/reindex", tag = "internal",
    responses((status = 200, body = ReindexStatus), (status = 403, body = Problem)))]
async fn internal_reindex_status(
    State(s): St,
    actor: Actor,
) -> Result<Json<ReindexStatus>, ApiError> {
    actor.require_internal()?;
    Ok(Json(s.reindex_status()))
}

async fn reindexed(s: &Search) -> Result<Response, ApiError> {
    Ok(match s.reindex().await? {
        Some(report) => Json(report).into_response(),
        None => (StatusCode::ACCEPTED, Json(s.reindex_status())).into_response(),
    })
}
