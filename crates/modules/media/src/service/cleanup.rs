//! Cleaning up: uploads never attached are removed after the grace period
//! (`media.remove_orphans`), and objects whose rows are gone are removed from the store, with
//! retries while it is unavailable (`media.empty_trash`).

use super::*;
use crate::store;

/// Work per job run: the next run takes the rest.
const BATCH: i64 = 500;

impl MediaLibrary {
    /// Removes uploads unattached for longer than the grace period; how many.
    pub async fn remove_orphans(&self) -> Result<usize> {
        let grace_ms = self
            .config
            .orphan_grace_hours
            .max(0)
            .saturating_mul(3_600_000);
        let cutoff = Timestamp::now().millis() - grace_ms;
        let mut removed = 0;
        for id in store::orphans(&self.ctx.db, cutoff, BATCH).await? {
            let mut tx = self.ctx.db.begin().await?;
            // The row first: what hangs off it is read under its lock.
            let Some(locked) = store::lock_media(&mut tx, id).await? else {
                continue;
            };
            let thumbnails = self.thumbnail_keys(&mut tx, &locked).await?;
            // Re-checked on the row: attached meanwhile, it stays.
            let Some(row) = store::delete_orphan(&mut tx, id, cutoff).await? else {
                continue;
            };
            let keys = self.forget(&mut tx, &row, thumbnails, "orphaned").await?;
            tx.commit().await?;
            self.empty(&keys).await;
            removed += 1;
        }
        Ok(removed)
    }

    /// Removes trashed objects from the store; how many are left for a later run.
    pub async fn empty_trash(&self) -> Result<usize> {
        let keys = store::trash(&self.ctx.db, BATCH).await?;
        let total = keys.len();
        let emptied = self.empty(&keys).await;
        Ok(total - emptied)
    }

    /// Deletes objects and their trash rows; how many went. A store outage leaves them for
    /// the next run.
    pub(super) async fn empty(&self, keys: &[String]) -> usize {
        let Ok(storage) = self.storage() else {
            return 0;
        };
        let mut emptied = 0;
        for key in keys {
            match storage.delete(key).await {
                Ok(()) => match store::emptied(&self.ctx.db, key).await {
                    Ok(()) => emptied += 1,
                    Err(err) => tracing::warn!(%key, error = %err, "trash row not cleared"),
                },
                Err(err) => {
                    tracing::warn!(%key, error = %err, "media object not removed yet; retried by media.empty_trash")
                }
            }
        }
        emptied
    }
}
