//! Opening a conversation (once per customer, merchant and topic) and listing them with
//! unread counts.

use catalog_contract::ReferenceLookup;
use kernel::{Actor, ActorKind, Timestamp};
use merchants_contract::MerchantsCode;
use orders_contract::OrdersCode;
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
        if let Some(topic) = &topic {
            self.check_topic(actor, input.merchant_id, topic).await?;
        }
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

    /// A conversation is about the merchant's own product, or an order between the caller and
    /// the merchant: nobody can attach someone else's order (or learn that it exists).
    async fn check_topic(&self, actor: &Actor, merchant_id: Uuid, topic: &Topic) -> Result<()> {
        match topic.kind {
            TopicKind::Product => {
                let lookup = ReferenceLookup {
                    product_ids: vec![topic.id],
                    ..ReferenceLookup::default()
                };
                let known = self.catalog.references(&lookup).await?;
                let sold_here = known
                    .product_merchants
                    .iter()
                    .any(|p| p.product_id == topic.id && p.merchant_id == merchant_id);
                if !sold_here {
                    return Err(ChatError::ProductNotFound);
                }
            }
            TopicKind::Order => match self.orders.parties(topic.id).await {
                Ok(p) if p.customer_id == actor.user_id && p.merchant_id == merchant_id => {}
                Ok(_) => return Err(ChatError::OrderNotFound),
                Err(err) if err.is(OrdersCode::OrderNotFound) => {
                    return Err(ChatError::OrderNotFound)
                }
                Err(err) => return Err(err.into()),
            },
        }
        Ok(())
    }

    pub async fn conversation(&self, actor: &Actor, id: Uuid) -> Result<Conversation> {
        let participation = self.participation(actor, id).await?;
        self.view(&participation).await
    }

    /// The caller's conversations as a customer, or, with `merchant_id`, that merchant's (its
    /// staff only); latest activity first.
    pub async fn conversations(
        &self,
        actor: &Actor,
        merchant_id: Option<Uuid>,
        after: Option<(i64, Uuid)>,
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
        let rows = store::conversations(
            &self.ctx.db,
            customer,
            merchant_id,
            after,
            limit,
            side.as_str(),
        )
        .await?;
        Ok(rows
            .iter()
            .map(|listed| conversation_view(&listed.row, listed.unread))
            .collect())
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
