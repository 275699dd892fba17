//! Every SQL statement of chat, and nothing else.

use platform::db::{Db, Tx};
use platform::{on_db, on_tx, on_write};
use uuid::Uuid;

type Result<T> = std::result::Result<T, sqlx::Error>;

const CONVERSATION: &str = "id, customer_id, merchant_id, topic, last_seq, last_message_at, customer_delivered_seq, customer_read_seq, merchant_delivered_seq, merchant_read_seq, created_at";
const MESSAGE: &str =
    "id, conversation_id, seq, sender_id, sender_side, kind, body, media_id, client_id, created_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversationRow {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub merchant_id: Uuid,
    pub topic: String,
    pub last_seq: i64,
    pub last_message_at: Option<i64>,
    pub customer_delivered_seq: i64,
    pub customer_read_seq: i64,
    pub merchant_delivered_seq: i64,
    pub merchant_read_seq: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub seq: i64,
    pub sender_id: Uuid,
    pub sender_side: String,
    pub kind: String,
    pub body: Option<String>,
    pub media_id: Option<Uuid>,
    pub client_id: Option<String>,
    pub created_at: i64,
}

/// Inserts the conversation unless (customer, merchant, topic) has one; returns the stored one
/// and whether it is new.
pub async fn find_or_insert_conversation(
    tx: &mut Tx,
    id: Uuid,
    customer_id: Uuid,
    merchant_id: Uuid,
    topic: &str,
    now: i64,
) -> Result<(ConversationRow, bool)> {
    let inserted = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO chat_conversations (id, customer_id, merchant_id, topic, created_at, activity_at) VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (customer_id, merchant_id, topic) DO NOTHING"
    ).bind(id).bind(customer_id).bind(merchant_id).bind(topic).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
    let sql = format!(
        "SELECT {CONVERSATION} FROM chat_conversations WHERE customer_id = $1 AND merchant_id = $2 AND topic = $3"
    );
    let row = on_tx!(tx, conn => sqlx::query_as(&sql).bind(customer_id).bind(merchant_id).bind(topic).fetch_one(conn).await)?;
    Ok((row, inserted == 1))
}

pub async fn conversation(db: &Db, id: Uuid) -> Result<Option<ConversationRow>> {
    let sql = format!("SELECT {CONVERSATION} FROM chat_conversations WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

/// A conversation with what its reader has not read yet (the counterpart's messages after
/// the reader's read watermark).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedConversation {
    #[sqlx(flatten)]
    pub row: ConversationRow,
    pub unread: i64,
}

/// A customer's conversations, or a merchant's, latest activity first, after the position
/// `after` (activity, id of the last of the previous page), each with the unread count of
/// `reader_side`.
pub async fn conversations(
    db: &Db,
    customer_id: Option<Uuid>,
    merchant_id: Option<Uuid>,
    after: Option<(i64, Uuid)>,
    limit: u32,
    reader_side: &str,
) -> Result<Vec<ListedConversation>> {
    let sql = format!(
        "SELECT {CONVERSATION},
            (SELECT COUNT(*) FROM chat_messages m WHERE m.conversation_id = c.id AND m.sender_side <> $5
               AND m.seq > CASE WHEN $5 = 'CUSTOMER' THEN c.customer_read_seq ELSE c.merchant_read_seq END) AS unread
         FROM chat_conversations c
         WHERE ($1 IS NULL OR c.customer_id = $1) AND ($2 IS NULL OR c.merchant_id = $2)
           AND ($3 IS NULL OR (c.activity_at, c.id) < ($3, $6))
         ORDER BY c.activity_at DESC, c.id DESC LIMIT $4"
    );
    let (at, id) = (after.map(|a| a.0), after.map(|a| a.1));
    on_db!(db, pool => sqlx::query_as(&sql).bind(customer_id).bind(merchant_id).bind(at).bind(i64::from(limit)).bind(reader_side).bind(id).fetch_all(pool).await)
}

/// Messages of `side`'s counterpart after `read_seq`.
pub async fn unread(
    db: &Db,
    conversation_id: Uuid,
    reader_side: &str,
    read_seq: i64,
) -> Result<i64> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM chat_messages WHERE conversation_id = $1 AND seq > $2 AND sender_side <> $3"
    ).bind(conversation_id).bind(read_seq).bind(reader_side).fetch_one(pool).await)
}

/// The message a sender stored earlier under `client_id`.
pub async fn message_by_client_id(
    tx: &mut Tx,
    conversation_id: Uuid,
    sender_id: Uuid,
    client_id: &str,
) -> Result<Option<MessageRow>> {
    let sql = format!(
        "SELECT {MESSAGE} FROM chat_messages WHERE conversation_id = $1 AND sender_id = $2 AND client_id = $3"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(conversation_id).bind(sender_id).bind(client_id).fetch_optional(conn).await)
}

/// The conversation's counters as the message being stored found them.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Numbered {
    pub last_seq: i64,
    pub customer_read_seq: i64,
    pub merchant_read_seq: i64,
    pub customer_notified_seq: i64,
    pub merchant_notified_seq: i64,
}

/// Takes the next sequence number of the conversation (locking its row until commit).
pub async fn next_seq(tx: &mut Tx, conversation_id: Uuid, now: i64) -> Result<Numbered> {
    on_tx!(tx, conn => sqlx::query_as(
        "UPDATE chat_conversations SET last_seq = last_seq + 1, last_message_at = $2, activity_at = $2 WHERE id = $1
         RETURNING last_seq, customer_read_seq, merchant_read_seq, customer_notified_seq, merchant_notified_seq"
    ).bind(conversation_id).bind(now).fetch_one(conn).await)
}

/// Records that `side` is being notified of the message `seq`.
pub async fn mark_notified(tx: &mut Tx, conversation_id: Uuid, side: &str, seq: i64) -> Result<()> {
    let sql = if side == "CUSTOMER" {
        "UPDATE chat_conversations SET customer_notified_seq = $2 WHERE id = $1"
    } else {
        "UPDATE chat_conversations SET merchant_notified_seq = $2 WHERE id = $1"
    };
    on_tx!(tx, conn => sqlx::query(sql).bind(conversation_id).bind(seq).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn insert_message(tx: &mut Tx, m: &MessageRow) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO chat_messages (id, conversation_id, seq, sender_id, sender_side, kind, body, media_id, client_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ).bind(m.id).bind(m.conversation_id).bind(m.seq).bind(m.sender_id).bind(&m.sender_side).bind(&m.kind)
     .bind(&m.body).bind(m.media_id).bind(&m.client_id).bind(m.created_at)
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Newest first, before `before_seq`.
pub async fn messages_before(
    db: &Db,
    conversation_id: Uuid,
    before_seq: Option<i64>,
    limit: u32,
) -> Result<Vec<MessageRow>> {
    let sql = format!(
        "SELECT {MESSAGE} FROM chat_messages WHERE conversation_id = $1 AND ($2 IS NULL OR seq < $2)
         ORDER BY seq DESC LIMIT $3"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(conversation_id).bind(before_seq).bind(i64::from(limit)).fetch_all(pool).await)
}

/// Oldest first, after `after_seq`.
pub async fn messages_after(
    db: &Db,
    conversation_id: Uuid,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<MessageRow>> {
    let sql = format!(
        "SELECT {MESSAGE} FROM chat_messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(conversation_id).bind(after_seq).bind(i64::from(limit)).fetch_all(pool).await)
}

/// Raises one side's delivered or read watermark (never lowers it, never past the last
/// message; reading implies receiving); returns the conversation after.
pub async fn raise_watermark(
    db: &Db,
    conversation_id: Uuid,
    side: &str,
    read: bool,
    seq: i64,
) -> Result<Option<ConversationRow>> {
    let prefix = if side == "CUSTOMER" {
        "customer"
    } else {
        "merchant"
    };
    // max(column, min($2, last_seq)) in SQL both backends speak.
    let raised = |column: String| {
        format!(
            "{column} = CASE WHEN (CASE WHEN $2 < last_seq THEN $2 ELSE last_seq END) > {column}
             THEN (CASE WHEN $2 < last_seq THEN $2 ELSE last_seq END) ELSE {column} END"
        )
    };
    let mut sets = vec![raised(format!("{prefix}_delivered_seq"))];
    if read {
        sets.push(raised(format!("{prefix}_read_seq")));
    }
    let sql = format!(
        "UPDATE chat_conversations SET {} WHERE id = $1 RETURNING {CONVERSATION}",
        sets.join(", ")
    );
    on_write!(db, conn => sqlx::query_as(&sql).bind(conversation_id).bind(seq).fetch_optional(conn).await)
}
