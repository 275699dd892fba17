//! media's use cases: uploading and deleting (`uploads`), serving bytes and thumbnails
//! (`serving`), attaching to products, merchants, users and reviews (`attachments`), and the
//! removal of orphaned uploads and of objects whose rows are gone (`cleanup`).

mod attachments;
mod cleanup;
mod serving;
mod uploads;

use std::sync::{Arc, OnceLock};

use catalog_contract::CatalogClient;
use kernel::call::CallError;
use kernel::{Actor, ApiError, Permission, Timestamp};
use platform::Context;
use uuid::Uuid;

pub use serving::Served;

use crate::api::*;
use crate::config::MediaConfig;
use crate::domain::{Limits, Refusal};
use crate::storage::{Storage, StorageError};
use crate::store::MediaRow;

pub const SOURCE: &str = "media";

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("media not found")]
    NotFound,
    #[error("refused: {0}")]
    Refused(#[from] Refusal),
    #[error("media store: {0}")]
    Storage(String),
    #[error("wrong purpose: {0}")]
    WrongPurpose(String),
    #[error("the gallery is full")]
    GalleryFull(i64),
    #[error("no thumbnail of that size")]
    UnknownThumbnailSize(Vec<u32>),
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Api(ApiError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("events: {0}")]
    Bus(#[from] platform::bus::BusError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<ApiError> for MediaError {
    fn from(err: ApiError) -> Self {
        MediaError::Api(err)
    }
}

impl From<CallError> for MediaError {
    fn from(err: CallError) -> Self {
        MediaError::Api(err.into())
    }
}

impl From<StorageError> for MediaError {
    fn from(err: StorageError) -> Self {
        match err {
            // A row whose object is gone (deleted meanwhile, or lost by the store).
            StorageError::NotFound(key) => {
                tracing::error!(%key, "a media object is missing from the store");
                MediaError::NotFound
            }
            StorageError::Unavailable(detail) => MediaError::Storage(detail),
        }
    }
}

impl From<MediaError> for ApiError {
    fn from(err: MediaError) -> Self {
        use MediaCode as C;
        match err {
            MediaError::NotFound => C::MediaNotFound.problem("No such media"),
            MediaError::Refused(refusal) => match refusal {
                Refusal::Empty => ApiError::validation_one("file", "is empty"),
                Refusal::TooLarge(max) => {
                    C::MediaTooLarge.problem(format!("The file is larger than {max} bytes"))
                }
                Refusal::Unsupported(detail) => C::UnsupportedMedia.problem(detail),
                refusal @ Refusal::ImageTooLarge { .. } => {
                    C::ImageTooLarge.problem(refusal.to_string())
                }
                Refusal::Undecodable(detail) => C::UndecodableMedia.problem(detail),
            },
            MediaError::Storage(detail) => {
                tracing::warn!(%detail, "media store unavailable");
                C::StorageUnavailable.problem("The media store is unavailable; nothing was written")
            }
            MediaError::WrongPurpose(detail) => C::WrongPurpose.problem(detail),
            MediaError::GalleryFull(max) => {
                C::GalleryFull.problem(format!("This holds at most {max} items"))
            }
            MediaError::UnknownThumbnailSize(sizes) => C::UnknownThumbnailSize.problem(format!(
                "Thumbnails of images come in these sizes: {sizes:?}"
            )),
            MediaError::Forbidden(detail) => ApiError::forbidden(detail),
            MediaError::Api(err) => err,
            MediaError::Database(_) | MediaError::Bus(_) | MediaError::Corrupt(_) => {
                tracing::error!(error = %err, "media failure");
                ApiError::internal()
            }
        }
    }
}

pub type Result<T> = std::result::Result<T, MediaError>;

pub struct MediaLibrary {
    pub ctx: Context,
    pub config: MediaConfig,
    limits: Limits,
    /// Opened at start (never while only building the API description).
    storage: OnceLock<Storage>,
    /// Images decoded at once: each may take `max_pixels` x 8 bytes.
    image_work: tokio::sync::Semaphore,
    catalog: CatalogClient,
    reviews: reviews_contract::ReviewsClient,
}

impl MediaLibrary {
    pub fn new(ctx: Context) -> Arc<Self> {
        let config: MediaConfig = ctx.config.section_or_default();
        Arc::new(Self {
            limits: Limits {
                max_bytes: config.max_upload_bytes,
                max_pixels: config.max_pixels,
                max_side: config.max_side,
                jpeg_quality: config.jpeg_quality,
            },
            catalog: CatalogClient::new(ctx.services.clone(), SOURCE),
            reviews: reviews_contract::ReviewsClient::new(ctx.services.clone(), SOURCE),
            storage: OnceLock::new(),
            image_work: tokio::sync::Semaphore::new(config.image_workers.max(1)),
            config,
            ctx,
        })
    }

    /// Opens the configured store; called once at start.
    pub fn open_storage(&self) -> std::result::Result<(), StorageError> {
        let storage = Storage::open(&self.config, &self.ctx.config.data_dir)?;
        let _ = self.storage.set(storage);
        Ok(())
    }

    fn storage(&self) -> Result<&Storage> {
        self.storage
            .get()
            .ok_or_else(|| MediaError::Storage("the media store is not open".into()))
    }

    /// The media as `viewer` sees it: who uploaded it and the hash of what they sent only to
    /// them and admins (an anonymous review's photos must not name their author).
    fn view(&self, row: &MediaRow, viewer: Option<&Actor>) -> Result<crate::api::Media> {
        let revealed = viewer.is_some_and(|a| a.user_id == row.owner_id || is_media_admin(a));
        let purpose = MediaPurpose::parse(&row.purpose)
            .ok_or_else(|| MediaError::Corrupt(row.purpose.clone()))?;
        let format = MediaFormat::parse(&row.format)
            .ok_or_else(|| MediaError::Corrupt(row.format.clone()))?;
        Ok(crate::api::Media {
            id: row.id,
            owner_id: revealed.then_some(row.owner_id),
            purpose,
            format,
            content_type: format.content_type().into(),
            byte_size: row.byte_size,
            width: row.width,
            height: row.height,
            sha256: revealed.then(|| row.sha256.clone()),
            private: purpose.is_private(),
            url: media_url(row.id),
            thumbnail_sizes: if format.is_image() {
                self.config.thumbnail_sizes.clone()
            } else {
                Vec::new()
            },
            attached: row.attached > 0,
            created_at: Timestamp::from_millis(row.created_at),
        })
    }
}

pub fn media_url(id: Uuid) -> String {
    format!("/api/v1/media/{id}")
}

/// Admins who may see and remove any media: catalog moderators (public images) and merchant
/// reviewers (business documents).
fn is_media_admin(actor: &Actor) -> bool {
    actor.can(Permission::AdminCatalog) || actor.can(Permission::AdminMerchants)
}

impl MediaLibrary {
    /// Runs image work off the async workers, a bounded number at a time.
    async fn image_work<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> std::result::Result<T, Refusal> + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .image_work
            .acquire()
            .await
            .map_err(|e| MediaError::Corrupt(format!("image workers: {e}")))?;
        Ok(tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| MediaError::Corrupt(format!("image worker: {e}")))??)
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    kernel::hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}
