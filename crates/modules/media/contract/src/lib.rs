//! media's public face: uploads and their purposes, where they are attached (a product's
//! gallery, a merchant's logo, banner and documents, a user's avatar, a review's photos), and
//! the events.

mod errors;
pub use errors::MediaCode;

use kernel::{text_enum, DomainEvent, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// What an upload is for: decides the kinds accepted, who may see it and where it may be
/// attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MediaPurpose {
    ProductImage,
    MerchantLogo,
    MerchantBanner,
    /// Business documents of a merchant application (PDF or a scan): private.
    MerchantDocument,
    Avatar,
    /// A photo of a review, attached by its author.
    ReviewPhoto,
}

text_enum!(MediaPurpose {
    ProductImage => "PRODUCT_IMAGE",
    MerchantLogo => "MERCHANT_LOGO",
    MerchantBanner => "MERCHANT_BANNER",
    MerchantDocument => "MERCHANT_DOCUMENT",
    Avatar => "AVATAR",
    ReviewPhoto => "REVIEW_PHOTO",
});

impl MediaPurpose {
    /// Private media are served only to their owner, the staff of the merchant they are
    /// attached to, and admins.
    pub const fn is_private(self) -> bool {
        matches!(self, MediaPurpose::MerchantDocument)
    }

    /// Documents may be PDF as well as images.
    pub const fn accepts_pdf(self) -> bool {
        matches!(self, MediaPurpose::MerchantDocument)
    }
}

/// The formats Pasar stores, recognised by their content (never by name or declared type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MediaFormat {
    Jpeg,
    Png,
    Webp,
    Pdf,
}

text_enum!(MediaFormat { Jpeg => "JPEG", Png => "PNG", Webp => "WEBP", Pdf => "PDF" });

impl MediaFormat {
    pub const fn content_type(self) -> &'static str {
        match self {
            MediaFormat::Jpeg => "image/jpeg",
            MediaFormat::Png => "image/png",
            MediaFormat::Webp => "image/webp",
            MediaFormat::Pdf => "application/pdf",
        }
    }

    pub const fn extension(self) -> &'static str {
        match self {
            MediaFormat::Jpeg => "jpg",
            MediaFormat::Png => "png",
            MediaFormat::Webp => "webp",
            MediaFormat::Pdf => "pdf",
        }
    }

    pub const fn is_image(self) -> bool {
        !matches!(self, MediaFormat::Pdf)
    }
}

/// An upload as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Media {
    pub id: Uuid,
    /// Who uploaded it: shown to them and admins only.
    pub owner_id: Option<Uuid>,
    pub purpose: MediaPurpose,
    pub format: MediaFormat,
    pub content_type: String,
    /// Of what is served (images are re-encoded, so this is not the uploaded size).
    pub byte_size: i64,
    /// Images only.
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// SHA-256 of the uploaded bytes, hex (to the owner and admins only): the same owner
    /// uploading the same file for the same purpose gets this media back.
    pub sha256: Option<String>,
    pub private: bool,
    /// Where its bytes are served (`/api/v1/media/{id}`).
    pub url: String,
    /// Thumbnail sizes (longest side, pixels) that `GET .../thumbnail?size=` serves; empty for
    /// documents.
    pub thumbnail_sizes: Vec<u32>,
    /// Whether it is attached somewhere; unattached uploads are removed after a grace period.
    pub attached: bool,
    pub created_at: Timestamp,
}

/// Where media can be attached. A voucher offer's images are the gallery of its VOUCHER
/// product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MediaSubject {
    Product,
    Merchant,
    User,
    Review,
}

text_enum!(MediaSubject {
    Product => "PRODUCT",
    Merchant => "MERCHANT",
    User => "USER",
    Review => "REVIEW",
});

/// A place on a subject: galleries hold several ordered items, the other slots one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MediaSlot {
    Gallery,
    Logo,
    Banner,
    Documents,
    Avatar,
    Photos,
}

text_enum!(MediaSlot {
    Gallery => "GALLERY",
    Logo => "LOGO",
    Banner => "BANNER",
    Documents => "DOCUMENTS",
    Avatar => "AVATAR",
    Photos => "PHOTOS",
});

/// One attached item.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttachedMedia {
    pub slot: MediaSlot,
    /// Order in a gallery (0 first).
    pub position: i32,
    pub media: Media,
}

/// Everything attached to one subject (private items only for those who may see them).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubjectMedia {
    pub subject: MediaSubject,
    pub subject_id: Uuid,
    pub items: Vec<AttachedMedia>,
}

/// Attach an upload of the caller's.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttachRequest {
    pub media_id: Uuid,
    /// In a gallery: the place (0 first); absent: at the end.
    #[serde(default)]
    pub position: Option<i32>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ThumbnailQuery {
    /// Longest side in pixels: one of the media's `thumbnailSizes`.
    pub size: Option<u32>,
}

// ---- events ----

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MediaUploaded {
    pub media_id: Uuid,
    pub owner_id: Uuid,
    pub purpose: MediaPurpose,
    pub format: MediaFormat,
    pub byte_size: i64,
    pub sha256: String,
}

impl DomainEvent for MediaUploaded {
    const TYPE: &'static str = "media.uploaded";
    fn aggregate_id(&self) -> String {
        self.media_id.to_string()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MediaDeleted {
    pub media_id: Uuid,
    pub owner_id: Uuid,
    /// `owner`, `admin` or `orphaned` (removed by the job after the grace period).
    pub reason: String,
}

impl DomainEvent for MediaDeleted {
    const TYPE: &'static str = "media.deleted";
    fn aggregate_id(&self) -> String {
        self.media_id.to_string()
    }
}

/// What is attached to a subject changed: the public items, in order, as they are now (so a
/// consumer keeps the latest by `version`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MediaAttachmentsChanged {
    pub subject: MediaSubject,
    pub subject_id: Uuid,
    /// Grows with every change of this subject's attachments.
    pub version: i64,
    pub items: Vec<AttachedItem>,
}

/// A public attached item as events carry it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttachedItem {
    pub slot: MediaSlot,
    pub position: i32,
    pub media_id: Uuid,
    pub url: String,
}

impl DomainEvent for MediaAttachmentsChanged {
    const TYPE: &'static str = "media.attachments_changed";
    fn aggregate_id(&self) -> String {
        self.subject_id.to_string()
    }
}

pub fn events() -> Vec<kernel::EventSpec> {
    vec![
        kernel::EventSpec::of::<MediaUploaded>(),
        kernel::EventSpec::of::<MediaDeleted>(),
        kernel::EventSpec::of::<MediaAttachmentsChanged>(),
    ]
}
