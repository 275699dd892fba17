//! Serving: who may see what (public images to anyone; private documents to their owner, the
//! staff of the merchant they are attached to, and admins), the bytes, and thumbnails made once
//! on first request and kept in the store.

use axum::body::Bytes;
use kernel::MerchantPermission;

use super::*;
use crate::domain;
use crate::store::{self, ThumbnailRow};

/// Bytes to answer with, and what the answer's headers need.
pub struct Served {
    pub bytes: Bytes,
    pub content_type: &'static str,
    pub etag: String,
    pub private: bool,
    pub file_name: String,
}

impl MediaLibrary {
    pub(super) async fn may_see(&self, actor: Option<&Actor>, row: &MediaRow) -> Result<bool> {
        let purpose = MediaPurpose::parse(&row.purpose)
            .ok_or_else(|| MediaError::Corrupt(row.purpose.clone()))?;
        if !purpose.is_private() {
            return Ok(true);
        }
        let Some(actor) = actor else {
            return Ok(false);
        };
        if is_media_admin(actor) {
            return Ok(true);
        }
        // Attached, a document is its merchant's: its owner and managers see it (the uploader
        // only while still one of them); unattached, its uploader's.
        let attachments = store::attachments_of_media(&self.ctx.db, row.id).await?;
        if attachments.is_empty() {
            return Ok(row.owner_id == actor.user_id);
        }
        Ok(attachments.iter().any(|a| {
            a.merchant_id
                .is_some_and(|m| actor.is_staff_with(m, MerchantPermission::ManageProfile))
        }))
    }

    async fn visible(&self, actor: Option<&Actor>, id: Uuid) -> Result<MediaRow> {
        let row = store::media(&self.ctx.db, id)
            .await?
            .ok_or(MediaError::NotFound)?;
        if !self.may_see(actor, &row).await? {
            // Private media do not exist for others.
            return Err(MediaError::NotFound);
        }
        Ok(row)
    }

    /// An upload's details.
    pub async fn details(&self, actor: Option<&Actor>, id: Uuid) -> Result<crate::api::Media> {
        let row = self.visible(actor, id).await?;
        self.view(&row, actor)
    }

    /// An upload's bytes.
    pub async fn content(&self, actor: Option<&Actor>, id: Uuid) -> Result<Served> {
        let row = self.visible(actor, id).await?;
        let format = format_of(&row)?;
        let bytes = self.storage()?.get(&row.storage_key).await?;
        Ok(Served {
            bytes,
            content_type: format.content_type(),
            etag: row.etag.clone(),
            private: MediaPurpose::parse(&row.purpose).is_some_and(MediaPurpose::is_private),
            file_name: format!("{}.{}", row.id, format.extension()),
        })
    }

    /// A thumbnail in one of the configured sizes, made on first request.
    pub async fn thumbnail(
        &self,
        actor: Option<&Actor>,
        id: Uuid,
        size: Option<u32>,
    ) -> Result<Served> {
        let row = self.visible(actor, id).await?;
        let format = format_of(&row)?;
        let sizes = &self.config.thumbnail_sizes;
        let size = match size {
            Some(size) if format.is_image() && sizes.contains(&size) => size,
            _ => {
                return Err(MediaError::UnknownThumbnailSize(if format.is_image() {
                    sizes.clone()
                } else {
                    Vec::new()
                }))
            }
        };
        let storage = self.storage()?;
        let private = MediaPurpose::parse(&row.purpose).is_some_and(MediaPurpose::is_private);
        let file_name = format!("{}-{size}.{}", row.id, format.extension());
        if let Some(made) = store::thumbnail(&self.ctx.db, id, size as i32).await? {
            return Ok(Served {
                bytes: storage.get(&made.storage_key).await?,
                content_type: format.content_type(),
                etag: made.etag,
                private,
                file_name,
            });
        }
        let original = storage.get(&row.storage_key).await?;
        let limits = self.limits;
        let thumb = self
            .image_work(move || domain::images::thumbnail(format, &original, size, &limits))
            .await?;
        let made = ThumbnailRow {
            storage_key: super::uploads::thumbnail_key(id, size, format),
            byte_size: thumb.bytes.len() as i64,
            etag: sha256_hex(&thumb.bytes),
        };
        let bytes = Bytes::from(thumb.bytes);
        storage.put(&made.storage_key, bytes.clone()).await?;
        match store::insert_thumbnail(&self.ctx.db, id, size as i32, &made).await {
            Ok(true) => {}
            // The media was deleted meanwhile: its thumbnail goes too.
            Ok(false) => {
                let _ = storage.delete(&made.storage_key).await;
                return Err(MediaError::NotFound);
            }
            Err(err) => {
                let _ = storage.delete(&made.storage_key).await;
                return Err(err.into());
            }
        }
        Ok(Served {
            bytes,
            content_type: format.content_type(),
            etag: made.etag,
            private,
            file_name,
        })
    }
}

fn format_of(row: &MediaRow) -> Result<MediaFormat> {
    MediaFormat::parse(&row.format).ok_or_else(|| MediaError::Corrupt(row.format.clone()))
}
