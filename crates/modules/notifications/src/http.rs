//! Notifications' HTTP face: the in-app inbox, preferences, devices, and the admin view of
//! deliveries and scheduled messages.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use kernel::error::Problem;
use kernel::{Actor, ApiError, Page, PageQuery, Permission};
use platform::http::{ApiJson, ClassPolicy};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::*;
use crate::service::Notifications;

type St = State<Arc<Notifications>>;

pub fn router(notifications: Arc<Notifications>) -> OpenApiRouter {
    notifications
        .ctx
        .rate_limited(
            OpenApiRouter::new()
                .routes(routes!(list))
                .routes(routes!(unread_count))
                .routes(routes!(mark_read))
                .routes(routes!(mark_all_read))
                .routes(routes!(get_preferences, put_preferences))
                .routes(routes!(register_device))
                .routes(routes!(remove_device))
                .routes(routes!(deliveries))
                .routes(routes!(schedule, scheduled_list))
                .routes(routes!(scheduled_one))
                .routes(routes!(cancel_scheduled)),
            ClassPolicy::ByMethod,
        )
        .with_state(notifications)
}

/// The signed-in user's in-app messages, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", operation_id = "list_notifications", tag = "notifications",
    params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<InAppMessage>), (status = 401, body = Problem)))]
async fn list(
    State(n): St,
    actor: Actor,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<InAppMessage>>, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    let limit = page.limit();
    let items = n.inbox(actor.user_id, page.id_cursor()?, limit + 1).await?;
    Ok(Json(Page::from_overfetch(items, limit, |m| {
        m.id.to_string()
    })))
}

/// How many in-app messages are unread.
#[utoipa::path(get, path = "/api/v1/notifications/unread-count", tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, body = UnreadCount), (status = 401, body = Problem)))]
async fn unread_count(State(n): St, actor: Actor) -> Result<Json<UnreadCount>, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    Ok(Json(UnreadCount {
        unread: n.unread(actor.user_id).await?,
    }))
}

/// Mark one message read (idempotent).
#[utoipa::path(put, path = "/api/v1/notifications/{id}/read", tag = "notifications",
    params(("id" = Uuid, Path, description = "Message id")), security(("bearer" = [])),
    responses((status = 200, body = InAppMessage), (status = 404, body = Problem)))]
async fn mark_read(
    State(n): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<InAppMessage>, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    Ok(Json(n.mark_read(actor.user_id, id).await?))
}

/// Mark every message read.
#[utoipa::path(put, path = "/api/v1/notifications/read-all", tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, body = UnreadCount), (status = 401, body = Problem)))]
async fn mark_all_read(State(n): St, actor: Actor) -> Result<Json<UnreadCount>, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    n.mark_all_read(actor.user_id).await?;
    Ok(Json(UnreadCount { unread: 0 }))
}

/// Language and channel choices per category.
#[utoipa::path(get, path = "/api/v1/notifications/preferences", tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, body = Preferences), (status = 401, body = Problem)))]
async fn get_preferences(State(n): St, actor: Actor) -> Result<Json<Preferences>, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    Ok(Json(n.preferences(actor.user_id).await?))
}

/// Change the language and/or some channel choices. Security messages cannot be switched off.
#[utoipa::path(put, path = "/api/v1/notifications/preferences", tag = "notifications",
    request_body = UpdatePreferences, security(("bearer" = [])),
    responses((status = 200, body = Preferences), (status = 422, body = Problem)))]
async fn put_preferences(
    State(n): St,
    actor: Actor,
    ApiJson(update): ApiJson<UpdatePreferences>,
) -> Result<Json<Preferences>, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    Ok(Json(n.update_preferences(actor.user_id, update).await?))
}

/// Register this device for push messages.
#[utoipa::path(post, path = "/api/v1/notifications/devices", tag = "notifications",
    request_body = RegisterDevice, security(("bearer" = [])),
    responses((status = 204, description = "Registered"), (status = 422, body = Problem)))]
async fn register_device(
    State(n): St,
    actor: Actor,
    ApiJson(device): ApiJson<RegisterDevice>,
) -> Result<StatusCode, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    n.register_device(actor.user_id, device).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stop push messages to a device.
#[utoipa::path(delete, path = "/api/v1/notifications/devices/{token}", tag = "notifications",
    params(("token" = String, Path, description = "Push token")), security(("bearer" = [])),
    responses((status = 204, description = "Removed"), (status = 404, body = Problem)))]
async fn remove_device(
    State(n): St,
    actor: Actor,
    Path(token): Path<String>,
) -> Result<StatusCode, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    n.remove_device(actor.user_id, &token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deliveries, newest first; `status=FAILED` lists the dead letters (admin).
#[utoipa::path(get, path = "/api/v1/admin/notifications/deliveries", tag = "admin",
    params(PageQuery, DeliveryFilter), security(("bearer" = [])),
    responses((status = 200, body = Page<DeliveryView>), (status = 403, body = Problem)))]
async fn deliveries(
    State(n): St,
    actor: Actor,
    Query(page): Query<PageQuery>,
    Query(filter): Query<DeliveryFilter>,
) -> Result<Json<Page<DeliveryView>>, ApiError> {
    actor.require(Permission::AdminNotifications)?;
    let limit = page.limit();
    let items = n
        .deliveries(filter.status.as_deref(), page.id_cursor()?, limit + 1)
        .await?;
    Ok(Json(Page::from_overfetch(items, limit, |d| {
        d.id.to_string()
    })))
}

/// Schedules a message to the listed users or everyone, sent at `sendAt` (admin).
#[utoipa::path(post, path = "/api/v1/admin/notifications/scheduled", tag = "admin",
    request_body = ScheduleMessage, security(("bearer" = [])),
    responses((status = 201, body = ScheduledMessage), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn schedule(
    State(n): St,
    actor: Actor,
    ApiJson(input): ApiJson<ScheduleMessage>,
) -> Result<(StatusCode, Json<ScheduledMessage>), ApiError> {
    actor.require(Permission::AdminNotifications)?;
    Ok((StatusCode::CREATED, Json(n.schedule(&actor, input).await?)))
}

/// Scheduled messages, newest first (admin).
#[utoipa::path(get, path = "/api/v1/admin/notifications/scheduled", tag = "admin",
    params(PageQuery, ScheduledFilter), security(("bearer" = [])),
    responses((status = 200, body = Page<ScheduledMessage>), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
async fn scheduled_list(
    State(n): St,
    actor: Actor,
    Query(page): Query<PageQuery>,
    Query(filter): Query<ScheduledFilter>,
) -> Result<Json<Page<ScheduledMessage>>, ApiError> {
    actor.require(Permission::AdminNotifications)?;
    let limit = page.limit();
    let items = n
        .scheduled_list(filter.status, page.id_cursor()?, limit + 1)
        .await?;
    Ok(Json(Page::from_overfetch(items, limit, |m| {
        m.id.to_string()
    })))
}

/// One scheduled message, with how many people it was planned for so far (admin).
#[utoipa::path(get, path = "/api/v1/admin/notifications/scheduled/{id}", tag = "admin",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = ScheduledMessage), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn scheduled_one(
    State(n): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<ScheduledMessage>, ApiError> {
    actor.require(Permission::AdminNotifications)?;
    Ok(Json(n.scheduled(id).await?))
}

/// Cancels a message that has not started sending (admin).
#[utoipa::path(post, path = "/api/v1/admin/notifications/scheduled/{id}/cancel", tag = "admin",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = ScheduledMessage), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
async fn cancel_scheduled(
    State(n): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<ScheduledMessage>, ApiError> {
    actor.require(Permission::AdminNotifications)?;
    Ok(Json(n.cancel_scheduled(id).await?))
}
