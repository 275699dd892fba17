//! Opening a conversation (once per customer, merchant and topic) and listing them with
//! unread counts.

use kernel::{Actor, ActorKind, Timestamp};
use merchants_contract::MerchantsCode;
use uuid::Uuid;

use super::*;

impl Chat {
    /// Opens the caller's conversation with a merchant, or finds it again; with `text`, sends
    /// it as the first message. Returns whether the conversation is new.
    pub async fn start(
        &self,
        actor: &Actor,
        input: StartConversation,
    ) -> Result<(Conversation, bool)> {
        if actor.kind != ActorKind::User {
            return Err(ChatError::Forbidden(
                "conversations belong to signed-in people",
            ));
        }
        if actor.staff_role(input.merchant_id).is_some() {
            return Err(ChatError::OwnMerchant);
        }
        let topic = match (input.product_id, input.order_id) {
            (Some(_), Some(_)) => {
                return Err(ChatError::Invalid(
                    "orderId",
                    "a conversation is about a product or an order, not both".into(),
                ))
            }
            (Some(id), None) => Some(Topic {
                kind: TopicKind::Product,
                id,
            }),
            (None, Some(id)) => Some(Topic {
                kind: TopicKind::Order,
                id,
            }),
            (None, None) => None,
        };
        // Checked before anything is stored: a first message that would be refused refuses
        // the whole request.
        if let Some(text) = &input.text {
            domain::message_text(Some(text), false, self.config.max_text_chars).map_err(problem)?;
        }
        if input
            .client_id
            .as_deref()
            .is_some_and(|id| !domain::valid_client_id(id))
        {
            return Err(ChatError::Invalid(
                "clientId",
                "must be 1 to 64 printable ASCII characters".into(),
            ));
        }
        match self
            .merchants
            .commission(input.merchant_id, Vec::new())
            .await
        {
            Err(err) if err.is(MerchantsCode::MerchantNotFound) => {
                return Err(ChatError::MerchantNotFound)
            }
            other => other?,
        };
        let mut tx = self.ctx.db.begin().await?;
        let (row, created) = store::find_or_insert_conversation(
            &mut tx,
            kernel::new_id(),
            actor.user_id,
            input.merchant_id,
            &domain::topic_key(topic),
            Timestamp::now().millis(),
        )
        .await?;
        tx.commit().await?;
        if let Some(text) = input.text {
            let first = PostMessage {
                client_id: input.client_id,
                text: Some(text),
                media_id: None,
            };
            self.post(actor, row.id, first).await?;
        }
        let after = self.participation(actor, row.id).await?;
        Ok((self.view(&after).await?, created))
    }

    pub async fn conversation(&self, actor: &Actor, id: Uuid) -> Result<Conversation> {
        let participation = self.participation(actor, id).await?;
        self.view(&participation).await
    }

    /// The caller's conversations as a customer, or, with `merchant_id`, that merchant's (its
    /// staff only); newest first.
    pub async fn conversations(
        &self,
        actor: &Actor,
        merchant_id: Option<Uuid>,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Conversation>> {
        let (customer, side) = match merchant_id {
            Some(m) if actor.is_staff_with(m, kernel::MerchantPermission::ViewInternal) => {
                (None, Side::Merchant)
            }
            Some(_) => {
                return Err(ChatError::Forbidden(
                    "only the merchant's staff see its conversations",
                ))
            }
            None => (Some(actor.user_id), Side::Customer),
        };
        let rows = store::conversations(&self.ctx.db, customer, merchant_id, before, limit).await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            items.push(self.view(&Participation { row, side }).await?);
        }
        Ok(items)
    }

    pub(crate) async fn view(&self, p: &Participation) -> Result<Conversation> {
        let read = match p.side {
            Side::Customer => p.row.customer_read_seq,
            Side::Merchant => p.row.merchant_read_seq,
        };
        let unread = store::unread(&self.ctx.db, p.row.id, p.side.as_str(), read).await?;
        Ok(conversation_view(&p.row, unread))
    }
}

pub(super) fn problem(problem: domain::MessageProblem) -> ChatError {
    match problem {
        domain::MessageProblem::Empty => ChatError::Empty,
        domain::MessageProblem::TooLong => ChatError::TooLong,
    }
}
