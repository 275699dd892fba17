//! Attaching uploads: a product's gallery (its merchant's staff who edit listings), a
//! merchant's logo, banner and documents (its staff who manage the profile), a user's avatar
//! (the user). Admins may act on any. Each change of a subject publishes what is attached now,
//! with a growing version.

use catalog_contract::{CatalogCode, ReferenceLookup};
use kernel::MerchantPermission;
use platform::bus;
use platform::db::Tx;
use reviews_contract::ReviewsCode;

use super::*;
use crate::domain;
use crate::store::{self, AttachmentRow};

impl MediaLibrary {
    /// Who may change a subject's attachments; the merchant it belongs to, if any.
    pub(super) async fn authorize(
        &self,
        actor: &Actor,
        subject: MediaSubject,
        subject_id: Uuid,
    ) -> Result<Option<Uuid>> {
        match subject {
            MediaSubject::Product => {
                let references = self
                    .catalog
                    .references(&ReferenceLookup {
                        product_ids: vec![subject_id],
                        ..ReferenceLookup::default()
                    })
                    .await?;
                let merchant_id = references
                    .product_merchants
                    .iter()
                    .find(|p| p.product_id == subject_id)
                    .map(|p| p.merchant_id)
                    .ok_or_else(|| {
                        MediaError::Api(CatalogCode::ProductNotFound.problem("No such product"))
                    })?;
                if actor.is_staff_with(merchant_id, MerchantPermission::EditListings)
                    || actor.can(Permission::AdminCatalog)
                {
                    Ok(Some(merchant_id))
                } else {
                    Err(MediaError::Forbidden(
                        "Only the product's merchant edits its gallery",
                    ))
                }
            }
            MediaSubject::Merchant => {
                if actor.is_staff_with(subject_id, MerchantPermission::ManageProfile)
                    || actor.can(Permission::AdminMerchants)
                {
                    Ok(Some(subject_id))
                } else {
                    Err(MediaError::Forbidden(
                        "Only the merchant's owner or managers change its media",
                    ))
                }
            }
            MediaSubject::User => {
                if subject_id == actor.user_id {
                    Ok(None)
                } else {
                    Err(MediaError::Forbidden("Users change their own avatar"))
                }
            }
            MediaSubject::Review => {
                let review = match self.reviews.authorship(subject_id).await {
                    Ok(review) => review,
                    Err(err) if err.is(ReviewsCode::ReviewNotFound) => {
                        return Err(MediaError::Api(
                            ReviewsCode::ReviewNotFound.problem("No such review"),
                        ))
                    }
                    Err(err) => return Err(err.into()),
                };
                if review.author_id == actor.user_id || actor.can(Permission::AdminCatalog) {
                    Ok(None)
                } else {
                    Err(MediaError::Forbidden(
                        "Only its author adds photos to a review",
                    ))
                }
            }
        }
    }

    /// Attaches one of the caller's uploads to a slot (a single slot's item is replaced).
    pub async fn attach(
        &self,
        actor: &Actor,
        subject: MediaSubject,
        subject_id: Uuid,
        slot: MediaSlot,
        request: AttachRequest,
    ) -> Result<SubjectMedia> {
        let merchant_id = self.authorize(actor, subject, subject_id).await?;
        let media = store::media(&self.ctx.db, request.media_id)
            .await?
            .ok_or(MediaError::NotFound)?;
        if media.owner_id != actor.user_id && !is_media_admin(actor) {
            // Another user's upload is not the caller's to use.
            return Err(MediaError::NotFound);
        }
        let purpose = MediaPurpose::parse(&media.purpose)
            .ok_or_else(|| MediaError::Corrupt(media.purpose.clone()))?;
        if !domain::slot_accepts(subject, slot, purpose) {
            return Err(MediaError::WrongPurpose(format!(
                "A {} upload does not go in a {} {}",
                purpose.as_str(),
                subject.as_str(),
                slot.as_str()
            )));
        }
        let mut tx = self.ctx.db.begin().await?;
        // The subject first: its changes are serialized.
        let version = store::bump_subject(&mut tx, subject.as_str(), subject_id).await?;
        let mut items =
            store::slot_items(&mut tx, subject.as_str(), subject_id, slot.as_str()).await?;
        let already = items.iter().position(|a| a.media_id == media.id);
        if let Some(at) = already {
            items.remove(at);
        } else {
            // Takes the media's row: an orphan sweep cannot remove it now.
            store::add_attached(&mut tx, media.id, 1, Timestamp::now().millis())
                .await?
                .ok_or(MediaError::NotFound)?;
        }
        if !domain::holds_many(slot) {
            for replaced in items.drain(..) {
                store::delete_attachment(&mut tx, subject.as_str(), subject_id, replaced.media_id)
                    .await?;
                store::add_attached(&mut tx, replaced.media_id, -1, Timestamp::now().millis())
                    .await?;
            }
        } else {
            let max = if slot == MediaSlot::Photos {
                self.config.max_review_photos
            } else {
                self.config.max_gallery_items
            };
            if already.is_none() && items.len() as i64 >= max {
                return Err(MediaError::GalleryFull(max));
            }
        }
        let at = request
            .position
            .map_or(items.len(), |p| (p.max(0) as usize).min(items.len()));
        let row = AttachmentRow {
            media_id: media.id,
            subject: subject.as_str().into(),
            subject_id,
            slot: slot.as_str().into(),
            // An item moved within the slot gets its new place from `renumber`.
            position: if already.is_some() { -1 } else { at as i32 },
            merchant_id,
        };
        if already.is_none() {
            store::insert_attachment(&mut tx, &row, Timestamp::now().millis()).await?;
        }
        items.insert(at, row);
        renumber(&mut tx, &items).await?;
        self.publish_items(&mut tx, subject.as_str(), subject_id, version)
            .await?;
        tx.commit().await?;
        self.list(Some(actor), subject, subject_id).await
    }

    /// Detaches one item (the upload stays the owner's until it is deleted or orphaned).
    pub async fn detach(
        &self,
        actor: &Actor,
        subject: MediaSubject,
        subject_id: Uuid,
        media_id: Uuid,
    ) -> Result<SubjectMedia> {
        self.authorize(actor, subject, subject_id).await?;
        let mut tx = self.ctx.db.begin().await?;
        let version = store::bump_subject(&mut tx, subject.as_str(), subject_id).await?;
        let attachments = store::attachments_of_media_tx(&mut tx, media_id).await?;
        let Some(slot) = attachments
            .iter()
            .find(|a| a.subject == subject.as_str() && a.subject_id == subject_id)
            .map(|a| a.slot.clone())
        else {
            return Err(MediaError::NotFound);
        };
        store::delete_attachment(&mut tx, subject.as_str(), subject_id, media_id).await?;
        store::add_attached(&mut tx, media_id, -1, Timestamp::now().millis()).await?;
        let items = store::slot_items(&mut tx, subject.as_str(), subject_id, &slot).await?;
        renumber(&mut tx, &items).await?;
        self.publish_items(&mut tx, subject.as_str(), subject_id, version)
            .await?;
        tx.commit().await?;
        self.list(Some(actor), subject, subject_id).await
    }

    /// Empties a single slot (a logo, a banner, an avatar).
    pub async fn clear_slot(
        &self,
        actor: &Actor,
        subject: MediaSubject,
        subject_id: Uuid,
        slot: MediaSlot,
    ) -> Result<SubjectMedia> {
        let current = store::subject_items(&self.ctx.db, subject.as_str(), subject_id).await?;
        match current.iter().find(|(a, _)| a.slot == slot.as_str()) {
            Some((attachment, _)) => {
                self.detach(actor, subject, subject_id, attachment.media_id)
                    .await
            }
            None => {
                self.authorize(actor, subject, subject_id).await?;
                self.list(Some(actor), subject, subject_id).await
            }
        }
    }

    /// What is attached to a subject: private items only for those who may see them; a
    /// review's photos as the review is shown (not deleted; approved, or to its author and
    /// moderators).
    pub async fn list(
        &self,
        actor: Option<&Actor>,
        subject: MediaSubject,
        subject_id: Uuid,
    ) -> Result<SubjectMedia> {
        if subject == MediaSubject::Review && !self.review_shown(actor, subject_id).await? {
            return Ok(SubjectMedia {
                subject,
                subject_id,
                items: Vec::new(),
            });
        }
        let mut items = Vec::new();
        for (attachment, media) in
            store::subject_items(&self.ctx.db, subject.as_str(), subject_id).await?
        {
            if !self.may_see(actor, &media).await? {
                continue;
            }
            items.push(AttachedMedia {
                slot: MediaSlot::parse(&attachment.slot)
                    .ok_or_else(|| MediaError::Corrupt(attachment.slot.clone()))?,
                position: attachment.position,
                media: self.view(&media, actor)?,
            });
        }
        Ok(SubjectMedia {
            subject,
            subject_id,
            items,
        })
    }

    /// Publishes a subject's public items after a change (takes the subject's row).
    pub(super) async fn publish_subject(
        &self,
        tx: &mut Tx,
        subject: &str,
        subject_id: Uuid,
    ) -> Result<()> {
        let version = store::bump_subject(tx, subject, subject_id).await?;
        self.publish_items(tx, subject, subject_id, version).await
    }

    async fn publish_items(
        &self,
        tx: &mut Tx,
        subject: &str,
        subject_id: Uuid,
        version: i64,
    ) -> Result<()> {
        let subject_kind =
            MediaSubject::parse(subject).ok_or_else(|| MediaError::Corrupt(subject.into()))?;
        let mut items = Vec::new();
        for (attachment, media) in store::subject_items_tx(tx, subject, subject_id).await? {
            if MediaPurpose::parse(&media.purpose).is_none_or(MediaPurpose::is_private) {
                continue;
            }
            items.push(AttachedItem {
                slot: MediaSlot::parse(&attachment.slot)
                    .ok_or_else(|| MediaError::Corrupt(attachment.slot.clone()))?,
                position: attachment.position,
                media_id: media.id,
                url: media_url(media.id),
            });
        }
        bus::publish(
            tx,
            SOURCE,
            &MediaAttachmentsChanged {
                subject: subject_kind,
                subject_id,
                version,
                items,
            },
        )
        .await?;
        Ok(())
    }
}

impl MediaLibrary {
    async fn review_shown(&self, actor: Option<&Actor>, review_id: Uuid) -> Result<bool> {
        match self.reviews.authorship(review_id).await {
            Ok(review) => Ok(review.public
                || actor.is_some_and(|a| {
                    a.user_id == review.author_id || a.can(Permission::AdminCatalog)
                })),
            Err(err) if err.is(ReviewsCode::ReviewNotFound) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }
}

/// Positions 0.. in the order given.
pub(super) async fn renumber(tx: &mut Tx, items: &[AttachmentRow]) -> Result<()> {
    for (position, item) in items.iter().enumerate() {
        if item.position != position as i32 {
            store::set_position(
                tx,
                &item.subject,
                item.subject_id,
                item.media_id,
                position as i32,
            )
            .await?;
        }
    }
    Ok(())
}
