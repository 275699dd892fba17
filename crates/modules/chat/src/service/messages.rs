//! Messages: stored (with their sequence number) before anyone is told, then sent to both
//! sides' connections; history pages; delivered and read receipts.

use kernel::{Actor, Timestamp};
use uuid::Uuid;

use super::conversations::problem;
use super::*;

impl Chat {
    /// Stores a message from the caller and tells both sides. A `client_id` the sender used
    /// before in this conversation returns the stored message instead (false: not new).
    pub async fn post(
        &self,
        actor: &Actor,
        conversation_id: Uuid,
        input: PostMessage,
    ) -> Result<(ChatMessage, bool)> {
        let p = self.participation(actor, conversation_id).await?;
        if let Some(id) = &input.client_id {
            if !domain::valid_client_id(id) {
                return Err(ChatError::Invalid(
                    "clientId",
                    "must be 1 to 64 printable ASCII characters".into(),
                ));
            }
        }
        let text = domain::message_text(
            input.text.as_deref(),
            input.media_id.is_some(),
            self.config.max_text_chars,
        )
        .map_err(problem)?;
        // Asked before the transaction: no cache round trip while the conversation is locked.
        let recipient_online = self.hub.online(p.counterpart()).await;
        let mut tx = self.ctx.db.begin().await?;
        if let Some(client_id) = &input.client_id {
            if let Some(row) =
                store::message_by_client_id(&mut tx, conversation_id, actor.user_id, client_id)
                    .await?
            {
                tx.rollback().await?;
                return Ok((message_view(&row)?, false));
            }
        }
        let now = Timestamp::now().millis();
        let numbered = store::next_seq(&mut tx, conversation_id, now).await?;
        let seq = numbered.last_seq;
        let (recipient, read, notified) = match p.side {
            Side::Customer => (
                Side::Merchant,
                numbered.merchant_read_seq,
                numbered.merchant_notified_seq,
            ),
            Side::Merchant => (
                Side::Customer,
                numbered.customer_read_seq,
                numbered.customer_notified_seq,
            ),
        };
        // Someone away hears of the first message they have not read, not of every one after.
        let notify = !recipient_online && notified <= read;
        if notify {
            store::mark_notified(&mut tx, conversation_id, recipient.as_str(), seq).await?;
        }
        let row = MessageRow {
            id: kernel::new_id(),
            conversation_id,
            seq,
            sender_id: actor.user_id,
            sender_side: p.side.as_str().to_owned(),
            kind: if input.media_id.is_some() {
                MessageKind::Media
            } else {
                MessageKind::Text
            }
            .as_str()
            .to_owned(),
            body: text,
            media_id: input.media_id,
            client_id: input.client_id,
            created_at: now,
        };
        match store::insert_message(&mut tx, &row).await {
            // The same client id sent twice at once: the other one was stored.
            Err(err) if platform::db::is_unique_violation(&err) => {
                tx.rollback().await?;
                let mut tx = self.ctx.db.begin().await?;
                let client_id = row.client_id.as_deref().unwrap_or_default();
                let stored =
                    store::message_by_client_id(&mut tx, conversation_id, actor.user_id, client_id)
                        .await?
                        .ok_or(ChatError::Database(err))?;
                tx.rollback().await?;
                return Ok((message_view(&stored)?, false));
            }
            other => other?,
        }
        platform::bus::publish(
            &mut tx,
            SOURCE,
            &ChatMessagePosted {
                conversation_id,
                message_id: row.id,
                customer_id: p.row.customer_id,
                merchant_id: p.row.merchant_id,
                sender_side: p.side,
                preview: domain::preview(row.body.as_deref(), 120),
                recipient_online,
                notify,
            },
        )
        .await?;
        self.ctx.commit(tx).await?;
        let message = message_view(&row)?;
        self.hub.send(
            &p.rooms(),
            &ServerFrame::Message {
                message: message.clone(),
            },
        );
        metrics::counter!("pasar_chat_messages_total").increment(1);
        Ok((message, true))
    }

    /// A page of history, newest first, before the sequence number in `cursor`.
    pub async fn history(
        &self,
        actor: &Actor,
        conversation_id: Uuid,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<MessagePage> {
        self.participation(actor, conversation_id).await?;
        let before = match cursor {
            None => None,
            Some(c) => Some(c.parse::<i64>().ok().filter(|s| *s > 0).ok_or_else(|| {
                ChatError::Invalid("cursor", "must be a cursor from a previous page".into())
            })?),
        };
        let limit = limit.unwrap_or(self.config.page_size).clamp(1, 100);
        let rows = store::messages_before(&self.ctx.db, conversation_id, before, limit + 1).await?;
        let more = rows.len() > limit as usize;
        let items = rows
            .iter()
            .take(limit as usize)
            .map(message_view)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = items.last().filter(|_| more).map(|m| m.seq.to_string());
        Ok(MessagePage { items, next_cursor })
    }

    /// Messages after `after_seq`, oldest first (at most a page), and whether more follow.
    pub async fn after(
        &self,
        actor: &Actor,
        conversation_id: Uuid,
        after_seq: i64,
    ) -> Result<(Vec<ChatMessage>, bool)> {
        self.participation(actor, conversation_id).await?;
        let limit = self.config.page_size.clamp(1, 100);
        let rows =
            store::messages_after(&self.ctx.db, conversation_id, after_seq.max(0), limit + 1)
                .await?;
        let more = rows.len() > limit as usize;
        let messages = rows
            .iter()
            .take(limit as usize)
            .map(message_view)
            .collect::<Result<Vec<_>>>()?;
        Ok((messages, more))
    }

    /// The caller's side received (or read) messages up to `seq`: both sides are told.
    pub async fn mark(
        &self,
        actor: &Actor,
        conversation_id: Uuid,
        seq: i64,
        read: bool,
    ) -> Result<Conversation> {
        let p = self.participation(actor, conversation_id).await?;
        let row = store::raise_watermark(&self.ctx.db, conversation_id, p.side.as_str(), read, seq)
            .await?
            .ok_or(ChatError::NotFound)?;
        self.hub.send(&p.rooms(), &receipt(&row));
        self.view(&Participation { row, side: p.side }).await
    }

    /// Tells the other side the caller is typing.
    pub async fn typing(&self, actor: &Actor, conversation_id: Uuid) -> Result<()> {
        let p = self.participation(actor, conversation_id).await?;
        self.hub.send(
            &[p.counterpart()],
            &ServerFrame::Typing {
                conversation_id,
                user_id: actor.user_id,
                side: p.side,
            },
        );
        Ok(())
    }

    /// Whether anyone of the other side is connected.
    pub async fn presence(&self, actor: &Actor, conversation_id: Uuid) -> Result<bool> {
        let p = self.participation(actor, conversation_id).await?;
        Ok(self.hub.online(p.counterpart()).await)
    }
}
