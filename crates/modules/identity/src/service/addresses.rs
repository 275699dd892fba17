//! The user's delivery addresses: at most twenty, exactly one primary once there is any.

use kernel::Timestamp;
use platform::bus;
use platform::db::Tx;
use uuid::Uuid;

use super::{Identity, IdentityError, Result};
use crate::api::*;
use crate::domain::{self, ValidAddress, MAX_ADDRESSES_PER_USER};
use crate::store::{self, AddressFields, AddressRow};

fn fields(address: &ValidAddress, is_primary: bool) -> AddressFields<'_> {
    AddressFields {
        label: address.label.as_deref(),
        recipient: &address.recipient,
        phone: &address.phone,
        street: &address.street,
        city: &address.city,
        province: address.province.as_deref(),
        postal_code: address.postal_code.as_deref(),
        country: &address.country,
        coordinates: address.coordinates,
        is_primary,
    }
}

fn address_view(row: AddressRow) -> AddressView {
    AddressView {
        id: row.id,
        label: row.label,
        recipient: row.recipient,
        phone: row.phone,
        street: row.street,
        city: row.city,
        province: row.province,
        postal_code: row.postal_code,
        country: row.country,
        latitude: row.latitude,
        longitude: row.longitude,
        is_primary: row.is_primary,
        created_at: Timestamp::from_millis(row.created_at),
        updated_at: Timestamp::from_millis(row.updated_at),
    }
}

impl Identity {
    pub async fn addresses(&self, user_id: Uuid) -> Result<Vec<AddressView>> {
        Ok(store::addresses(&self.ctx.db, user_id)
            .await?
            .into_iter()
            .map(address_view)
            .collect())
    }

    async fn begin_for_user(&self, user_id: Uuid) -> Result<Tx> {
        let mut tx = self.ctx.db.begin().await?;
        if !store::lock_user(&mut tx, user_id).await? {
            tx.rollback().await?;
            return Err(IdentityError::UserNotFound);
        }
        Ok(tx)
    }

    async fn announce_address(
        &self,
        tx: &mut Tx,
        user_id: Uuid,
        address_id: Uuid,
        change: &str,
    ) -> Result<()> {
        bus::publish(
            tx,
            SOURCE,
            &AddressChanged {
                user_id,
                address_id,
                change: change.to_owned(),
            },
        )
        .await?;
        Ok(())
    }

    /// The first address becomes primary whatever was asked.
    pub async fn add_address(&self, user_id: Uuid, request: AddressRequest) -> Result<AddressView> {
        let address = domain::validate_address(&request).map_err(IdentityError::Invalid)?;
        let mut tx = self.begin_for_user(user_id).await?;
        let count = store::count_addresses(&mut tx, user_id).await?;
        if count >= MAX_ADDRESSES_PER_USER {
            tx.rollback().await?;
            return Err(IdentityError::AddressLimit);
        }
        let is_primary = address.is_primary || count == 0;
        if is_primary {
            store::clear_primary(&mut tx, user_id).await?;
        }
        let id = kernel::new_id();
        let row = store::insert_address(
            &mut tx,
            id,
            user_id,
            &fields(&address, is_primary),
            Timestamp::now(),
        )
        .await?;
        self.announce_address(&mut tx, user_id, id, "added").await?;
        self.ctx.commit(tx).await?;
        Ok(address_view(row))
    }

    /// Replaces an address. `isPrimary: true` moves the primary mark here; `false` on the
    /// primary address keeps it primary (mark another one instead).
    pub async fn update_address(
        &self,
        user_id: Uuid,
        address_id: Uuid,
        request: AddressRequest,
    ) -> Result<AddressView> {
        let address = domain::validate_address(&request).map_err(IdentityError::Invalid)?;
        let mut tx = self.begin_for_user(user_id).await?;
        let Some(current) = store::address_in(&mut tx, address_id, user_id).await? else {
            tx.rollback().await?;
            return Err(IdentityError::AddressNotFound);
        };
        let is_primary = address.is_primary || current.is_primary;
        if address.is_primary && !current.is_primary {
            store::clear_primary(&mut tx, user_id).await?;
        }
        let row = store::update_address(
            &mut tx,
            address_id,
            user_id,
            &fields(&address, is_primary),
            Timestamp::now(),
        )
        .await?
        .ok_or(IdentityError::AddressNotFound)?;
        self.announce_address(&mut tx, user_id, address_id, "updated")
            .await?;
        self.ctx.commit(tx).await?;
        Ok(address_view(row))
    }

    /// Deleting the primary address makes the newest remaining one primary.
    pub async fn remove_address(&self, user_id: Uuid, address_id: Uuid) -> Result<()> {
        let mut tx = self.begin_for_user(user_id).await?;
        let Some(was_primary) = store::delete_address(&mut tx, address_id, user_id).await? else {
            tx.rollback().await?;
            return Err(IdentityError::AddressNotFound);
        };
        if was_primary {
            store::promote_newest_address(&mut tx, user_id).await?;
        }
        self.announce_address(&mut tx, user_id, address_id, "removed")
            .await?;
        self.ctx.commit(tx).await?;
        Ok(())
    }
}
