//! catalog's HTTP face: public reads, merchant listing management, admin taxonomy and
//! moderation.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kernel::error::Problem;
use kernel::{Actor, ApiError, MerchantPermission, Page, PageQuery, Permission};
use platform::http::{internal_only, ApiJson, ClassPolicy};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::*;
use crate::service::{Catalog, Read};

type St = State<Arc<Catalog>>;

pub fn router(catalog: Arc<Catalog>) -> OpenApiRouter {
    catalog
        .ctx
        .rate_limited(
            OpenApiRouter::new()
                .routes(routes!(list_categories, create_category))
                .routes(routes!(get_category, update_category, delete_category))
                .routes(routes!(category_children))
                .routes(routes!(list_brands, create_brand))
                .routes(routes!(list_attributes, create_attribute))
                .routes(routes!(list_products, create_product))
                .routes(routes!(get_product, update_product, delete_product))
                .routes(routes!(change_status))
                .routes(routes!(list_variants, add_variants))
                .routes(routes!(update_variant, delete_variant)),
            ClassPolicy::ByMethod,
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(internal_variants))
                .routes(routes!(internal_references))
                .routes(routes!(internal_listings))
                .layer(axum::middleware::from_fn(internal_only)),
        )
        .with_state(catalog)
}

/// An already serialized JSON body (from the read cache).
fn json_bytes(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn render<T: serde::Serialize>(read: Read<T>) -> Response {
    match read {
        Read::Cached(body) => json_bytes(body),
        Read::Fresh(value) => Json(value).into_response(),
    }
}

/// Root categories, or with `?all=true` the whole tree (by level, then display order).
#[utoipa::path(get, path = "/api/v1/categories", tag = "catalog", params(CategoryQuery),
    responses((status = 200, body = Vec<Category>)))]
async fn list_categories(
    State(c): St,
    Query(q): Query<CategoryQuery>,
) -> Result<Json<Vec<Category>>, ApiError> {
    Ok(Json(c.categories(None, q.all.unwrap_or(false)).await?))
}

/// Add a category (admin).
#[utoipa::path(post, path = "/api/v1/categories", tag = "catalog-admin", request_body = CategoryInput,
    security(("bearer" = [])),
    responses((status = 201, body = Category), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_category(
    State(c): St,
    actor: Actor,
    ApiJson(body): ApiJson<CategoryInput>,
) -> Result<(StatusCode, Json<Category>), ApiError> {
    actor.require(Permission::AdminCatalog)?;
    Ok((StatusCode::CREATED, Json(c.create_category(body).await?)))
}

/// One category.
#[utoipa::path(get, path = "/api/v1/categories/{id}", tag = "catalog",
    params(("id" = Uuid, Path, description = "Category id")),
    responses((status = 200, body = Category), (status = 404, body = Problem)))]
async fn get_category(State(c): St, Path(id): Path<Uuid>) -> Result<Json<Category>, ApiError> {
    Ok(Json(c.get_category(id).await?))
}

/// Rename, reorder or move a category with its subtree (admin).
#[utoipa::path(put, path = "/api/v1/categories/{id}", tag = "catalog-admin", request_body = CategoryUpdate,
    params(("id" = Uuid, Path, description = "Category id")), security(("bearer" = [])),
    responses((status = 200, body = Category), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn update_category(
    State(c): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<CategoryUpdate>,
) -> Result<Json<Category>, ApiError> {
    actor.require(Permission::AdminCatalog)?;
    Ok(Json(c.update_category(id, body).await?))
}

/// Delete a category without subcategories or products (admin).
#[utoipa::path(delete, path = "/api/v1/categories/{id}", tag = "catalog-admin",
    params(("id" = Uuid, Path, description = "Category id")), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn delete_category(
    State(c): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    actor.require(Permission::AdminCatalog)?;
    c.delete_category(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Direct children of a category.
#[utoipa::path(get, path = "/api/v1/categories/{id}/children", tag = "catalog",
    params(("id" = Uuid, Path, description = "Category id")),
    responses((status = 200, body = Vec<Category>), (status = 404, body = Problem)))]
async fn category_children(
    State(c): St,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<Category>>, ApiError> {
    Ok(Json(c.categories(Some(id), false).await?))
}

/// Brands by slug.
#[utoipa::path(get, path = "/api/v1/brands", tag = "catalog", params(PageQuery),
    responses((status = 200, body = Page<Brand>)))]
async fn list_brands(
    State(c): St,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<Brand>>, ApiError> {
    let limit = page.limit();
    let after = page.cursor()?.map(|kernel::Cursor(slug)| slug);
    let items = c.brands(after.as_deref(), limit + 1).await?;
    Ok(Json(Page::from_overfetch(items, limit, |b| b.slug.clone())))
}

/// Add a brand (admin).
#[utoipa::path(post, path = "/api/v1/brands", tag = "catalog-admin", request_body = BrandInput,
    security(("bearer" = [])),
    responses((status = 201, body = Brand), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn create_brand(
    State(c): St,
    actor: Actor,
    ApiJson(body): ApiJson<BrandInput>,
) -> Result<(StatusCode, Json<Brand>), ApiError> {
    actor.require(Permission::AdminCatalog)?;
    Ok((StatusCode::CREATED, Json(c.create_brand(body).await?)))
}

/// Attribute definitions: known keys of product `attributes` and the kind of their values.
#[utoipa::path(get, path = "/api/v1/attributes", tag = "catalog",
    responses((status = 200, body = Vec<Attribute>)))]
async fn list_attributes(State(c): St) -> Result<Json<Vec<Attribute>>, ApiError> {
    Ok(Json(c.attributes().await?))
}

/// Define an attribute (admin).
#[utoipa::path(post, path = "/api/v1/attributes", tag = "catalog-admin", request_body = AttributeInput,
    security(("bearer" = [])),
    responses((status = 201, body = Attribute), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn create_attribute(
    State(c): St,
    actor: Actor,
    ApiJson(body): ApiJson<AttributeInput>,
) -> Result<(StatusCode, Json<Attribute>), ApiError> {
    actor.require(Permission::AdminCatalog)?;
    Ok((StatusCode::CREATED, Json(c.create_attribute(body).await?)))
}

/// Products. The public sees ACTIVE listings of ACTIVE merchants; with `merchantId`, that
/// merchant's staff see all its products (drafts too, `status` to filter); admins filter by
/// `status` (`PENDING_REVIEW` is the moderation queue).
#[utoipa::path(get, path = "/api/v1/products", tag = "catalog", params(ProductQuery),
    responses((status = 200, body = Page<ProductSummary>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn list_products(
    State(c): St,
    actor: Option<Actor>,
    Query(q): Query<ProductQuery>,
) -> Result<Response, ApiError> {
    Ok(render(c.list(actor.as_ref(), &q).await?))
}

/// Create a product (a DRAFT) for a merchant the caller manages.
#[utoipa::path(post, path = "/api/v1/products", tag = "catalog", request_body = ProductInput,
    security(("bearer" = [])),
    responses((status = 201, body = ProductDetail), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_product(
    State(c): St,
    actor: Actor,
    ApiJson(body): ApiJson<ProductInput>,
) -> Result<(StatusCode, Json<ProductDetail>), ApiError> {
    actor.require_staff(body.merchant_id, MerchantPermission::EditListings)?;
    Ok((StatusCode::CREATED, Json(c.create(body).await?)))
}

/// A product with its variants.
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "catalog",
    params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 200, body = ProductDetail), (status = 404, body = Problem)))]
async fn get_product(
    State(c): St,
    actor: Option<Actor>,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    Ok(render(c.product(actor.as_ref(), id).await?))
}

/// Edit a product (merchant owner or manager). Editing an ACTIVE product keeps it ACTIVE.
#[utoipa::path(put, path = "/api/v1/products/{id}", tag = "catalog", request_body = ProductUpdate,
    params(("id" = Uuid, Path, description = "Product id")), security(("bearer" = [])),
    responses((status = 200, body = ProductDetail), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_product(
    State(c): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<ProductUpdate>,
) -> Result<Json<ProductDetail>, ApiError> {
    Ok(Json(c.update(&actor, id, body).await?))
}

/// Delete a product (soft: it disappears from every view).
#[utoipa::path(delete, path = "/api/v1/products/{id}", tag = "catalog",
    params(("id" = Uuid, Path, description = "Product id")), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_product(
    State(c): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    c.delete(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Move a product: merchants submit (PENDING_REVIEW), withdraw (DRAFT), archive and restore;
/// moderators activate or reject (with a reason).
#[utoipa::path(patch, path = "/api/v1/products/{id}/status", operation_id = "change_product_status", tag = "catalog", request_body = StatusChange,
    params(("id" = Uuid, Path, description = "Product id")), security(("bearer" = [])),
    responses((status = 200, body = ProductDetail), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn change_status(
    State(c): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<StatusChange>,
) -> Result<Json<ProductDetail>, ApiError> {
    Ok(Json(c.change_status(&actor, id, body).await?))
}

/// Variants of a product.
#[utoipa::path(get, path = "/api/v1/products/{id}/variants", tag = "catalog",
    params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 200, body = Vec<Variant>), (status = 404, body = Problem)))]
async fn list_variants(
    State(c): St,
    actor: Option<Actor>,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<Variant>>, ApiError> {
    Ok(Json(c.variants(actor.as_ref(), id).await?))
}

/// Add variants (same currency as the product's).
#[utoipa::path(post, path = "/api/v1/products/{id}/variants", tag = "catalog", request_body = Vec<VariantInput>,
    params(("id" = Uuid, Path, description = "Product id")), security(("bearer" = [])),
    responses((status = 201, body = Vec<Variant>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn add_variants(
    State(c): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<Vec<VariantInput>>,
) -> Result<(StatusCode, Json<Vec<Variant>>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(c.add_variants(&actor, id, body).await?),
    ))
}

/// Change a variant's price, compare-at price, options or position. The SKU is fixed.
#[utoipa::path(put, path = "/api/v1/products/{id}/variants/{variantId}", tag = "catalog", request_body = VariantUpdate,
    params(("id" = Uuid, Path, description = "Product id"), ("variantId" = Uuid, Path, description = "Variant id")),
    security(("bearer" = [])),
    responses((status = 200, body = Variant), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_variant(
    State(c): St,
    actor: Actor,
    Path((id, variant_id)): Path<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<VariantUpdate>,
) -> Result<Json<Variant>, ApiError> {
    Ok(Json(c.update_variant(&actor, id, variant_id, body).await?))
}

/// Remove a variant.
#[utoipa::path(delete, path = "/api/v1/products/{id}/variants/{variantId}", tag = "catalog",
    params(("id" = Uuid, Path, description = "Product id"), ("variantId" = Uuid, Path, description = "Variant id")),
    security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_variant(
    State(c): St,
    actor: Actor,
    Path((id, variant_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    c.delete_variant(&actor, id, variant_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Current price and sellability of variants (internal, for checkout).
#[utoipa::path(post, path = "/internal/v1/catalog/variants", tag = "internal", request_body = VariantLookup,
    responses((status = 200, body = Vec<VariantQuote>), (status = 403, body = Problem)))]
async fn internal_variants(
    State(c): St,
    actor: Actor,
    ApiJson(body): ApiJson<VariantLookup>,
) -> Result<Json<Vec<VariantQuote>>, ApiError> {
    actor.require_internal()?;
    Ok(Json(c.quotes(&body.variant_ids).await?))
}

/// Which categories, brands and products exist, and whose the products are (internal, for
/// promotions' rules).
#[utoipa::path(post, path = "/internal/v1/catalog/references", tag = "internal", request_body = ReferenceLookup,
    responses((status = 200, body = References), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn internal_references(
    State(c): St,
    actor: Actor,
    ApiJson(body): ApiJson<ReferenceLookup>,
) -> Result<Json<References>, ApiError> {
    actor.require_internal()?;
    Ok(Json(c.references(&body).await?))
}

/// Products as search indexes them, by id or in pages (internal, for search).
#[utoipa::path(post, path = "/internal/v1/catalog/listings", tag = "internal", request_body = ListingQuery,
    responses((status = 200, body = ListingPage), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn internal_listings(
    State(c): St,
    actor: Actor,
    ApiJson(body): ApiJson<ListingQuery>,
) -> Result<Json<ListingPage>, ApiError> {
    actor.require_internal()?;
    Ok(Json(c.listings(&body).await?))
}
