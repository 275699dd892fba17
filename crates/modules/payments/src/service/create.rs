//! Creating payments and reading them (the payer and admins).

use super::*;

impl Payments {
    pub async fn create(
        &self,
        actor: &Actor,
        request: CreatePayment,
        attempt: Option<&Attempt>,
    ) -> Result<Payment> {
        if actor.kind != ActorKind::User {
            return Err(PaymentsError::Forbidden("Only the customer pays an order"));
        }
        let provider = self.providers.get(&request.method).ok_or_else(|| {
            PaymentsError::MethodUnavailable(request.method.clone(), self.providers.names())
        })?;
        let payable = match self.orders.payable(request.order_group_id).await {
            Ok(payable) => payable,
            Err(err) if err.is(OrdersCode::OrderNotFound) => {
                return Err(PaymentsError::GroupNotFound)
            }
            Err(err) => return Err(err.into()),
        };
        // Another customer's group does not exist for this one.
        if payable.customer_id != actor.user_id {
            return Err(PaymentsError::GroupNotFound);
        }
        if payable.paid {
            return Err(PaymentsError::AlreadyPaid);
        }
        if payable.orders.is_empty() || payable.amount <= 0 {
            return Err(PaymentsError::NothingToPay);
        }
        if payable.expires_at.millis() <= Timestamp::now().millis() {
            return Err(PaymentsError::WindowClosed);
        }
        let id = kernel::new_id();
        // The provider is asked before any transaction opens: no lock is held across the network.
        let initiated = provider
            .initiate(&PaymentIntent {
                payment_id: id,
                group_number: &payable.group_number,
                amount: payable.amount,
                currency: payable.currency,
                expires_at: payable.expires_at,
            })
            .await?;
        let now = Timestamp::now();
        let row = PaymentRow {
            id,
            order_group_id: payable.group_id,
            customer_id: actor.user_id,
            provider: provider.name().to_owned(),
            amount: payable.amount,
            currency: payable.currency.code().to_owned(),
            orders: to_json(&payable.orders)?,
            provider_reference: initiated.provider_reference,
            instructions: to_json(&initiated.instructions)?,
            created_at: now.millis(),
        };
        let mut tx = self.ctx.db.begin().await?;
        store::insert_payment(&mut tx, &row).await?;
        store::append(
            &mut tx,
            id,
            1,
            TxKind::Initiated.as_str(),
            0,
            &row.currency,
            None,
            None,
            now,
        )
        .await?;
        if provider.verified_by_hand() {
            store::await_operator(
                &mut tx,
                id,
                AwaitingKind::Verification.as_str(),
                "",
                row.amount,
                now,
            )
            .await?;
        }
        let view = view(
            &row,
            &[TxRow {
                seq: 1,
                kind: TxKind::Initiated.as_str().to_owned(),
                amount: 0,
                currency: row.currency.clone(),
                reference: None,
                detail: None,
                created_at: now.millis(),
            }],
        )?;
        if let Some(attempt) = attempt {
            if !idempotency::complete(&mut tx, attempt, StatusCode::CREATED, &view).await? {
                return Err(PaymentsError::Contended);
            }
        }
        tx.commit().await?;
        Ok(view)
    }

    pub(crate) async fn visible(&self, actor: &Actor, id: Uuid) -> Result<PaymentRow> {
        let row = store::payment(&self.ctx.db, id)
            .await?
            .ok_or(PaymentsError::NotFound)?;
        let own = actor.kind == ActorKind::User && actor.user_id == row.customer_id;
        if !own && !actor.can(Permission::AdminPayments) {
            return Err(PaymentsError::NotFound);
        }
        Ok(row)
    }

    pub async fn get(&self, actor: &Actor, id: Uuid) -> Result<Payment> {
        let row = self.visible(actor, id).await?;
        let txs = store::transactions(&self.ctx.db, id).await?;
        view(&row, &txs)
    }

    pub async fn instructions(&self, actor: &Actor, id: Uuid) -> Result<Instructions> {
        let row = self.visible(actor, id).await?;
        serde_json::from_str(&row.instructions).map_err(|e| PaymentsError::Corrupt(e.to_string()))
    }

    pub async fn of_group(&self, actor: &Actor, group_id: Uuid) -> Result<Vec<Payment>> {
        let rows = store::payments_of_group(&self.ctx.db, group_id).await?;
        let mut views = Vec::new();
        for row in rows {
            let own = actor.kind == ActorKind::User && actor.user_id == row.customer_id;
            if own || actor.can(Permission::AdminPayments) {
                let txs = store::transactions(&self.ctx.db, row.id).await?;
                views.push(view(&row, &txs)?);
            }
        }
        Ok(views)
    }
}
