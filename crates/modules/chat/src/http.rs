//! chat's HTTP face: the WebSocket, conversations and their history.

use axum::extract::{Path, Query, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kernel::error::Problem;
use kernel::{Actor, ActorKind, ApiError, Page, PageQuery, Permission};
use platform::http::{ApiJson, ClassPolicy};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::*;
use crate::service::Chat;

type St = State<Chat>;

/// The subprotocol the server speaks; browsers, which cannot set headers on a WebSocket,
/// offer their token as a second subprotocol `bearer.<token>`.
const PROTOCOL: &str = "pasar.chat";
const BEARER_PROTOCOL: &str = "bearer.";

pub fn router(chat: Chat) -> OpenApiRouter {
    chat.ctx
        .rate_limited(
            OpenApiRouter::new()
                .routes(routes!(socket))
                .routes(routes!(list, start))
                .routes(routes!(one))
                .routes(routes!(history, post))
                .routes(routes!(read)),
            ClassPolicy::ByMethod,
        )
        .with_state(chat)
}

/// The chat WebSocket. Authenticate with `Authorization: Bearer <token>`, or, from a browser,
/// by offering the subprotocols `pasar.chat` and `bearer.<token>`. Frames are JSON:
/// `ClientFrame` in, `ServerFrame` out.
#[utoipa::path(get, path = "/api/v1/chat/ws", tag = "chat", security(("bearer" = [])),
    responses((status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
async fn socket(
    State(chat): St,
    actor: Option<Actor>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    // The token is kept: the connection checks it again at every heartbeat.
    let from_header = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let from_protocol = headers
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find_map(|p| p.strip_prefix(BEARER_PROTOCOL).map(str::to_owned));
    let token = from_header.or(from_protocol).ok_or_else(|| {
        ApiError::unauthorized(
            "authentication_required",
            "A bearer access token is required (header or subprotocol)",
        )
    })?;
    let actor = match actor {
        Some(actor) => actor,
        None => chat
            .ctx
            .authenticator
            .authenticate_token(&token)
            .await
            .map_err(|_| {
                ApiError::unauthorized(
                    "invalid_token",
                    "The access token is invalid, expired or revoked",
                )
            })?,
    };
    // People chat; API keys (which do not expire) do not hold sockets open.
    if actor.kind != ActorKind::User {
        return Err(ApiError::forbidden(
            "chat connections are for signed-in people",
        ));
    }
    actor.require(Permission::ManageOwnAccount)?;
    let max = chat.config.max_frame_bytes;
    Ok(upgrade
        .protocols([PROTOCOL])
        .max_message_size(max)
        .max_frame_size(max)
        // Chat frames are small: the library's 128 KiB buffers would be most of what each
        // connection costs.
        .read_buffer_size(8 * 1024)
        .write_buffer_size(8 * 1024)
        .on_upgrade(move |ws| crate::socket::serve(chat, actor, token, ws))
        .into_response())
}

/// The caller's conversations as a customer, or, with `merchantId`, that merchant's (staff),
/// latest activity first (the last message, or the opening), with unread counts.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "chat",
    params(PageQuery, ConversationFilter), security(("bearer" = [])),
    responses((status = 200, body = Page<Conversation>), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
async fn list(
    State(chat): St,
    actor: Actor,
    Query(page): Query<PageQuery>,
    Query(filter): Query<ConversationFilter>,
) -> Result<Json<Page<Conversation>>, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    let limit = page.limit();
    // A position (latest activity, id), not a conversation to look up: one that moved since
    // does not shift the pages.
    let after = page
        .cursor()?
        .map(|cursor| {
            cursor
                .keyed_parts()
                .ok_or_else(|| ApiError::validation_one("cursor", "is not a valid cursor"))
        })
        .transpose()?;
    let items = chat
        .conversations(&actor, filter.merchant_id, after, limit + 1)
        .await?;
    Ok(Json(Page::from_overfetch(items, limit, |c| {
        let activity = c.last_message_at.unwrap_or(c.created_at).millis();
        kernel::Cursor::keyed(activity, c.id)
    })))
}

/// Opens a conversation with a merchant (201), or finds the existing one about the same topic
/// (200); `text` sends a first message.
#[utoipa::path(post, path = "/api/v1/conversations", tag = "chat",
    request_body = StartConversation, security(("bearer" = [])),
    responses((status = 201, body = Conversation), (status = 200, body = Conversation),
        (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn start(
    State(chat): St,
    actor: Actor,
    ApiJson(input): ApiJson<StartConversation>,
) -> Result<(StatusCode, Json<Conversation>), ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    let (conversation, created) = chat.start(&actor, input).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(conversation)))
}

#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "chat",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = Conversation), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
async fn one(
    State(chat): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Conversation>, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    Ok(Json(chat.conversation(&actor, id).await?))
}

/// History, newest first; `nextCursor` pages back.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "chat",
    params(("id" = Uuid, Path), HistoryQuery), security(("bearer" = [])),
    responses((status = 200, body = MessagePage), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn history(
    State(chat): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<MessagePage>, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    Ok(Json(
        chat.history(&actor, id, q.cursor.as_deref(), q.limit)
            .await?,
    ))
}

/// Sends a message without a WebSocket (201; 200 with the stored message when `clientId` was
/// used before).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "chat",
    params(("id" = Uuid, Path)), request_body = PostMessage, security(("bearer" = [])),
    responses((status = 201, body = ChatMessage), (status = 200, body = ChatMessage),
        (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn post(
    State(chat): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<PostMessage>,
) -> Result<(StatusCode, Json<ChatMessage>), ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    let (message, new) = chat.post(&actor, id, input).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(message)))
}

/// Marks messages up to `seq` read by the caller's side.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/read", tag = "chat",
    params(("id" = Uuid, Path)), request_body = MarkRead, security(("bearer" = [])),
    responses((status = 200, body = Conversation), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
async fn read(
    State(chat): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<MarkRead>,
) -> Result<Json<Conversation>, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    Ok(Json(chat.mark(&actor, id, input.seq, true).await?))
}
