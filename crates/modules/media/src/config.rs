//! media's settings: the `[media]` section of the configuration (`PASAR_MEDIA__...`).

use platform::config::ModuleConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MediaConfig {
    /// `local` (files under `dir`) or `s3` (any S3-compatible store, see `s3`).
    pub storage: String,
    /// Local storage directory; empty: `<data dir>/media`.
    pub dir: String,
    pub s3: S3Config,
    /// Largest upload accepted, in bytes (also the body limit of the upload route).
    pub max_upload_bytes: usize,
    /// Largest image accepted, in pixels (width × height), checked before decoding.
    pub max_pixels: u64,
    /// Longest side of an image accepted, in pixels.
    pub max_side: u32,
    /// Thumbnail sizes served (longest side, pixels), each made once on first request.
    pub thumbnail_sizes: Vec<u32>,
    /// JPEG re-encoding quality (1-100).
    pub jpeg_quality: u8,
    /// Images decoded at once per process (uploads and thumbnails), each taking up to
    /// `max_pixels` x 8 bytes: the bound on their memory.
    pub image_workers: usize,
    /// Items a product gallery (or a merchant's documents) hold at most.
    pub max_gallery_items: i64,
    /// Photos a review holds at most.
    pub max_review_photos: i64,
    /// Unattached uploads older than this are removed by `media.remove_orphans`.
    pub orphan_grace_hours: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct S3Config {
    /// e.g. `https://s3.ap-southeast-1.amazonaws.com` or `http://127.0.0.1:9000`; empty: AWS.
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Allow a plain-HTTP endpoint (development stores).
    pub allow_http: bool,
    /// `bucket.host` addressing instead of `host/bucket`.
    pub virtual_hosted_style: bool,
    /// Keys are written under this prefix in the bucket.
    pub prefix: String,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            storage: "local".into(),
            dir: String::new(),
            s3: S3Config::default(),
            max_upload_bytes: 10 * 1024 * 1024,
            max_pixels: 40_000_000,
            max_side: 12_000,
            thumbnail_sizes: vec![128, 256, 512, 1024],
            jpeg_quality: 85,
            image_workers: 2,
            max_gallery_items: 12,
            max_review_photos: 5,
            orphan_grace_hours: 24,
        }
    }
}

impl ModuleConfig for MediaConfig {
    const SECTION: &'static str = "media";
}
