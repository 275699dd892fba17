//! chat's use cases: conversations (`conversations`) and messages with their receipts
//! (`messages`), shared by the HTTP routes and the WebSocket.

mod conversations;
mod messages;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use catalog_contract::CatalogClient;
use kernel::{Actor, ApiError, CallError, MerchantPermission, Timestamp};
use merchants_contract::MerchantsClient;
use orders_contract::OrdersClient;
use platform::Context;
use uuid::Uuid;

use crate::api::*;
use crate::config::ChatConfig;
use crate::domain;
use crate::hub::{Hub, Room};
use crate::store::{self, ConversationRow, MessageRow};

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("conversation not found")]
    NotFound,
    #[error("merchant not found")]
    MerchantNotFound,
    #[error("no such product of the merchant")]
    ProductNotFound,
    #[error("no such order of the customer with the merchant")]
    OrderNotFound,
    #[error("staff cannot talk to their own merchant")]
    OwnMerchant,
    #[error("a message needs text or an image")]
    Empty,
    #[error("the text is too long")]
    TooLong,
    #[error("invalid input: {0}")]
    Invalid(&'static str, String),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("bus: {0}")]
    Bus(#[from] platform::bus::BusError),
    #[error("call: {0}")]
    Call(#[from] CallError),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl From<ChatError> for ApiError {
    fn from(err: ChatError) -> Self {
        let unprocessable = |code, detail: &str| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail.to_owned())
        };
        match err {
            ChatError::NotFound => ApiError::not_found(
                "conversation_not_found",
                "No such conversation, or not one you take part in",
            ),
            ChatError::MerchantNotFound => {
                ApiError::not_found("merchant_not_found", "No such merchant")
            }
            ChatError::ProductNotFound => {
                ApiError::not_found("product_not_found", "No such product of this merchant")
            }
            ChatError::OrderNotFound => ApiError::not_found(
                "order_not_found",
                "No such order of yours with this merchant",
            ),
            ChatError::OwnMerchant => unprocessable(
                "own_merchant",
                "Staff cannot open a conversation with their own merchant",
            ),
            ChatError::Empty => unprocessable("empty_message", "A message needs text or an image"),
            ChatError::TooLong => unprocessable("message_too_long", "The text is too long"),
            ChatError::Invalid(field, message) => ApiError::validation_one(field, &message),
            ChatError::Forbidden(why) => ApiError::forbidden(why),
            ChatError::Call(err) => err.into(),
            ChatError::Database(_) | ChatError::Bus(_) | ChatError::Corrupt(_) => {
                tracing::error!(error = %err, "chat failure");
                ApiError::internal()
            }
        }
    }
}

type Result<T> = std::result::Result<T, ChatError>;

#[derive(Clone)]
pub struct Chat {
    pub(crate) ctx: Context,
    pub(crate) config: Arc<ChatConfig>,
    pub(crate) hub: Arc<Hub>,
    merchants: MerchantsClient,
    catalog: CatalogClient,
    orders: OrdersClient,
}

/// A conversation as the caller takes part in it.
pub(crate) struct Participation {
    pub row: ConversationRow,
    pub side: Side,
}

impl Participation {
    /// Everyone on both sides.
    pub fn rooms(&self) -> [Room; 2] {
        [
            Room::User(self.row.customer_id),
            Room::Merchant(self.row.merchant_id),
        ]
    }

    /// The other side.
    pub fn counterpart(&self) -> Room {
        match self.side {
            Side::Customer => Room::Merchant(self.row.merchant_id),
            Side::Merchant => Room::User(self.row.customer_id),
        }
    }
}

impl Chat {
    pub fn new(ctx: Context) -> Self {
        let config: ChatConfig = ctx.config.section_or_default();
        let hub = Hub::new(
            ctx.fanout.clone(),
            ctx.cache.clone(),
            Duration::from_secs(config.heartbeat_secs.max(1)),
        );
        Self {
            merchants: MerchantsClient::new(ctx.services.clone(), "chat"),
            catalog: CatalogClient::new(ctx.services.clone(), "chat"),
            orders: OrdersClient::new(ctx.services.clone(), "chat"),
            config: Arc::new(config),
            hub,
            ctx,
        }
    }

    /// The conversation, if the caller takes part in it: its customer, or staff of its
    /// merchant. Everyone else is told it does not exist.
    pub(crate) async fn participation(&self, actor: &Actor, id: Uuid) -> Result<Participation> {
        let row = store::conversation(&self.ctx.db, id)
            .await?
            .ok_or(ChatError::NotFound)?;
        let side = side_of(actor, &row).ok_or(ChatError::NotFound)?;
        Ok(Participation { row, side })
    }
}

pub(crate) fn side_of(actor: &Actor, row: &ConversationRow) -> Option<Side> {
    if actor.user_id == row.customer_id {
        Some(Side::Customer)
    } else if actor.is_staff_with(row.merchant_id, MerchantPermission::ViewInternal) {
        Some(Side::Merchant)
    } else {
        None
    }
}

/// The rooms a connection of `actor` joins: their own, and each merchant they are staff of.
pub(crate) fn rooms_of(actor: &Actor) -> Vec<Room> {
    let mut rooms = vec![Room::User(actor.user_id)];
    rooms.extend(
        actor
            .memberships
            .iter()
            .filter(|m| actor.is_staff_with(m.merchant_id, MerchantPermission::ViewInternal))
            .map(|m| Room::Merchant(m.merchant_id)),
    );
    rooms
}

fn conversation_view(row: &ConversationRow, unread: i64) -> Conversation {
    Conversation {
        id: row.id,
        customer_id: row.customer_id,
        merchant_id: row.merchant_id,
        topic: domain::topic_of(&row.topic),
        last_seq: row.last_seq,
        last_message_at: row.last_message_at.map(Timestamp::from_millis),
        unread,
        customer_delivered_seq: row.customer_delivered_seq,
        customer_read_seq: row.customer_read_seq,
        merchant_delivered_seq: row.merchant_delivered_seq,
        merchant_read_seq: row.merchant_read_seq,
        created_at: Timestamp::from_millis(row.created_at),
    }
}

fn message_view(row: &MessageRow) -> Result<ChatMessage> {
    let corrupt = |what: &str| ChatError::Corrupt(format!("{what} of message {}", row.id));
    Ok(ChatMessage {
        id: row.id,
        conversation_id: row.conversation_id,
        seq: row.seq,
        sender_id: row.sender_id,
        sender_side: Side::parse(&row.sender_side).ok_or_else(|| corrupt("side"))?,
        kind: MessageKind::parse(&row.kind).ok_or_else(|| corrupt("kind"))?,
        text: row.body.clone(),
        media_id: row.media_id,
        client_id: row.client_id.clone(),
        created_at: Timestamp::from_millis(row.created_at),
    })
}

fn receipt(row: &ConversationRow) -> ServerFrame {
    ServerFrame::Receipt {
        conversation_id: row.id,
        customer_delivered_seq: row.customer_delivered_seq,
        customer_read_seq: row.customer_read_seq,
        merchant_delivered_seq: row.merchant_delivered_seq,
        merchant_read_seq: row.merchant_read_seq,
    }
}
