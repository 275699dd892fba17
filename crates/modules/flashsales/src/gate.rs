//! What lets a flash sale answer 10,000 buyers at once without queuing them on the database:
//! an in-memory index of the sales that have not ended (so a checkout without sale items
//! costs no query), a hint per item of how few units were left when a take last failed (so
//! the losers of a sold-out item are answered from memory), and an admission limit on the
//! takes that do reach the database (so a crowd waits in a bounded queue, and beyond it is
//! told to come back). The database stays the only judge: a stale index or hint can refuse
//! or retry a buyer, never admit one more than the allotment.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit};
use uuid::Uuid;

use crate::store::LiveItemRow;

/// Items of sales not ended, by variant.
pub type Index = Arc<HashMap<Uuid, LiveItemRow>>;

pub struct Gate {
    /// The index, and when it was read.
    index: RwLock<Option<(Instant, Index)>>,
    index_ttl: Duration,
    /// Units left of an item when a take last found too few, and when.
    left_hints: Mutex<HashMap<Uuid, (i64, Instant)>>,
    hint_ttl: Duration,
    takes: Semaphore,
    waiting: AtomicUsize,
    queue_limit: usize,
}

/// A take's turn at the database.
pub struct Turn<'a> {
    _permit: SemaphorePermit<'a>,
}

impl Gate {
    pub fn new(
        index_ttl: Duration,
        hint_ttl: Duration,
        concurrency: usize,
        queue_limit: usize,
    ) -> Self {
        Self {
            index: RwLock::new(None),
            index_ttl,
            left_hints: Mutex::new(HashMap::new()),
            hint_ttl,
            takes: Semaphore::new(concurrency.max(1)),
            waiting: AtomicUsize::new(0),
            queue_limit,
        }
    }

    /// The index by variant, when fresh enough.
    pub fn index(&self) -> Option<Index> {
        let guard = self.index.read().ok()?;
        let (at, index) = guard.as_ref()?;
        (at.elapsed() < self.index_ttl).then(|| index.clone())
    }

    pub fn store_index(&self, rows: Vec<LiveItemRow>, now: i64) -> Index {
        // A variant is in at most one sale at a time (overlaps are refused); of a later one
        // and a running one, the running one prices.
        let mut index: HashMap<Uuid, LiveItemRow> = HashMap::new();
        for row in rows {
            let running = row.starts_at <= now;
            match index.get(&row.variant_id) {
                Some(kept)
                    if kept.starts_at <= now || !running && kept.starts_at < row.starts_at => {}
                _ => {
                    index.insert(row.variant_id, row);
                }
            }
        }
        let index = Arc::new(index);
        if let Ok(mut guard) = self.index.write() {
            *guard = Some((Instant::now(), index.clone()));
        }
        index
    }

    /// Forgets the index (a sale of this process changed): the next reader loads it.
    pub fn invalidate(&self) {
        if let Ok(mut guard) = self.index.write() {
            *guard = None;
        }
    }

    /// Whether `quantity` units of the item are known, recently, not to be there.
    pub fn known_short(&self, item_id: Uuid, quantity: i64) -> bool {
        let Ok(hints) = self.left_hints.lock() else {
            return false;
        };
        hints
            .get(&item_id)
            .is_some_and(|(left, at)| at.elapsed() < self.hint_ttl && *left < quantity)
    }

    pub fn note_left(&self, item_id: Uuid, left: i64) {
        if let Ok(mut hints) = self.left_hints.lock() {
            hints.insert(item_id, (left, Instant::now()));
        }
    }

    /// Units came back (this process released them): buyers may try again at once.
    pub fn forget_left(&self, item_id: Uuid) {
        if let Ok(mut hints) = self.left_hints.lock() {
            hints.remove(&item_id);
        }
    }

    /// Waits for a turn at the database, or None at once when the queue is full.
    pub async fn turn(&self) -> Option<Turn<'_>> {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue_limit {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        // Counted out even when the buyer goes away while waiting.
        let _place = InQueue(&self.waiting);
        let permit = self.takes.acquire().await;
        permit.ok().map(|p| Turn { _permit: p })
    }
}

struct InQueue<'a>(&'a AtomicUsize);

impl Drop for InQueue<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(variant: u128, starts_at: i64) -> LiveItemRow {
        LiveItemRow {
            item_id: Uuid::from_u128(starts_at as u128),
            sale_id: Uuid::from_u128(1),
            variant_id: Uuid::from_u128(variant),
            title: "{}".into(),
            sale_price: 1,
            list_price: 2,
            per_customer_limit: 1,
            platform_funded: false,
            starts_at,
            ends_at: starts_at + 1_000,
        }
    }

    #[test]
    fn the_running_sale_of_a_variant_prices_it() {
        let gate = Gate::new(Duration::from_secs(1), Duration::from_secs(1), 1, 1);
        let index = gate.store_index(
            vec![row(1, 5_000), row(1, 100), row(2, 9_000), row(2, 7_000)],
            200,
        );
        assert_eq!(index[&Uuid::from_u128(1)].starts_at, 100);
        assert_eq!(index[&Uuid::from_u128(2)].starts_at, 7_000);
        assert!(gate.index().is_some());
        gate.invalidate();
        assert!(gate.index().is_none());
    }

    #[test]
    fn a_hint_refuses_only_what_it_knows_is_missing() {
        let gate = Gate::new(Duration::from_secs(1), Duration::from_secs(60), 1, 1);
        let item = Uuid::from_u128(3);
        assert!(!gate.known_short(item, 1));
        gate.note_left(item, 1);
        assert!(!gate.known_short(item, 1));
        assert!(gate.known_short(item, 2));
        gate.forget_left(item);
        assert!(!gate.known_short(item, 2));
    }

    #[tokio::test]
    async fn a_full_queue_answers_at_once() {
        let gate = Gate::new(Duration::from_secs(1), Duration::from_secs(1), 1, 1);
        let first = gate.turn().await;
        assert!(first.is_some());
        // The one place in the queue is free (the first holds the permit, not a place).
        let waiter = gate.turn();
        tokio::pin!(waiter);
        assert!(tokio::time::timeout(Duration::from_millis(20), &mut waiter)
            .await
            .is_err());
        assert!(
            gate.turn().await.is_none(),
            "a second waiter is over the queue limit"
        );
        drop(first);
        assert!(waiter.await.is_some());
    }
}
