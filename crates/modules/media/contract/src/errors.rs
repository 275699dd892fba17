//! The problem codes media answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem media answers with.
    pub enum MediaCode {
        MediaNotFound => ("media_not_found", NOT_FOUND, "No such media, or not one the caller may see (private media are served to their owner, the staff of the merchant they belong to, and admins)."),
        UnsupportedMedia => ("unsupported_media", UNSUPPORTED_MEDIA_TYPE, "The content is not a format this purpose accepts: JPEG, PNG or WebP images (and PDF for merchant documents), recognised by their bytes; SVG, archives and anything else are refused."),
        MediaTooLarge => ("media_too_large", PAYLOAD_TOO_LARGE, "The file is larger than `media.max_upload_bytes`."),
        ImageTooLarge => ("image_too_large", UNPROCESSABLE_ENTITY, "The image declares more pixels than `media.max_pixels` or a side longer than `media.max_side` (decompression bombs are refused before decoding)."),
        UndecodableMedia => ("undecodable_media", UNPROCESSABLE_ENTITY, "The bytes claim a supported format but do not decode as one (truncated or corrupt), or a PDF carries active content (JavaScript, launch actions, embedded files)."),
        StorageUnavailable => ("storage_unavailable", SERVICE_UNAVAILABLE, "The media store did not answer; nothing was written. Retry later."),
        WrongPurpose => ("wrong_purpose", CONFLICT, "The upload's purpose does not fit the slot it is being attached to (e.g. a product image as a merchant logo)."),
        GalleryFull => ("gallery_full", CONFLICT, "The gallery holds as many items as it may (`media.max_gallery_items`)."),
        UnknownThumbnailSize => ("unknown_thumbnail_size", UNPROCESSABLE_ENTITY, "Thumbnails come in the configured sizes only (`media.thumbnail_sizes`), and only of images."),
    }
}
