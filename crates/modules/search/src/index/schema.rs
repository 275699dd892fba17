//! The fields of a search document. Bump `SCHEMA_VERSION` with any change: an index of
//! another version is rebuilt on start.

use tantivy::schema::{
    FacetOptions, Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions,
    FAST, STORED, STRING,
};

use crate::analysis;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Copy)]
pub struct Fields {
    /// `p:<product id>` or `o:<offer id>`: what an update replaces.
    pub key: Field,
    pub product_id: Field,
    pub offer_id: Field,
    pub variant_id: Field,
    /// Every category from the root to the product's (filters take descendants).
    pub category: Field,
    /// Names in every language, brand: matched as written, with typos, and stemmed.
    pub name: Field,
    pub name_en: Field,
    pub name_id: Field,
    /// Descriptions, categories, merchant, attributes.
    pub body: Field,
    pub body_en: Field,
    pub body_id: Field,
    /// `/type/..`, `/category/<root>/../<leaf>`, `/brand/..`, `/merchant/..`,
    /// `/currency/..`, `/stock/in`, `/rating/<n>` (n and up).
    pub facets: Field,
    pub price: Field,
    pub rating: Field,
    pub sold: Field,
    pub created: Field,
    pub latitude: Field,
    pub longitude: Field,
    pub valid_from: Field,
    pub valid_until: Field,
    /// A stable per-document number breaking ties (and keying cursors).
    pub tie: Field,
    /// The hit as answered, JSON.
    pub payload: Field,
}

pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |analyzer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(analyzer)
                .set_index_option(IndexRecordOption::WithFreqs),
        )
    };
    let number = || NumericOptions::default().set_fast().set_indexed();
    let fields = Fields {
        key: b.add_text_field("key", STRING | STORED),
        product_id: b.add_text_field("product_id", STRING | STORED),
        offer_id: b.add_text_field("offer_id", STRING),
        variant_id: b.add_text_field("variant_id", STRING),
        category: b.add_text_field("category", STRING),
        name: b.add_text_field("name", text(analysis::PLAIN)),
        name_en: b.add_text_field("name_en", text(analysis::STEM_EN)),
        name_id: b.add_text_field("name_id", text(analysis::STEM_ID)),
        body: b.add_text_field("body", text(analysis::PLAIN)),
        body_en: b.add_text_field("body_en", text(analysis::STEM_EN)),
        body_id: b.add_text_field("body_id", text(analysis::STEM_ID)),
        facets: b.add_facet_field("facets", FacetOptions::default()),
        price: b.add_i64_field("price", number()),
        rating: b.add_f64_field("rating", number()),
        sold: b.add_i64_field("sold", FAST),
        created: b.add_i64_field("created", FAST),
        latitude: b.add_f64_field("latitude", number()),
        longitude: b.add_f64_field("longitude", number()),
        valid_from: b.add_i64_field("valid_from", number()),
        valid_until: b.add_i64_field("valid_until", number()),
        tie: b.add_u64_field("tie", FAST),
        payload: b.add_text_field("payload", STORED),
    };
    (b.build(), fields)
}

impl Fields {
    pub fn of(schema: &Schema) -> Option<Self> {
        let f = |name: &str| schema.get_field(name).ok();
        Some(Self {
            key: f("key")?,
            product_id: f("product_id")?,
            offer_id: f("offer_id")?,
            variant_id: f("variant_id")?,
            category: f("category")?,
            name: f("name")?,
            name_en: f("name_en")?,
            name_id: f("name_id")?,
            body: f("body")?,
            body_en: f("body_en")?,
            body_id: f("body_id")?,
            facets: f("facets")?,
            price: f("price")?,
            rating: f("rating")?,
            sold: f("sold")?,
            created: f("created")?,
            latitude: f("latitude")?,
            longitude: f("longitude")?,
            valid_from: f("valid_from")?,
            valid_until: f("valid_until")?,
            tie: f("tie")?,
            payload: f("payload")?,
        })
    }
}
