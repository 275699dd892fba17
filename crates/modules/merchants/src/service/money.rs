//! Where a merchant's money goes: its bank account, commission rates, and the audit
//! trail of both.

use super::*;

impl Merchants {
    pub async fn set_bank_account(
        &self,
        actor: &Actor,
        id: Uuid,
        account: BankAccountInput,
    ) -> Result<BankAccountView> {
        domain::validate_bank_account(&account).map_err(invalid)?;
        let account = BankAccountInput {
            account_number: account.account_number.replace(' ', ""),
            bank_name: account.bank_name.trim().to_owned(),
            account_name: account.account_name.trim().to_owned(),
        };
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        store::merchant_in(&mut tx, id)
            .await?
            .ok_or(MerchantError::NotFound)?;
        store::set_bank_account(&mut tx, id, &to_json(&account), now).await?;
        let detail = format!(
            "{} {}",
            account.bank_name,
            domain::mask_account_number(&account.account_number)
        );
        store::audit(
            &mut tx,
            id,
            actor.user_id,
            "bank_account_changed",
            Some(&detail),
            now,
        )
        .await?;
        self.ctx.commit(tx).await?;
        Ok(BankAccountView {
            bank_name: account.bank_name,
            account_name: account.account_name,
            account_number: account.account_number,
            masked: false,
        })
    }

    /// The full bank account payouts go to (for ledger, through the internal route).
    pub async fn payout_account(&self, id: Uuid) -> Result<PayoutAccount> {
        let row = self.row(id).await?;
        let account = match &row.bank_account {
            None => None,
            Some(text) => {
                let account: BankAccountInput = from_json(text)?;
                Some(BankAccountDetails {
                    bank_name: account.bank_name,
                    account_name: account.account_name,
                    account_number: account.account_number,
                })
            }
        };
        Ok(PayoutAccount {
            merchant_id: id,
            account,
        })
    }

    pub async fn commission(&self, id: Uuid) -> Result<CommissionView> {
        let row = self.row(id).await?;
        let overrides = store::category_rates(&self.ctx.db, id).await?;
        let own = row.commission_bps.map(|r| r as u32);
        Ok(CommissionView {
            merchant_id: id,
            own_rate_bps: own,
            default_rate_bps: self.default_rate(),
            effective_rate_bps: own.unwrap_or(self.default_rate()),
            category_overrides: overrides
                .into_iter()
                .map(|(category_id, rate)| CategoryOverride {
                    category_id,
                    rate_bps: rate as u32,
                })
                .collect(),
        })
    }

    pub async fn quote(&self, id: Uuid, category_path: &[Uuid]) -> Result<CommissionQuote> {
        let row = self.row(id).await?;
        let overrides: Vec<(Uuid, u32)> = store::category_rates(&self.ctx.db, id)
            .await?
            .into_iter()
            .map(|(c, r)| (c, r as u32))
            .collect();
        Ok(CommissionQuote {
            merchant_id: id,
            rate_bps: domain::commission_rate(
                category_path,
                &overrides,
                row.commission_bps.map(|r| r as u32),
                self.default_rate(),
            ),
            status: Self::status_of(&row)?,
        })
    }

    pub async fn set_commission(
        &self,
        admin: &Actor,
        id: Uuid,
        rate: Option<u32>,
    ) -> Result<CommissionView> {
        if let Some(rate) = rate {
            domain::validate_rate("rateBps", rate).map_err(invalid)?;
        }
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        if !store::set_commission(&mut tx, id, rate.map(|r| r as i32), now).await? {
            return Err(MerchantError::NotFound);
        }
        let detail = rate.map_or("default".to_owned(), |r| format!("{r} bps"));
        store::audit(
            &mut tx,
            id,
            admin.user_id,
            "commission_set",
            Some(&detail),
            now,
        )
        .await?;
        self.ctx.commit(tx).await?;
        self.commission(id).await
    }

    pub async fn set_category_commission(
        &self,
        admin: &Actor,
        id: Uuid,
        category_id: Uuid,
        rate: Option<u32>,
    ) -> Result<CommissionView> {
        if let Some(rate) = rate {
            domain::validate_rate("rateBps", rate).map_err(invalid)?;
        }
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        store::merchant_in(&mut tx, id)
            .await?
            .ok_or(MerchantError::NotFound)?;
        store::set_category_rate(&mut tx, id, category_id, rate.map(|r| r as i32), now).await?;
        let detail = format!(
            "category {category_id}: {}",
            rate.map_or("removed".to_owned(), |r| format!("{r} bps"))
        );
        store::audit(
            &mut tx,
            id,
            admin.user_id,
            "category_commission_set",
            Some(&detail),
            now,
        )
        .await?;
        self.ctx.commit(tx).await?;
        self.commission(id).await
    }

    pub async fn audit_trail(
        &self,
        id: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        Ok(store::audit_trail(&self.ctx.db, id, after, limit)
            .await?
            .into_iter()
            .map(|r| AuditEntry {
                id: r.id,
                merchant_id: r.merchant_id,
                actor_id: r.actor_id,
                action: r.action,
                detail: r.detail,
                created_at: Timestamp::from_millis(r.created_at),
            })
            .collect())
    }
}
