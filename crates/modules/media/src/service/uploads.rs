//! Uploading (checked by content, cleaned, stored, then recorded) and deleting (recorded, then
//! the objects removed, with the trash as the retry).

use kernel::ActorKind;
use platform::bus;
use platform::db::Tx;

use super::*;
use crate::domain;
use crate::store::{self, MediaRow};

impl MediaLibrary {
    /// Stores an upload; `false` when the caller had stored the same file for the same purpose
    /// already (that media is returned).
    pub async fn upload(
        &self,
        actor: &Actor,
        purpose: MediaPurpose,
        bytes: Vec<u8>,
    ) -> Result<(crate::api::Media, bool)> {
        if actor.kind == ActorKind::Service || !actor.can(Permission::ManageOwnAccount) {
            return Err(MediaError::Forbidden("Sign in to upload"));
        }
        let sha256 = sha256_hex(&bytes);
        if let Some(existing) =
            store::same_upload(&self.ctx.db, actor.user_id, purpose.as_str(), &sha256).await?
        {
            store::touch_unattached(&self.ctx.db, existing.id, Timestamp::now().millis()).await?;
            return Ok((self.view(&existing, Some(actor))?, false));
        }
        let limits = self.limits;
        let processed = self
            .image_work(move || domain::process(purpose, &bytes, &limits))
            .await?;
        let id = kernel::new_id();
        let row = MediaRow {
            id,
            owner_id: actor.user_id,
            purpose: purpose.as_str().into(),
            format: processed.format.as_str().into(),
            byte_size: processed.bytes.len() as i64,
            width: processed.width.map(|w| w as i32),
            height: processed.height.map(|h| h as i32),
            etag: sha256_hex(&processed.bytes),
            sha256,
            storage_key: format!("{id}/original.{}", processed.format.extension()),
            attached: 0,
            created_at: Timestamp::now().millis(),
        };
        let storage = self.storage()?;
        // The bytes first: a row never names an object that is not there.
        storage
            .put(&row.storage_key, processed.bytes.into())
            .await?;
        match self.record(&row).await {
            Ok(true) => Ok((self.view(&row, Some(actor))?, true)),
            Ok(false) => {
                let _ = storage.delete(&row.storage_key).await;
                let existing =
                    store::same_upload(&self.ctx.db, row.owner_id, &row.purpose, &row.sha256)
                        .await?
                        .ok_or(MediaError::NotFound)?;
                Ok((self.view(&existing, Some(actor))?, false))
            }
            Err(err) => {
                if let Err(cleanup) = storage.delete(&row.storage_key).await {
                    tracing::warn!(key = %row.storage_key, error = %cleanup, "an unrecorded upload stays in the media store");
                }
                Err(err)
            }
        }
    }

    async fn record(&self, row: &MediaRow) -> Result<bool> {
        let mut tx = self.ctx.db.begin().await?;
        if !store::insert_media(&mut tx, row).await? {
            return Ok(false);
        }
        bus::publish(
            &mut tx,
            SOURCE,
            &MediaUploaded {
                media_id: row.id,
                owner_id: row.owner_id,
                purpose: MediaPurpose::parse(&row.purpose)
                    .ok_or_else(|| MediaError::Corrupt(row.purpose.clone()))?,
                format: MediaFormat::parse(&row.format)
                    .ok_or_else(|| MediaError::Corrupt(row.format.clone()))?,
                byte_size: row.byte_size,
                sha256: row.sha256.clone(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The owner or an admin deletes an upload, detaching it from wherever it is.
    pub async fn delete(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let row = store::media(&self.ctx.db, id)
            .await?
            .ok_or(MediaError::NotFound)?;
        let admin = is_media_admin(actor);
        if !admin && !self.may_delete(actor, &row).await? {
            return Err(if self.may_see(Some(actor), &row).await? {
                MediaError::Forbidden(
                    "Only its owner (while unattached), whoever manages where it is attached, or an admin deletes an upload",
                )
            } else {
                MediaError::NotFound
            });
        }
        let mut tx = self.ctx.db.begin().await?;
        // The row first: what hangs off it is read under its lock.
        if store::lock_media(&mut tx, id).await?.is_none() {
            return Err(MediaError::NotFound);
        }
        for attachment in store::attachments_of_media_tx(&mut tx, id).await? {
            store::delete_attachment(&mut tx, &attachment.subject, attachment.subject_id, id)
                .await?;
            let rest = store::slot_items(
                &mut tx,
                &attachment.subject,
                attachment.subject_id,
                &attachment.slot,
            )
            .await?;
            super::attachments::renumber(&mut tx, &rest).await?;
            self.publish_subject(&mut tx, &attachment.subject, attachment.subject_id)
                .await?;
        }
        let thumbnails = self.thumbnail_keys(&mut tx, &row).await?;
        let Some(deleted) = store::delete_media(&mut tx, id).await? else {
            return Err(MediaError::NotFound);
        };
        let reason = if deleted.owner_id == actor.user_id {
            "owner"
        } else {
            "admin"
        };
        let keys = self.forget(&mut tx, &deleted, thumbnails, reason).await?;
        tx.commit().await?;
        self.empty(&keys).await;
        Ok(())
    }

    /// Unattached, an upload is its owner's; attached, it belongs to where it is attached: who
    /// may change every one of those subjects (a former staff member no longer may).
    async fn may_delete(&self, actor: &Actor, row: &MediaRow) -> Result<bool> {
        let attachments = store::attachments_of_media(&self.ctx.db, row.id).await?;
        if attachments.is_empty() {
            return Ok(row.owner_id == actor.user_id);
        }
        for attachment in &attachments {
            let subject = MediaSubject::parse(&attachment.subject)
                .ok_or_else(|| MediaError::Corrupt(attachment.subject.clone()))?;
            if self
                .authorize(actor, subject, attachment.subject_id)
                .await
                .is_err()
            {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Every thumbnail key the media may have: those recorded and those of every configured
    /// size (one made at this moment is recorded only after its object is written).
    pub(super) async fn thumbnail_keys(&self, tx: &mut Tx, row: &MediaRow) -> Result<Vec<String>> {
        let mut keys = store::thumbnail_keys(tx, row.id).await?;
        if let Some(format) = MediaFormat::parse(&row.format).filter(|f| f.is_image()) {
            for size in &self.config.thumbnail_sizes {
                let key = thumbnail_key(row.id, *size, format);
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        Ok(keys)
    }

    /// After a media's row is deleted in `tx` (its thumbnails' keys read before): its objects
    /// go to the trash and `media.deleted` is published. Returns the objects to remove once
    /// committed.
    pub(super) async fn forget(
        &self,
        tx: &mut Tx,
        row: &MediaRow,
        mut keys: Vec<String>,
        reason: &str,
    ) -> Result<Vec<String>> {
        keys.push(row.storage_key.clone());
        let now = Timestamp::now().millis();
        for key in &keys {
            store::queue_trash(tx, key, now).await?;
        }
        bus::publish(
            tx,
            SOURCE,
            &MediaDeleted {
                media_id: row.id,
                owner_id: row.owner_id,
                reason: reason.into(),
            },
        )
        .await?;
        Ok(keys)
    }
}

pub(super) fn thumbnail_key(id: Uuid, size: u32, format: MediaFormat) -> String {
    format!("{id}/thumb-{size}.{}", format.extension())
}
