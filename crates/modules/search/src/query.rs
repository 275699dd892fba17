//! One search: the words become a query (each word must match, as written, stemmed, through
//! a synonym, or within a few typos when nothing matched as written), the filters narrow it,
//! and one pass over the matches counts them, counts the facets and keeps the page.

use std::collections::HashMap;
use std::ops::Bound;

use kernel::FieldError;
use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, FuzzyTermQuery, Occur, Query,
    RangeQuery, TermQuery,
};
use tantivy::schema::{Facet, IndexRecordOption, Value};
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentReader, TantivyDocument, Term};
use uuid::Uuid;

use crate::analysis::{self, Unit};
use crate::api::*;
use crate::geo::{self, WithinRadius};
use crate::index::document::facet;
use crate::index::schema::Fields;
use crate::suggest::Suggestions;

pub const MAX_LIMIT: u32 = 50;
const MAX_QUERY_CHARS: usize = 200;
const MAX_UNITS: usize = 12;
const FACET_VALUES: usize = 20;

/// Words too common to require (only dropped when the query has other words).
const STOP_WORDS: &[&str] = &[
    "the", "a", "an", "and", "or", "for", "of", "with", "in", "on", "to", "yang", "dan", "di",
    "untuk", "dengan", "ke", "dari",
];

/// Synonym groups by each of their normalized words.
pub type SynonymMap = HashMap<String, Vec<String>>;

pub fn synonym_map(groups: &[Vec<String>]) -> SynonymMap {
    let mut map = SynonymMap::new();
    for group in groups {
        let words: Vec<String> = group
            .iter()
            .map(|w| crate::suggest::normalize(w))
            .filter(|w| !w.is_empty())
            .collect();
        for word in &words {
            let others = words.iter().filter(|w| *w != word).cloned();
            map.entry(word.clone()).or_default().extend(others);
        }
    }
    map
}

/// What one pass collects: the count, the facet counts, the page (with its sort keys).
type Fruit = (
    usize,
    Option<tantivy::collector::FacetCounts>,
    Vec<((f64, u64), DocAddress)>,
);

/// A validated request.
pub struct Plan {
    units: Vec<Unit>,
    filters: Vec<Box<dyn Query>>,
    sort: SearchSort,
    near: Option<(f64, f64)>,
    radius_km: Option<f64>,
    limit: usize,
    after: Option<(f64, u64)>,
    category_path: Option<Vec<Uuid>>,
    facets: bool,
}

fn invalid(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

fn range_i64(
    field: tantivy::schema::Field,
    lower: Bound<i64>,
    upper: Bound<i64>,
) -> Box<dyn Query> {
    let term = |v: i64| Term::from_field_i64(field, v);
    Box::new(RangeQuery::new(lower.map(term), upper.map(term)))
}

fn range_f64(
    field: tantivy::schema::Field,
    lower: Bound<f64>,
    upper: Bound<f64>,
) -> Box<dyn Query> {
    let term = |v: f64| Term::from_field_f64(field, v);
    Box::new(RangeQuery::new(lower.map(term), upper.map(term)))
}

fn facet_term(f: &Fields, parts: &[&str]) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_facet(f.facets, &facet(parts)),
        IndexRecordOption::Basic,
    ))
}

fn encode_cursor((primary, tie): (f64, u64)) -> String {
    kernel::Cursor::encode(&format!("{:016x}:{tie:016x}", primary.to_bits()))
}

fn decode_cursor(raw: &str) -> Option<(f64, u64)> {
    let kernel::Cursor(key) = kernel::Cursor::decode(raw).ok()?;
    let (primary, tie) = key.split_once(':')?;
    Some((
        f64::from_bits(u64::from_str_radix(primary, 16).ok()?),
        u64::from_str_radix(tie, 16).ok()?,
    ))
}

pub fn parse_point(text: &str) -> Option<(f64, f64)> {
    let (lat, lon) = text.split_once(',')?;
    let (lat, lon) = (
        lat.trim().parse::<f64>().ok()?,
        lon.trim().parse::<f64>().ok()?,
    );
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lat, lon))
}

impl Plan {
    pub fn new(
        q: &SearchQuery,
        f: &Fields,
        now: i64,
        category_path: impl Fn(Uuid) -> Option<Vec<Uuid>>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let text = q.q.as_deref().unwrap_or("").trim();
        if text.chars().count() > MAX_QUERY_CHARS {
            errors.push(invalid("q", "at most 200 characters"));
        }
        let limit = q.limit.unwrap_or(20);
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.push(invalid("limit", "must be between 1 and 50"));
        }
        for (field, value) in [("minPrice", q.min_price), ("maxPrice", q.max_price)] {
            if value.is_some_and(|v| v < 0) {
                errors.push(invalid(field, "must not be negative"));
            }
        }
        if let (Some(min), Some(max)) = (q.min_price, q.max_price) {
            if min > max {
                errors.push(invalid("minPrice", "must not exceed maxPrice"));
            }
        }
        if (q.min_price.is_some() || q.max_price.is_some()) && q.currency.is_none() {
            errors.push(invalid("currency", "is required with a price range"));
        }
        if q.min_rating.is_some_and(|r| !(0.0..=5.0).contains(&r)) {
            errors.push(invalid("minRating", "must be between 0 and 5"));
        }
        let near = match q.near.as_deref() {
            None => None,
            Some(text) => {
                let point = parse_point(text);
                if point.is_none() {
                    errors.push(invalid("near", "must be `latitude,longitude`"));
                }
                point
            }
        };
        if let Some(r) = q.radius_km {
            if !(r > 0.0 && r <= 20_000.0) {
                errors.push(invalid("radiusKm", "must be above 0 and at most 20000"));
            } else if q.near.is_none() {
                errors.push(invalid("radiusKm", "needs `near`"));
            }
        }
        let sort = q.sort.unwrap_or_default();
        if sort == SearchSort::Distance && q.near.is_none() {
            errors.push(invalid("sort", "distance needs `near`"));
        }
        let after = match q.cursor.as_deref() {
            None => None,
            Some(raw) => {
                let decoded = decode_cursor(raw);
                if decoded.is_none() {
                    errors.push(invalid("cursor", "is not a valid cursor"));
                }
                decoded
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }

        let mut filters: Vec<Box<dyn Query>> = vec![
            // Offers outside their validity are not for sale (products have no window).
            range_i64(f.valid_from, Bound::Unbounded, Bound::Included(now)),
            range_i64(f.valid_until, Bound::Excluded(now), Bound::Unbounded),
        ];
        if let Some(kind) = q.kind {
            filters.push(facet_term(f, &["type", kind.as_str()]));
        }
        let mut path = None;
        if let Some(category) = q.category_id {
            filters.push(Box::new(TermQuery::new(
                Term::from_field_text(f.category, &category.to_string()),
                IndexRecordOption::Basic,
            )));
            path = Some(category_path(category).unwrap_or_else(|| vec![category]));
        }
        if let Some(brand) = q.brand_id {
            filters.push(facet_term(f, &["brand", &brand.to_string()]));
        }
        if let Some(merchant) = q.merchant_id {
            filters.push(facet_term(f, &["merchant", &merchant.to_string()]));
        }
        if let Some(currency) = q.currency {
            filters.push(facet_term(f, &["currency", currency.code()]));
        }
        if q.min_price.is_some() || q.max_price.is_some() {
            filters.push(range_i64(
                f.price,
                q.min_price.map_or(Bound::Unbounded, Bound::Included),
                q.max_price.map_or(Bound::Unbounded, Bound::Included),
            ));
        }
        if let Some(min) = q.min_rating.filter(|r| *r > 0.0) {
            filters.push(range_f64(f.rating, Bound::Included(min), Bound::Unbounded));
        }
        if q.in_stock == Some(true) {
            filters.push(facet_term(f, &["stock", "in"]));
        }
        if let (Some(center), Some(radius)) = (near, q.radius_km) {
            let (min_lat, max_lat, min_lon, max_lon) = geo::bounding_box(center, radius);
            filters.push(range_f64(
                f.latitude,
                Bound::Included(min_lat),
                Bound::Included(max_lat),
            ));
            filters.push(range_f64(
                f.longitude,
                Bound::Included(min_lon),
                Bound::Included(max_lon),
            ));
        }

        let all = analysis::units(text);
        let mut units: Vec<Unit> = all
            .iter()
            .filter(|u| !STOP_WORDS.contains(&u.text().to_lowercase().as_str()))
            .cloned()
            .collect();
        if units.is_empty() {
            // Only common words: look for them after all.
            units = all;
        }
        units.truncate(MAX_UNITS);
        Ok(Self {
            units,
            filters,
            sort,
            near,
            radius_km: q.radius_km,
            limit: limit as usize,
            after,
            category_path: path,
            facets: q.facets == Some(true),
        })
    }

    pub fn has_words(&self) -> bool {
        !self.units.is_empty()
    }

    fn text_query(&self, f: &Fields, synonyms: &SynonymMap, fuzzy: bool) -> Option<Box<dyn Query>> {
        let mut plain = analysis::plain();
        let mut english = analysis::stemmed_english();
        let mut indonesian = analysis::stemmed_indonesian();
        let term = |field, text: &str, boost: f32| -> (Occur, Box<dyn Query>) {
            let query = TermQuery::new(
                Term::from_field_text(field, text),
                IndexRecordOption::WithFreqs,
            );
            (
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(query), boost)),
            )
        };
        let mut groups: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for unit in &self.units {
            let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            match unit {
                Unit::Word(word) => {
                    let Some(token) = analysis::terms(&mut plain, word).pop() else {
                        continue;
                    };
                    alternatives.push(term(f.name, &token, 3.0));
                    alternatives.push(term(f.body, &token, 1.0));
                    for stem in analysis::terms(&mut english, word) {
                        alternatives.push(term(f.name_en, &stem, 2.0));
                        alternatives.push(term(f.body_en, &stem, 0.7));
                    }
                    for stem in analysis::terms(&mut indonesian, word) {
                        alternatives.push(term(f.name_id, &stem, 2.0));
                        alternatives.push(term(f.body_id, &stem, 0.7));
                    }
                    let distance = typo_distance(&token);
                    if fuzzy && distance > 0 {
                        for (field, boost) in [(f.name, 1.5), (f.body, 0.5)] {
                            let query = FuzzyTermQuery::new(
                                Term::from_field_text(field, &token),
                                distance,
                                true,
                            );
                            alternatives.push((
                                Occur::Should,
                                Box::new(BoostQuery::new(Box::new(query), boost)),
                            ));
                        }
                    }
                }
                Unit::Khmer(run) => {
                    let pairs = analysis::terms(&mut plain, run);
                    if pairs.is_empty() {
                        continue;
                    }
                    let all: Vec<(Occur, Box<dyn Query>)> = pairs
                        .iter()
                        .map(|pair| {
                            let either: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
                                term(f.name, pair, 3.0),
                                term(f.body, pair, 1.0),
                            ]));
                            (Occur::Must, either)
                        })
                        .collect();
                    alternatives.push((Occur::Should, Box::new(BooleanQuery::new(all))));
                }
            }
            for synonym in synonyms
                .get(&crate::suggest::normalize(unit.text()))
                .into_iter()
                .flatten()
            {
                let tokens = analysis::terms(&mut plain, synonym);
                if tokens.is_empty() {
                    continue;
                }
                let all: Vec<(Occur, Box<dyn Query>)> = tokens
                    .iter()
                    .map(|t| {
                        let either: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
                            term(f.name, t, 2.5),
                            term(f.body, t, 0.8),
                        ]));
                        (Occur::Must, either)
                    })
                    .collect();
                alternatives.push((Occur::Should, Box::new(BooleanQuery::new(all))));
            }
            groups.push((Occur::Must, Box::new(BooleanQuery::new(alternatives))));
        }
        (!groups.is_empty()).then(|| Box::new(BooleanQuery::new(groups)) as Box<dyn Query>)
    }

    fn query(&self, f: &Fields, synonyms: &SynonymMap, fuzzy: bool) -> Box<dyn Query> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = self
            .filters
            .iter()
            .map(|q| {
                let filter: Box<dyn Query> = Box::new(ConstScoreQuery::new(q.box_clone(), 0.0));
                (Occur::Must, filter)
            })
            .collect();
        match self.text_query(f, synonyms, fuzzy) {
            Some(text) => clauses.push((Occur::Must, text)),
            // Words that make no term (too long to index): nothing can match them.
            None if self.has_words() => return Box::new(EmptyQuery),
            None if clauses.is_empty() => return Box::new(AllQuery),
            None => {}
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// Runs the search: as written first, then with typos forgiven if that found nothing.
    pub fn run(
        &self,
        searcher: &Searcher,
        f: &Fields,
        synonyms: &SynonymMap,
        labels: &Suggestions,
    ) -> tantivy::Result<SearchResults> {
        let exact = self.collect(searcher, f, synonyms, false)?;
        let (fruit, corrected) = if exact.0 == 0 && self.has_words() {
            (self.collect(searcher, f, synonyms, true)?, true)
        } else {
            (exact, false)
        };
        let (total, facet_counts, top) = fruit;
        let mut items = Vec::with_capacity(self.limit);
        let mut last_key = None;
        let kept: Vec<_> = top
            .into_iter()
            .filter(|(key, _)| key.0 > f64::NEG_INFINITY)
            .collect();
        let more = kept.len() > self.limit;
        for (key, address) in kept.into_iter().take(self.limit) {
            let doc: TantivyDocument = searcher.doc(address)?;
            let Some(payload) = doc
                .get_first(f.payload)
                .and_then(|v| v.as_str().map(str::to_owned))
            else {
                continue;
            };
            let Ok(mut hit) = serde_json::from_str::<SearchHit>(&payload) else {
                continue;
            };
            if let (Some(center), Some(location)) = (self.near, &hit.location) {
                let d = geo::haversine_km(center, (location.latitude, location.longitude));
                hit.distance_km = Some((d * 100.0).round() / 100.0);
            }
            items.push(hit);
            last_key = Some(key);
        }
        Ok(SearchResults {
            items,
            total: total as u64,
            facets: facet_counts.map(|counts| self.facets(&counts, labels)),
            next_cursor: if more {
                last_key.map(encode_cursor)
            } else {
                None
            },
            corrected,
        })
    }

    fn collect(
        &self,
        searcher: &Searcher,
        f: &Fields,
        synonyms: &SynonymMap,
        fuzzy: bool,
    ) -> tantivy::Result<Fruit> {
        let query = self.query(f, synonyms, fuzzy);
        let facets = self.facets.then(|| {
            let mut facets = FacetCollector::for_field("facets");
            match &self.category_path {
                Some(path) => {
                    let mut parts = vec!["category".to_owned()];
                    parts.extend(path.iter().map(Uuid::to_string));
                    facets.add_facet(Facet::from_path(parts));
                }
                None => facets.add_facet("/category"),
            }
            for root in ["/brand", "/merchant", "/type", "/rating"] {
                facets.add_facet(root);
            }
            facets
        });
        let sort = self.sort;
        let scored = self.has_words();
        let near = self.near;
        let after = self.after;
        let top =
            TopDocs::with_limit(self.limit + 1).tweak_score(move |segment: &SegmentReader| {
                let keys = SortKeys::open(segment, sort, scored, near);
                move |doc: DocId, score: Score| {
                    let key = keys.key(doc, score);
                    match after {
                        Some(cursor) if key >= cursor => (f64::NEG_INFINITY, 0),
                        _ => key,
                    }
                }
            });
        let collector = (Count, facets, top);
        match (self.near, self.radius_km) {
            (Some(center), Some(radius_km)) => searcher.search(
                &query,
                &WithinRadius {
                    inner: collector,
                    center,
                    radius_km,
                },
            ),
            _ => searcher.search(&query, &collector),
        }
    }

    fn facets(&self, counts: &tantivy::collector::FacetCounts, labels: &Suggestions) -> Facets {
        let values = |root: &str, label: &dyn Fn(&str) -> Option<kernel::LocalizedText>| {
            counts
                .top_k(root, FACET_VALUES)
                .into_iter()
                .filter_map(|(facet, count)| {
                    let value = facet.to_path().last()?.to_string();
                    Some(FacetValue {
                        label: label(&value),
                        value,
                        count,
                    })
                })
                .collect::<Vec<_>>()
        };
        let named = |value: &str| {
            Uuid::parse_str(value)
                .ok()
                .and_then(|id| labels.name_label(id))
                .map(|en| kernel::LocalizedText {
                    en,
                    km: None,
                    id: None,
                })
        };
        let category_root = match &self.category_path {
            Some(path) => {
                let mut root = String::from("/category");
                for id in path {
                    root.push('/');
                    root.push_str(&id.to_string());
                }
                root
            }
            None => "/category".to_owned(),
        };
        let mut ratings = values("/rating", &|_| None);
        ratings.sort_by(|a, b| b.value.cmp(&a.value));
        Facets {
            categories: values(&category_root, &|v| {
                Uuid::parse_str(v)
                    .ok()
                    .and_then(|id| labels.category_label(id))
            }),
            brands: values("/brand", &named),
            merchants: values("/merchant", &named),
            types: values("/type", &|_| None),
            ratings,
        }
    }
}

/// Typos forgiven by word length: none up to 3 letters, one up to 7, two beyond.
pub fn typo_distance(token: &str) -> u8 {
    match token.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// The fast fields a sort reads, opened once per segment.
struct SortKeys {
    sort: SearchSort,
    scored: bool,
    near: Option<(f64, f64)>,
    price: Option<tantivy::columnar::Column<i64>>,
    rating: Option<tantivy::columnar::Column<f64>>,
    sold: Option<tantivy::columnar::Column<i64>>,
    created: Option<tantivy::columnar::Column<i64>>,
    latitude: Option<tantivy::columnar::Column<f64>>,
    longitude: Option<tantivy::columnar::Column<f64>>,
    tie: Option<tantivy::columnar::Column<u64>>,
}

impl SortKeys {
    fn open(
        segment: &SegmentReader,
        sort: SearchSort,
        scored: bool,
        near: Option<(f64, f64)>,
    ) -> Self {
        let fast = segment.fast_fields();
        Self {
            sort,
            scored,
            near,
            price: fast.i64("price").ok(),
            rating: fast.f64("rating").ok(),
            sold: fast.i64("sold").ok(),
            created: fast.i64("created").ok(),
            latitude: fast.f64("latitude").ok(),
            longitude: fast.f64("longitude").ok(),
            tie: fast.u64("tie").ok(),
        }
    }

    /// Higher comes first; the tie-breaker keeps pages stable.
    fn key(&self, doc: DocId, score: Score) -> (f64, u64) {
        let i = |c: &Option<tantivy::columnar::Column<i64>>| {
            c.as_ref().and_then(|c| c.first(doc)).unwrap_or(0) as f64
        };
        let tie = self.tie.as_ref().and_then(|c| c.first(doc)).unwrap_or(0);
        let primary = match self.sort {
            SearchSort::Relevance if self.scored => f64::from(score),
            SearchSort::Relevance | SearchSort::Newest => i(&self.created),
            SearchSort::PriceAsc => -i(&self.price),
            SearchSort::PriceDesc => i(&self.price),
            SearchSort::Rating => self
                .rating
                .as_ref()
                .and_then(|c| c.first(doc))
                .unwrap_or(0.0),
            SearchSort::BestSelling => i(&self.sold),
            SearchSort::Distance => {
                let point = self
                    .latitude
                    .as_ref()
                    .and_then(|c| c.first(doc))
                    .zip(self.longitude.as_ref().and_then(|c| c.first(doc)));
                match (self.near, point) {
                    (Some(center), Some(p)) => -geo::haversine_km(center, p),
                    // Without a location: after every located hit.
                    _ => -1.0e9,
                }
            }
        };
        (primary, tie)
    }
}
