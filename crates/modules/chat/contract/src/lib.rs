//! The public face of chat: conversations between a customer and a merchant, their messages,
//! the frames of the WebSocket, and the event other modules hear.

mod errors;
pub use errors::ChatCode;

mod states;
pub use states::*;

use kernel::{DomainEvent, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub const SOURCE: &str = "chat";

/// A customer opens (or finds again) their conversation with a merchant, optionally about a
/// product or one of their orders, optionally with a first message.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartConversation {
    pub merchant_id: Uuid,
    #[serde(default)]
    pub product_id: Option<Uuid>,
    #[serde(default)]
    pub order_id: Option<Uuid>,
    #[serde(default)]
    pub text: Option<String>,
    /// The client's id for the first message: opening again with it does not send it twice.
    #[serde(default)]
    pub client_id: Option<String>,
}

/// What a conversation is about, when it is about something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Topic {
    pub kind: TopicKind,
    pub id: Uuid,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub merchant_id: Uuid,
    pub topic: Option<Topic>,
    /// The sequence number of the newest message (0: none yet).
    pub last_seq: i64,
    pub last_message_at: Option<Timestamp>,
    /// Messages from the other side the caller has not read.
    pub unread: i64,
    /// How far each side has received and read, by sequence number.
    pub customer_delivered_seq: i64,
    pub customer_read_seq: i64,
    pub merchant_delivered_seq: i64,
    pub merchant_read_seq: i64,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    pub id: Uuid,
    pub conversation_id: Uuid,
    /// 1, 2, 3, … within the conversation: a gap tells a client it missed messages.
    pub seq: i64,
    pub sender_id: Uuid,
    pub sender_side: Side,
    pub kind: MessageKind,
    pub text: Option<String>,
    pub media_id: Option<Uuid>,
    /// The sender's own id for the message: sending again with it returns the same message.
    pub client_id: Option<String>,
    pub created_at: Timestamp,
}

/// A message sent over HTTP (the WebSocket `send` frame carries the same fields).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PostMessage {
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    /// An image the sender uploaded (`POST /api/v1/media/upload`).
    #[serde(default)]
    pub media_id: Option<Uuid>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MarkRead {
    /// Messages up to this sequence number are read.
    pub seq: i64,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ConversationFilter {
    /// As staff: the merchant whose conversations to list. Without it, the caller's own as a
    /// customer.
    pub merchant_id: Option<Uuid>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Messages before this sequence number (the `nextCursor` of the previous page).
    pub cursor: Option<String>,
    /// 1 to 100 (default 50).
    pub limit: Option<u32>,
}

/// One page of history, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    pub items: Vec<ChatMessage>,
    pub next_cursor: Option<String>,
}

/// What a client sends over the WebSocket (JSON text frames, `type` first).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum ClientFrame {
    /// A message; answered by `ack` once it is stored.
    Send {
        conversation_id: Uuid,
        client_id: String,
        #[serde(default)]
        text: Option<String>,
        #[serde(default)]
        media_id: Option<Uuid>,
    },
    /// The caller is typing; the other side gets `typing` (not stored).
    Typing {
        conversation_id: Uuid,
    },
    /// The caller received messages up to `seq`.
    Delivered {
        conversation_id: Uuid,
        seq: i64,
    },
    /// The caller read messages up to `seq`.
    Read {
        conversation_id: Uuid,
        seq: i64,
    },
    /// Messages after `after_seq`, after a reconnect (answered by `history`).
    Resume {
        conversation_id: Uuid,
        after_seq: i64,
    },
    /// Whether someone of the other side is connected (answered by `presence`).
    Presence {
        conversation_id: Uuid,
    },
    Ping,
}

/// What the server sends over the WebSocket.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ServerFrame {
    /// The connection is authenticated and subscribed.
    Ready {
        user_id: Uuid,
    },
    /// The message with `client_id` is stored (sent again on a repeated `send`).
    Ack {
        client_id: String,
        message: ChatMessage,
    },
    /// A new message in one of the caller's conversations.
    Message {
        message: ChatMessage,
    },
    Typing {
        conversation_id: Uuid,
        user_id: Uuid,
        side: Side,
    },
    /// How far each side has received and read.
    Receipt {
        conversation_id: Uuid,
        customer_delivered_seq: i64,
        customer_read_seq: i64,
        merchant_delivered_seq: i64,
        merchant_read_seq: i64,
    },
    /// Messages after a `resume`, oldest first; `more` when another `resume` is needed.
    History {
        conversation_id: Uuid,
        messages: Vec<ChatMessage>,
        more: bool,
    },
    Presence {
        conversation_id: Uuid,
        online: bool,
    },
    Pong,
    /// A refused frame (the connection stays open unless the close frame says otherwise).
    Error {
        code: String,
        detail: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
}

/// A message was stored. Notifications tells the other side when nobody of it was connected.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessagePosted {
    pub conversation_id: Uuid,
    pub message_id: Uuid,
    pub customer_id: Uuid,
    pub merchant_id: Uuid,
    pub sender_side: Side,
    /// The start of the text (or empty for an image).
    pub preview: String,
    /// Whether someone of the receiving side had a live connection when it was stored.
    pub recipient_online: bool,
    /// Whether to notify the receiving side: nobody of it was connected, and it had been
    /// notified of nothing it has not read since (a burst of messages to someone away is one
    /// notification, not one per message).
    #[serde(default = "notify_by_default")]
    pub notify: bool,
}

fn notify_by_default() -> bool {
    true
}

impl DomainEvent for ChatMessagePosted {
    const TYPE: &'static str = "chat.message_posted";
    fn aggregate_id(&self) -> String {
        self.conversation_id.to_string()
    }
}

/// Every event chat publishes, for the event catalogue.
pub fn events() -> Vec<kernel::EventSpec> {
    vec![kernel::EventSpec::of::<ChatMessagePosted>()]
}
