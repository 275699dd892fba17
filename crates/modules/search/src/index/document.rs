//! A search document: the hit it answers with, and the texts and facts it is found by.

use tantivy::schema::Facet;
use tantivy::TantivyDocument;
use uuid::Uuid;

use super::schema::Fields;
use crate::api::{HitKind, SearchHit};

#[derive(Debug, Clone)]
pub struct IndexDoc {
    pub hit: SearchHit,
    pub offer_id: Option<Uuid>,
    pub variant_ids: Vec<Uuid>,
    /// Names in every language and the brand.
    pub names: Vec<String>,
    /// Descriptions, category names, merchant name, attribute values.
    pub body: Vec<String>,
}

pub fn key_of(kind: HitKind, id: Uuid) -> String {
    match kind {
        HitKind::Product => format!("p:{id}"),
        HitKind::Voucher => format!("o:{id}"),
    }
}

/// A stable number per document, for ties and cursors.
pub fn tie_of(id: Uuid) -> u64 {
    let (high, low) = id.as_u64_pair();
    high ^ low.rotate_left(17)
}

pub fn facet(parts: &[&str]) -> Facet {
    Facet::from_path(parts.iter().copied())
}

impl IndexDoc {
    pub fn key(&self) -> String {
        key_of(self.hit.kind, self.hit.id)
    }

    pub fn to_tantivy(&self, f: &Fields) -> TantivyDocument {
        let hit = &self.hit;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.key, self.key());
        doc.add_text(f.product_id, hit.product_id.to_string());
        if let Some(offer) = self.offer_id {
            doc.add_text(f.offer_id, offer.to_string());
        }
        for v in &self.variant_ids {
            doc.add_text(f.variant_id, v.to_string());
        }
        for name in &self.names {
            doc.add_text(f.name, name);
            doc.add_text(f.name_en, name);
            doc.add_text(f.name_id, name);
        }
        for text in &self.body {
            doc.add_text(f.body, text);
            doc.add_text(f.body_en, text);
            doc.add_text(f.body_id, text);
        }
        let ids: Vec<String> = hit.categories.iter().map(|c| c.id.to_string()).collect();
        for id in &ids {
            doc.add_text(f.category, id);
        }
        if !ids.is_empty() {
            let mut path = vec!["category"];
            path.extend(ids.iter().map(String::as_str));
            doc.add_facet(f.facets, facet(&path));
        }
        doc.add_facet(f.facets, facet(&["type", hit.kind.as_str()]));
        doc.add_facet(f.facets, facet(&["merchant", &hit.merchant_id.to_string()]));
        if let Some(brand) = hit.brand_id {
            doc.add_facet(f.facets, facet(&["brand", &brand.to_string()]));
        }
        doc.add_facet(f.facets, facet(&["currency", hit.currency.code()]));
        if hit.in_stock {
            doc.add_facet(f.facets, facet(&["stock", "in"]));
        }
        if let Some(average) = hit.rating.average {
            for n in 1..=5u8 {
                if average >= f64::from(n) {
                    doc.add_facet(f.facets, facet(&["rating", &n.to_string()]));
                }
            }
        }
        doc.add_i64(f.price, hit.price);
        doc.add_f64(f.rating, hit.rating.average.unwrap_or(0.0));
        doc.add_i64(f.sold, hit.sold);
        doc.add_i64(f.created, hit.created_at.millis());
        if let Some(location) = &hit.location {
            doc.add_f64(f.latitude, location.latitude);
            doc.add_f64(f.longitude, location.longitude);
        }
        doc.add_i64(
            f.valid_from,
            hit.valid_from.map_or(i64::MIN, |t| t.millis()),
        );
        doc.add_i64(
            f.valid_until,
            hit.valid_until.map_or(i64::MAX, |t| t.millis()),
        );
        doc.add_u64(f.tie, tie_of(hit.id));
        // Our own DTO always serializes.
        doc.add_text(
            f.payload,
            serde_json::to_string(hit).unwrap_or_else(|_| "null".into()),
        );
        doc
    }
}
