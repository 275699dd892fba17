//! What dashboards read, kept in memory under the version of the merchant's figures: the same
//! question asked again while nothing changed for the merchant is answered without summing a
//! year of hours again. The version lives in the database and moves in the transaction that
//! changes the rollups, so every process (and every instance of a split layout) drops what it
//! kept the moment the figures change; the memory is bounded by entries, least used first out.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use uuid::Uuid;

use super::{Analytics, Result};
use crate::domain::Period;
use crate::store::{self, MerchantDayRow, ProductRow};

/// Reads kept per process: a year by day in two currencies is about 730 rows (~110 KiB).
const ENTRIES: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct ReadKey {
    merchant_id: Uuid,
    version: i64,
    what: What,
    start_ms: i64,
    end_ms: i64,
    zone: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum What {
    Days,
    Products,
}

#[derive(Clone)]
pub(super) enum Kept {
    Days(Arc<Vec<MerchantDayRow>>),
    Products(Arc<Vec<ProductRow>>),
}

pub(super) type Reads = Mutex<LruCache<ReadKey, Kept>>;

pub(super) fn reads() -> Reads {
    Mutex::new(LruCache::new(
        NonZeroUsize::new(ENTRIES).unwrap_or(NonZeroUsize::MIN),
    ))
}

impl Analytics {
    async fn key(&self, merchant_id: Uuid, what: What, period: &Period) -> Result<ReadKey> {
        Ok(ReadKey {
            merchant_id,
            version: store::merchant_version(&self.ctx.db, merchant_id).await?,
            what,
            start_ms: period.start_ms,
            end_ms: period.end_ms,
            zone: period.zone.label(),
        })
    }

    fn kept(&self, key: &ReadKey) -> Option<Kept> {
        self.reads.lock().ok()?.get(key).cloned()
    }

    fn keep(&self, key: ReadKey, kept: Kept) {
        if let Ok(mut reads) = self.reads.lock() {
            reads.put(key, kept);
        }
    }

    /// A merchant's figures per currency and local day of the period.
    pub(super) async fn days(
        &self,
        merchant_id: Uuid,
        period: &Period,
    ) -> Result<Arc<Vec<MerchantDayRow>>> {
        let key = self.key(merchant_id, What::Days, period).await?;
        if let Some(Kept::Days(rows)) = self.kept(&key) {
            return Ok(rows);
        }
        let rows = Arc::new(store::merchant_days(&self.ctx.db, merchant_id, &period.spans).await?);
        self.keep(key, Kept::Days(rows.clone()));
        Ok(rows)
    }

    /// A merchant's products of the period, per currency, best revenue first.
    pub(super) async fn product_rows(
        &self,
        merchant_id: Uuid,
        period: &Period,
    ) -> Result<Arc<Vec<ProductRow>>> {
        let key = self.key(merchant_id, What::Products, period).await?;
        if let Some(Kept::Products(rows)) = self.kept(&key) {
            return Ok(rows);
        }
        let rows = Arc::new(
            store::products(&self.ctx.db, merchant_id, period.start_ms, period.end_ms).await?,
        );
        self.keep(key, Kept::Products(rows.clone()));
        Ok(rows)
    }
}
