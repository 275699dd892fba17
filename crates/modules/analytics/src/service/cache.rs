//! What dashboards read and answered, kept in memory under the version of the merchant's
//! figures: the same question asked again while nothing changed for the merchant is answered
//! with the bytes sent last time, and another report of the same period without summing a year
//! of hours again. The version lives in the database and moves in the transaction that
//! changes the rollups, so every process (and every instance of a split layout) drops what it
//! kept the moment the figures change; the memory is bounded by entries, least used first out.

use std::collections::HashMap;
use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use kernel::Actor;
use lru::LruCache;
use uuid::Uuid;

use super::dashboards::may_see;
use super::{Analytics, Result};
use crate::api::AnalyticsQuery;
use crate::domain::{Granularity, Period};
use crate::store::{self, MerchantDayRow, ProductRow};

/// Reads and answers kept per process: a year by day in two currencies is about 730 rows
/// (~110 KiB) or 80 KiB of JSON.
const ENTRIES: usize = 256;

/// The most top products a report lists per currency (`limit` is at most this).
pub(super) const MAX_TOP_PRODUCTS: u32 = 100;

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
    /// A report as sent: its name, by day, week or month, CSV or JSON, and how many products.
    Body {
        report: &'static str,
        granularity: Granularity,
        csv: bool,
        limit: Option<u32>,
    },
}

#[derive(Clone)]
pub(super) enum Kept {
    Days(Arc<Vec<MerchantDayRow>>),
    Products(Arc<Vec<ProductRow>>),
    Body(Bytes),
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

    /// A merchant report as sent (`render` makes it, for the period resolved once here, when
    /// nothing is kept), after the caller is checked.
    pub async fn report_body<F, Fut>(
        &self,
        actor: &Actor,
        merchant_id: Uuid,
        q: &AnalyticsQuery,
        report: &'static str,
        csv: bool,
        render: F,
    ) -> Result<Bytes>
    where
        F: FnOnce(Period) -> Fut,
        Fut: Future<Output = Result<Bytes>>,
    {
        may_see(actor, merchant_id)?;
        let period = self.period(q)?;
        let what = What::Body {
            report,
            granularity: period.granularity,
            csv,
            limit: q.limit,
        };
        let key = self.key(merchant_id, what, &period).await?;
        if let Some(Kept::Body(body)) = self.kept(&key) {
            return Ok(body);
        }
        let body = render(period).await?;
        self.keep(key, Kept::Body(body.clone()));
        Ok(body)
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
        let mut rows =
            store::products(&self.ctx.db, merchant_id, period.start_ms, period.end_ms).await?;
        // Best first per currency: only the most a report shows is worth keeping.
        let mut per_currency: HashMap<String, u32> = HashMap::new();
        rows.retain(|row| {
            let shown = per_currency.entry(row.currency.clone()).or_default();
            *shown += 1;
            *shown <= MAX_TOP_PRODUCTS
        });
        let rows = Arc::new(rows);
        self.keep(key, Kept::Products(rows.clone()));
        Ok(rows)
    }
}
