//! Where media bytes live: local disk under the data directory by default, or any
//! S3-compatible store, both through `object_store`. Keys are per media (`<id>/original.jpg`,
//! `<id>/thumb-256.jpg`); a put is whole or absent (S3 PUTs are atomic; the local store writes a
//! temporary file and renames it).

use std::sync::Arc;

use axum::body::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};

use crate::config::MediaConfig;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object {0} not found in the media store")]
    NotFound(String),
    #[error("media store: {0}")]
    Unavailable(String),
}

impl From<object_store::Error> for StorageError {
    fn from(err: object_store::Error) -> Self {
        match err {
            object_store::Error::NotFound { path, .. } => StorageError::NotFound(path),
            other => StorageError::Unavailable(other.to_string()),
        }
    }
}

#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    prefix: String,
}

impl Storage {
    /// Opens the configured store (creating the local directory).
    pub fn open(config: &MediaConfig, data_dir: &std::path::Path) -> Result<Self, StorageError> {
        match config.storage.trim() {
            "s3" => {
                let s3 = &config.s3;
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(if s3.region.is_empty() {
                        "us-east-1"
                    } else {
                        &s3.region
                    })
                    .with_access_key_id(&s3.access_key_id)
                    .with_secret_access_key(&s3.secret_access_key)
                    .with_allow_http(s3.allow_http)
                    .with_virtual_hosted_style_request(s3.virtual_hosted_style);
                if !s3.endpoint.trim().is_empty() {
                    builder = builder.with_endpoint(s3.endpoint.trim());
                }
                let store = builder
                    .build()
                    .map_err(|e| StorageError::Unavailable(e.to_string()))?;
                Ok(Self {
                    store: Arc::new(store),
                    prefix: s3.prefix.trim_matches('/').to_owned(),
                })
            }
            _ => {
                let dir = if config.dir.trim().is_empty() {
                    data_dir.join("media")
                } else {
                    std::path::PathBuf::from(config.dir.trim())
                };
                std::fs::create_dir_all(&dir)
                    .map_err(|e| StorageError::Unavailable(format!("{}: {e}", dir.display())))?;
                let store = LocalFileSystem::new_with_prefix(&dir)?;
                Ok(Self {
                    store: Arc::new(store),
                    prefix: String::new(),
                })
            }
        }
    }

    fn path(&self, key: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(key)
        } else {
            ObjectPath::from(format!("{}/{key}", self.prefix))
        }
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        self.store
            .put(&self.path(key), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        let object = self.store.get(&self.path(key)).await?;
        Ok(object.bytes().await?)
    }

    /// Deleting what is already gone succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }
}
