//! Outlets: the locations where vouchers are redeemed and stock is kept; and the merchant's
//! own address as the origin of its parcels.

use super::*;

impl Merchants {
    pub(crate) fn outlet(row: OutletRow) -> Result<Outlet> {
        Ok(Outlet {
            id: row.id,
            merchant_id: row.merchant_id,
            name: row.name,
            address: from_json(&row.address)?,
            location: GeoPoint {
                latitude: row.latitude,
                longitude: row.longitude,
            },
            phone: row.phone,
            opening_hours: from_json(&row.opening_hours)?,
            created_at: Timestamp::from_millis(row.created_at),
            updated_at: Timestamp::from_millis(row.updated_at),
        })
    }

    /// Outlets of a merchant: public while ACTIVE, always to its staff and admins.
    pub async fn outlets(&self, id: Uuid, privileged: bool) -> Result<Vec<Outlet>> {
        let row = self.row(id).await?;
        if !privileged && Self::status_of(&row)? != MerchantStatus::Active {
            return Err(MerchantError::NotFound);
        }
        store::outlets(&self.ctx.db, id)
            .await?
            .into_iter()
            .map(Self::outlet)
            .collect()
    }

    pub(crate) async fn outlet_saved(tx: &mut Tx, row: &OutletRow) -> Result<()> {
        bus::publish(
            tx,
            SOURCE,
            &OutletSaved {
                merchant_id: row.merchant_id,
                outlet_id: row.id,
                name: row.name.clone(),
                location: GeoPoint {
                    latitude: row.latitude,
                    longitude: row.longitude,
                },
            },
        )
        .await?;
        Ok(())
    }

    pub(crate) fn outlet_row(
        merchant_id: Uuid,
        id: Uuid,
        input: &OutletInput,
        now: Timestamp,
    ) -> OutletRow {
        OutletRow {
            id,
            merchant_id,
            name: input.name.trim().to_owned(),
            address: to_json(&input.address),
            latitude: input.location.latitude,
            longitude: input.location.longitude,
            phone: input
                .phone
                .as_deref()
                .map(|p| domain::normalize_phone(p).unwrap_or_else(|| p.to_owned())),
            opening_hours: to_json(&input.opening_hours),
            created_at: now.millis(),
            updated_at: now.millis(),
        }
    }

    pub async fn add_outlet(
        &self,
        actor: &Actor,
        merchant_id: Uuid,
        input: OutletInput,
    ) -> Result<Outlet> {
        domain::validate_outlet(&input).map_err(invalid)?;
        let now = Timestamp::now();
        let row = Self::outlet_row(merchant_id, kernel::new_id(), &input, now);
        let mut tx = self.ctx.db.begin().await?;
        store::merchant_in(&mut tx, merchant_id)
            .await?
            .ok_or(MerchantError::NotFound)?;
        store::insert_outlet(&mut tx, &row).await?;
        store::audit(
            &mut tx,
            merchant_id,
            actor.user_id,
            "outlet_added",
            Some(&row.name),
            now,
        )
        .await?;
        Self::outlet_saved(&mut tx, &row).await?;
        self.ctx.commit(tx).await?;
        Self::outlet(row)
    }

    pub async fn update_outlet(
        &self,
        actor: &Actor,
        merchant_id: Uuid,
        id: Uuid,
        input: OutletInput,
    ) -> Result<Outlet> {
        domain::validate_outlet(&input).map_err(invalid)?;
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let row = store::update_outlet(&mut tx, &Self::outlet_row(merchant_id, id, &input, now))
            .await?
            .ok_or(MerchantError::OutletNotFound)?;
        store::audit(
            &mut tx,
            merchant_id,
            actor.user_id,
            "outlet_updated",
            Some(&row.name),
            now,
        )
        .await?;
        Self::outlet_saved(&mut tx, &row).await?;
        self.ctx.commit(tx).await?;
        Self::outlet(row)
    }

    pub async fn remove_outlet(&self, actor: &Actor, merchant_id: Uuid, id: Uuid) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        if !store::remove_outlet(&mut tx, merchant_id, id, now).await? {
            return Err(MerchantError::OutletNotFound);
        }
        store::audit(
            &mut tx,
            merchant_id,
            actor.user_id,
            "outlet_removed",
            Some(&id.to_string()),
            now,
        )
        .await?;
        bus::publish(
            &mut tx,
            SOURCE,
            &OutletRemoved {
                merchant_id,
                outlet_id: id,
            },
        )
        .await?;
        self.ctx.commit(tx).await?;
        Ok(())
    }
}

impl Merchants {
    /// Where the merchants' parcels leave from (shipping asks, internal). Unknown ids are
    /// absent; a lookup holds at most 100 ids.
    pub async fn shipping_origins(&self, ids: &[Uuid]) -> Result<Vec<ShippingOrigin>> {
        if ids.len() > 100 {
            return Err(MerchantError::Invalid(vec![FieldError {
                field: "merchantIds".into(),
                message: "at most 100 ids per lookup".into(),
            }]));
        }
        let mut origins = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(row) = store::merchant(&self.ctx.db, *id).await? else {
                continue;
            };
            origins.push(ShippingOrigin {
                merchant_id: row.id,
                status: Self::status_of(&row)?,
                address: from_json(&row.address)?,
                location: GeoPoint {
                    latitude: row.latitude,
                    longitude: row.longitude,
                },
                business_name: row.business_name,
                contact_phone: row.contact_phone,
            });
        }
        Ok(origins)
    }
}
