//! media's HTTP face: uploads (multipart), their bytes and thumbnails with cache validators,
//! deletion, and attaching them to products, merchants and users.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kernel::error::Problem;
use kernel::{Actor, ApiError};
use platform::http::{ApiJson, ClassPolicy};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::*;
use crate::service::{MediaError, MediaLibrary, Served};

type St = State<Arc<MediaLibrary>>;

/// Room for the multipart framing around the file.
const MULTIPART_OVERHEAD: usize = 64 * 1024;

pub fn router(media: Arc<MediaLibrary>) -> OpenApiRouter {
    let upload_limit = media.config.max_upload_bytes + MULTIPART_OVERHEAD;
    media
        .ctx
        .rate_limited(
            OpenApiRouter::new()
                .routes(routes!(upload))
                .layer(DefaultBodyLimit::max(upload_limit))
                .routes(routes!(content, delete_media))
                .routes(routes!(details))
                .routes(routes!(thumbnail))
                .routes(routes!(product_media, attach_product_media))
                .routes(routes!(detach_product_media))
                .routes(routes!(merchant_media))
                .routes(routes!(set_merchant_logo, clear_merchant_logo))
                .routes(routes!(set_merchant_banner, clear_merchant_banner))
                .routes(routes!(add_merchant_document))
                .routes(routes!(remove_merchant_document))
                .routes(routes!(set_avatar, clear_avatar))
                .routes(routes!(review_photos, add_review_photo))
                .routes(routes!(remove_review_photo))
                .routes(routes!(user_media)),
            ClassPolicy::ByMethod,
        )
        .with_state(media)
}

/// The multipart form of an upload.
#[derive(ToSchema)]
#[allow(dead_code)]
struct UploadForm {
    /// What the upload is for.
    purpose: MediaPurpose,
    /// The file: recognised by its content, whatever its name or declared type.
    #[schema(format = Binary, value_type = String)]
    file: Vec<u8>,
}

/// Upload a file for a purpose. Images are re-encoded without metadata; the same file uploaded
/// again by the same user for the same purpose answers 200 with the first upload.
#[utoipa::path(post, path = "/api/v1/media/upload", tag = "media",
    request_body(content = UploadForm, content_type = "multipart/form-data"), security(("bearer" = [])),
    responses((status = 201, body = Media), (status = 200, body = Media, description = "uploaded before"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem), (status = 503, body = Problem)))]
async fn upload(State(m): St, actor: Actor, mut form: Multipart) -> Result<Response, ApiError> {
    let mut purpose = None;
    let mut file = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => return Err(multipart_error(&m, err)),
        };
        match field.name() {
            Some("purpose") => {
                let text = field.text().await.map_err(|e| multipart_error(&m, e))?;
                purpose = Some(MediaPurpose::parse(text.trim()).ok_or_else(|| {
                    ApiError::validation_one("purpose", "must be one of PRODUCT_IMAGE, MERCHANT_LOGO, MERCHANT_BANNER, MERCHANT_DOCUMENT, AVATAR, REVIEW_PHOTO")
                })?);
            }
            Some("file") => {
                file = Some(
                    field
                        .bytes()
                        .await
                        .map_err(|e| multipart_error(&m, e))?
                        .to_vec(),
                );
            }
            _ => {}
        }
    }
    let purpose = purpose.ok_or_else(|| ApiError::validation_one("purpose", "is required"))?;
    let file = file.ok_or_else(|| ApiError::validation_one("file", "is required"))?;
    let (media, created) = m.upload(&actor, purpose, file).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(media)).into_response())
}

fn multipart_error(m: &MediaLibrary, err: axum::extract::multipart::MultipartError) -> ApiError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        MediaCode::MediaTooLarge.problem(format!(
            "The file is larger than {} bytes",
            m.config.max_upload_bytes
        ))
    } else {
        ApiError::bad_request(
            "bad_multipart",
            format!("The multipart body is malformed: {}", err.body_text()),
        )
    }
}

/// The bytes of an upload. Public media carry a year-long immutable cache lifetime and an
/// ETag; private documents are served only to those entitled, never cached, as attachments.
#[utoipa::path(get, path = "/api/v1/media/{id}", tag = "media",
    params(("id" = Uuid, Path, description = "media id"), ("If-None-Match" = Option<String>, Header, description = "an ETag served before")),
    responses((status = 200, description = "the bytes, as image/jpeg, image/png, image/webp or application/pdf"),
        (status = 304, description = "unchanged"), (status = 404, body = Problem), (status = 503, body = Problem)))]
async fn content(
    State(m): St,
    actor: Option<Actor>,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    Ok(serve(m.content(actor.as_ref(), id).await?, &headers))
}

/// A thumbnail (longest side `size`, one of the media's `thumbnailSizes`), made once.
#[utoipa::path(get, path = "/api/v1/media/{id}/thumbnail", tag = "media",
    params(("id" = Uuid, Path, description = "media id"), ThumbnailQuery,
        ("If-None-Match" = Option<String>, Header, description = "an ETag served before")),
    responses((status = 200, description = "the thumbnail, in the image's format"), (status = 304, description = "unchanged"),
        (status = 404, body = Problem), (status = 422, body = Problem), (status = 503, body = Problem)))]
async fn thumbnail(
    State(m): St,
    actor: Option<Actor>,
    Path(id): Path<Uuid>,
    Query(query): Query<ThumbnailQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    Ok(serve(
        m.thumbnail(actor.as_ref(), id, query.size).await?,
        &headers,
    ))
}

fn serve(served: Served, request: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", served.etag);
    let cache = if served.private {
        "private, no-store"
    } else {
        "public, max-age=31536000, immutable"
    };
    let matches = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = served.bytes.into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(served.content_type),
        );
        let disposition = if served.private || !served.content_type.starts_with("image/") {
            "attachment"
        } else {
            "inline"
        };
        if let Ok(value) =
            HeaderValue::from_str(&format!("{disposition}; filename=\"{}\"", served.file_name))
        {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, value);
        }
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    // A served file never runs anything, even when opened directly.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    response
}

/// An upload's details (its owner, or anyone for public media).
#[utoipa::path(get, path = "/api/v1/media/{id}/details", tag = "media",
    params(("id" = Uuid, Path, description = "media id")),
    responses((status = 200, body = Media), (status = 404, body = Problem)))]
async fn details(
    State(m): St,
    actor: Option<Actor>,
    Path(id): Path<Uuid>,
) -> Result<Json<Media>, ApiError> {
    Ok(Json(m.details(actor.as_ref(), id).await?))
}

/// Delete an upload (its owner or an admin): detached from everywhere, its bytes removed.
#[utoipa::path(delete, path = "/api/v1/media/{id}", tag = "media",
    params(("id" = Uuid, Path, description = "media id")), security(("bearer" = [])),
    responses((status = 204, description = "deleted"), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn delete_media(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    m.delete(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

type Listed = Result<Json<SubjectMedia>, ApiError>;

async fn attach(
    m: &MediaLibrary,
    actor: &Actor,
    subject: MediaSubject,
    id: Uuid,
    slot: MediaSlot,
    request: AttachRequest,
) -> Listed {
    Ok(Json(m.attach(actor, subject, id, slot, request).await?))
}

/// A product's gallery (also a voucher offer's images: the gallery of its product).
#[utoipa::path(get, path = "/api/v1/products/{id}/media", tag = "media",
    params(("id" = Uuid, Path, description = "product id")),
    responses((status = 200, body = SubjectMedia)))]
async fn product_media(State(m): St, actor: Option<Actor>, Path(id): Path<Uuid>) -> Listed {
    Ok(Json(
        m.list(actor.as_ref(), MediaSubject::Product, id).await?,
    ))
}

/// Add one of the caller's PRODUCT_IMAGE uploads to a product's gallery (its merchant's staff).
#[utoipa::path(post, path = "/api/v1/products/{id}/media", tag = "media", request_body = AttachRequest,
    params(("id" = Uuid, Path, description = "product id")), security(("bearer" = [])),
    responses((status = 200, body = SubjectMedia), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn attach_product_media(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(request): ApiJson<AttachRequest>,
) -> Listed {
    attach(
        &m,
        &actor,
        MediaSubject::Product,
        id,
        MediaSlot::Gallery,
        request,
    )
    .await
}

/// Remove an image from a product's gallery.
#[utoipa::path(delete, path = "/api/v1/products/{id}/media/{mediaId}", tag = "media",
    params(("id" = Uuid, Path, description = "product id"), ("mediaId" = Uuid, Path, description = "media id")),
    security(("bearer" = [])),
    responses((status = 200, body = SubjectMedia), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn detach_product_media(
    State(m): St,
    actor: Actor,
    Path((id, media_id)): Path<(Uuid, Uuid)>,
) -> Listed {
    Ok(Json(
        m.detach(&actor, MediaSubject::Product, id, media_id)
            .await?,
    ))
}

/// A merchant's logo, banner and (for its owner, managers and admins) documents.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/media", tag = "media",
    params(("id" = Uuid, Path, description = "merchant id")),
    responses((status = 200, body = SubjectMedia)))]
async fn merchant_media(State(m): St, actor: Option<Actor>, Path(id): Path<Uuid>) -> Listed {
    Ok(Json(
        m.list(actor.as_ref(), MediaSubject::Merchant, id).await?,
    ))
}

/// Set the merchant's logo (a MERCHANT_LOGO upload of the caller's; replaces the last).
#[utoipa::path(put, path = "/api/v1/merchants/{id}/logo", tag = "media", request_body = AttachRequest,
    params(("id" = Uuid, Path, description = "merchant id")), security(("bearer" = [])),
    responses((status = 200, body = SubjectMedia), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn set_merchant_logo(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(request): ApiJson<AttachRequest>,
) -> Listed {
    attach(
        &m,
        &actor,
        MediaSubject::Merchant,
        id,
        MediaSlot::Logo,
        request,
    )
    .await
}

/// Remove the merchant's logo.
#[utoipa::path(delete, path = "/api/v1/merchants/{id}/logo", tag = "media",
    params(("id" = Uuid, Path, description = "merchant id")), security(("bearer" = [])),
    responses((status = 200, body = SubjectMedia), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn clear_merchant_logo(State(m): St, actor: Actor, Path(id): Path<Uuid>) -> Listed {
    Ok(Json(
        m.clear_slot(&actor, MediaSubject::Merchant, id, MediaSlot::Logo)
            .await?,
    ))
}

/// Set the merchant's banner (a MERCHANT_BANNER upload of the caller's; replaces the last).
#[utoipa::path(put, path = "/api/v1/merchants/{id}/banner", tag = "media", request_body = AttachRequest,
    params(("id" = Uuid, Path, description = "merchant id")), security(("bearer" = [])),
    responses((status = 200, body = SubjectMedia), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn set_merchant_banner(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(request): ApiJson<AttachRequest>,
) -> Listed {
    attach(
        &m,
        &actor,
        MediaSubject::Merchant,
        id,
        MediaSlot::Banner,
        request,
    )
    .await
}

/// Remove the merchant's banner.
#[utoipa::path(delete, path = "/api/v1/merchants/{id}/banner", tag = "media",
    params(("id" = Uuid, Path, description = "merchant id")), security(("bearer" = [])),
    responses((status = 200, body = SubjectMedia), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn clear_merchant_banner(State(m): St, actor: Actor, Path(id): Path<Uuid>) -> Listed {
    Ok(Json(
        m.clear_slot(&actor, MediaSubject::Merchant, id, MediaSlot::Banner)
            .await?,
    ))
}

/// Add a business document (a private MERCHANT_DOCUMENT upload of the caller's).
#[utoipa::path(post, path = "/api/v1/merchants/{id}/documents", tag = "media", request_body = AttachRequest,
    params(("id" = Uuid, Path, description = "merchant id")), security(("bearer" = [])),
    responses((status = 200, body = SubjectMedia), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn add_merchant_document(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(request): ApiJson<AttachRequest>,
) -> Listed {
    attach(
        &m,
        &actor,
        MediaSubject::Merchant,
        id,
        MediaSlot::Documents,
        request,
    )
    .await
}

/// Remove a business document from the merchant.
#[utoipa::path(delete, path = "/api/v1/merchants/{id}/documents/{mediaId}", tag = "media",
    params(("id" = Uuid, Path, description = "merchant id"), ("mediaId" = Uuid, Path, description = "media id")),
    security(("bearer" = [])),
    responses((status = 200, body = SubjectMedia), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn remove_merchant_document(
    State(m): St,
    actor: Actor,
    Path((id, media_id)): Path<(Uuid, Uuid)>,
) -> Listed {
    Ok(Json(
        m.detach(&actor, MediaSubject::Merchant, id, media_id)
            .await?,
    ))
}

/// Set the caller's avatar (an AVATAR upload of theirs; replaces the last).
#[utoipa::path(put, path = "/api/v1/users/me/avatar", tag = "media", request_body = AttachRequest,
    security(("bearer" = [])),
    responses((status = 200, body = SubjectMedia), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn set_avatar(
    State(m): St,
    actor: Actor,
    ApiJson(request): ApiJson<AttachRequest>,
) -> Listed {
    let id = actor.user_id;
    attach(
        &m,
        &actor,
        MediaSubject::User,
        id,
        MediaSlot::Avatar,
        request,
    )
    .await
}

/// Remove the caller's avatar.
#[utoipa::path(delete, path = "/api/v1/users/me/avatar", tag = "media", security(("bearer" = [])),
    responses((status = 200, body = SubjectMedia), (status = 401, body = Problem)))]
async fn clear_avatar(State(m): St, actor: Actor) -> Listed {
    let id = actor.user_id;
    Ok(Json(
        m.clear_slot(&actor, MediaSubject::User, id, MediaSlot::Avatar)
            .await?,
    ))
}

/// A user's avatar.
#[utoipa::path(get, path = "/api/v1/users/{id}/media", tag = "media",
    params(("id" = Uuid, Path, description = "user id")),
    responses((status = 200, body = SubjectMedia)))]
async fn user_media(State(m): St, actor: Option<Actor>, Path(id): Path<Uuid>) -> Listed {
    Ok(Json(m.list(actor.as_ref(), MediaSubject::User, id).await?))
}

/// A review's photos.
#[utoipa::path(get, path = "/api/v1/reviews/{id}/photos", tag = "media",
    params(("id" = Uuid, Path, description = "review id")),
    responses((status = 200, body = SubjectMedia)))]
async fn review_photos(State(m): St, actor: Option<Actor>, Path(id): Path<Uuid>) -> Listed {
    Ok(Json(
        m.list(actor.as_ref(), MediaSubject::Review, id).await?,
    ))
}

/// Add a REVIEW_PHOTO upload to one's own review (`media.max_review_photos` at most).
#[utoipa::path(post, path = "/api/v1/reviews/{id}/photos", tag = "media", request_body = AttachRequest,
    params(("id" = Uuid, Path, description = "review id")), security(("bearer" = [])),
    responses((status = 200, body = SubjectMedia), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn add_review_photo(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(request): ApiJson<AttachRequest>,
) -> Listed {
    attach(
        &m,
        &actor,
        MediaSubject::Review,
        id,
        MediaSlot::Photos,
        request,
    )
    .await
}

/// Remove a photo from one's own review.
#[utoipa::path(delete, path = "/api/v1/reviews/{id}/photos/{mediaId}", tag = "media",
    params(("id" = Uuid, Path, description = "review id"), ("mediaId" = Uuid, Path, description = "media id")),
    security(("bearer" = [])),
    responses((status = 200, body = SubjectMedia), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn remove_review_photo(
    State(m): St,
    actor: Actor,
    Path((id, media_id)): Path<(Uuid, Uuid)>,
) -> Listed {
    Ok(Json(
        m.detach(&actor, MediaSubject::Review, id, media_id).await?,
    ))
}

impl From<MediaError> for Response {
    fn from(err: MediaError) -> Self {
        ApiError::from(err).into_response()
    }
}
