//! Autocomplete from memory: every word start of product and offer names, category names
//! and brand names, kept in a sorted set so a prefix is one range scan. Also the labels
//! facets are shown with. Rebuilt from the index on start, kept current by the indexer.

use std::collections::{BTreeSet, HashMap};
use std::sync::RwLock;

use kernel::LocalizedText;
use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, RawTokenizer, TextAnalyzer};
use uuid::Uuid;

use crate::api::{HitKind, SearchHit, Suggestion, SuggestionKind};

/// Keys looked at per prefix: enough to rank well, bounded for a one-letter prefix.
const SCAN_LIMIT: usize = 1_000;
/// Word starts indexed per name (the rest of a long name is rarely typed first).
const WORD_STARTS: usize = 6;

#[derive(Debug)]
struct Entry {
    text: String,
    normalized: String,
    kind: SuggestionKind,
    id: Uuid,
    /// Documents naming it (categories, brands are shared).
    refs: u32,
    weight: i64,
    /// An offer's sale window: suggested only inside it (as it is found).
    window: (Option<i64>, Option<i64>),
}

#[derive(Default)]
struct Inner {
    keys: BTreeSet<(String, u32)>,
    entries: HashMap<u32, Entry>,
    by_identity: HashMap<(SuggestionKind, Uuid, String), u32>,
    by_product: HashMap<Uuid, Vec<u32>>,
    next: u32,
    categories: HashMap<Uuid, LocalizedText>,
    /// Each category's ids from the root, for facet paths.
    paths: HashMap<Uuid, Vec<Uuid>>,
    names: HashMap<Uuid, String>,
}

#[derive(Default)]
pub struct Suggestions {
    inner: RwLock<Inner>,
}

thread_local! {
    static FOLD: std::cell::RefCell<TextAnalyzer> = std::cell::RefCell::new(
        TextAnalyzer::builder(RawTokenizer::default())
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build(),
    );
}

/// Lowercased and folded, whole (no segmentation): what prefixes are compared on.
pub fn normalize(text: &str) -> String {
    let folded = FOLD.with(|fold| {
        let mut analyzer = fold.borrow_mut();
        let mut stream = analyzer.token_stream(text.trim());
        let mut out = String::new();
        while stream.advance() {
            out.push_str(&stream.token().text);
        }
        out
    });
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn word_starts(normalized: &str) -> Vec<String> {
    let mut out = vec![normalized.to_owned()];
    out.extend(
        normalized
            .match_indices(' ')
            .take(WORD_STARTS - 1)
            .map(|(i, _)| normalized[i + 1..].to_owned()),
    );
    out
}

fn texts(t: &LocalizedText) -> impl Iterator<Item = &String> {
    std::iter::once(&t.en).chain(t.km.iter()).chain(t.id.iter())
}

impl Inner {
    fn add_entry(
        &mut self,
        kind: SuggestionKind,
        id: Uuid,
        text: &str,
        weight: i64,
        window: (Option<i64>, Option<i64>),
    ) -> Option<u32> {
        let text = text.trim();
        let normalized = normalize(text);
        if normalized.is_empty() {
            return None;
        }
        let identity = (kind, id, text.to_owned());
        if let Some(&n) = self.by_identity.get(&identity) {
            if let Some(entry) = self.entries.get_mut(&n) {
                entry.refs += 1;
                entry.weight = entry.weight.max(weight);
            }
            return Some(n);
        }
        let n = self.next;
        self.next = self.next.wrapping_add(1);
        for key in word_starts(&normalized) {
            self.keys.insert((key, n));
        }
        self.entries.insert(
            n,
            Entry {
                text: text.to_owned(),
                normalized,
                kind,
                id,
                refs: 1,
                weight,
                window,
            },
        );
        self.by_identity.insert(identity, n);
        Some(n)
    }

    fn release(&mut self, n: u32) {
        let Some(entry) = self.entries.get_mut(&n) else {
            return;
        };
        entry.refs = entry.refs.saturating_sub(1);
        if entry.refs > 0 {
            return;
        }
        if let Some(entry) = self.entries.remove(&n) {
            for key in word_starts(&entry.normalized) {
                self.keys.remove(&(key, n));
            }
            self.by_identity.remove(&(entry.kind, entry.id, entry.text));
        }
    }

    fn remove_product(&mut self, product: Uuid) {
        for n in self.by_product.remove(&product).unwrap_or_default() {
            self.release(n);
        }
    }
}

impl Suggestions {
    /// Replaces what a product's documents contributed (none: it is gone or hidden).
    pub fn put(&self, product: Uuid, hits: &[&SearchHit]) {
        let Ok(mut inner) = self.inner.write() else {
            return;
        };
        inner.remove_product(product);
        let mut ids = Vec::new();
        for hit in hits {
            let kind = match hit.kind {
                HitKind::Product => SuggestionKind::Product,
                HitKind::Voucher => SuggestionKind::Voucher,
            };
            let weight = hit.sold + 1;
            let window = (
                hit.valid_from.map(|t| t.millis()),
                hit.valid_until.map(|t| t.millis()),
            );
            for text in texts(&hit.name) {
                ids.extend(inner.add_entry(kind, hit.id, text, weight, window));
            }
            for category in &hit.categories {
                for text in texts(&category.name) {
                    ids.extend(inner.add_entry(
                        SuggestionKind::Category,
                        category.id,
                        text,
                        0,
                        (None, None),
                    ));
                }
                inner.categories.insert(category.id, category.name.clone());
                let path: Vec<Uuid> = hit
                    .categories
                    .iter()
                    .map(|c| c.id)
                    .take_while(|id| *id != category.id)
                    .chain(std::iter::once(category.id))
                    .collect();
                inner.paths.insert(category.id, path);
            }
            if let (Some(brand), Some(name)) = (hit.brand_id, &hit.brand_name) {
                ids.extend(inner.add_entry(SuggestionKind::Brand, brand, name, 0, (None, None)));
                inner.names.insert(brand, name.clone());
            }
            if let Some(name) = &hit.merchant_name {
                inner.names.insert(hit.merchant_id, name.clone());
            }
        }
        if !ids.is_empty() {
            inner.by_product.insert(product, ids);
        }
    }

    /// Takes everything of `other` (a rebuild's).
    pub fn replace(&self, other: Suggestions) {
        let fresh = other.inner.into_inner().unwrap_or_default();
        if let Ok(mut inner) = self.inner.write() {
            *inner = fresh;
        }
    }

    /// Names starting with `prefix` (at any word), most used first; offers only inside their
    /// sale window at `now` (epoch ms).
    pub fn lookup(&self, prefix: &str, limit: usize, now: i64) -> Vec<Suggestion> {
        let prefix = normalize(prefix);
        if prefix.is_empty() {
            return Vec::new();
        }
        let Ok(inner) = self.inner.read() else {
            return Vec::new();
        };
        let mut seen = std::collections::HashSet::new();
        let mut found: Vec<&Entry> = inner
            .keys
            .range((prefix.clone(), 0)..)
            .take_while(|(key, _)| key.starts_with(&prefix))
            .take(SCAN_LIMIT)
            .filter(|(_, n)| seen.insert(*n))
            .filter_map(|(_, n)| inner.entries.get(n))
            .filter(|e| {
                e.window.0.is_none_or(|from| from <= now)
                    && e.window.1.is_none_or(|until| until > now)
            })
            .collect();
        // Shared names (categories, brands) rank by how many listings carry them; names of
        // listings by units sold; a name that starts with the prefix beats a later word.
        found.sort_by_cached_key(|e| {
            let starts = e.normalized.starts_with(&prefix);
            let score = match e.kind {
                SuggestionKind::Category | SuggestionKind::Brand => i64::from(e.refs) * 2,
                _ => e.weight,
            };
            (
                std::cmp::Reverse(starts),
                std::cmp::Reverse(score),
                e.text.len(),
            )
        });
        let mut texts_seen = std::collections::HashSet::new();
        found
            .into_iter()
            .filter(|e| texts_seen.insert((e.kind, e.normalized.as_str())))
            .take(limit)
            .map(|e| Suggestion {
                text: e.text.clone(),
                kind: e.kind,
                id: e.id,
            })
            .collect()
    }

    pub fn category_label(&self, id: Uuid) -> Option<LocalizedText> {
        self.inner.read().ok()?.categories.get(&id).cloned()
    }

    pub fn name_label(&self, id: Uuid) -> Option<String> {
        self.inner.read().ok()?.names.get(&id).cloned()
    }
}

impl Suggestions {
    /// The ids from the root down to `category`, as documents carry them.
    pub fn category_path(&self, category: Uuid) -> Option<Vec<Uuid>> {
        self.inner.read().ok()?.paths.get(&category).cloned()
    }
}
