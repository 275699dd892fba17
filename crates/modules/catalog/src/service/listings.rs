//! Products as search indexes them (internal): texts, taxonomy names, visibility.

use std::collections::HashMap;

use super::*;
use crate::store::{CategoryRow, ListingRow};

impl Catalog {
    pub async fn listings(&self, query: &ListingQuery) -> Result<ListingPage> {
        if query.product_ids.len() > 200 {
            return Err(invalid_one("productIds", "at most 200 per lookup"));
        }
        let limit = query.limit.unwrap_or(500);
        if !(1..=1_000).contains(&limit) {
            return Err(invalid_one("limit", "must be between 1 and 1000"));
        }
        let db = &self.ctx.db;
        let by_ids = !query.product_ids.is_empty();
        let (rows, variants) = if by_ids {
            store::listings_by_ids(db, &query.product_ids).await?
        } else {
            store::listings_page(db, query.merchant_id, query.after, limit).await?
        };
        let next = (!by_ids && rows.len() == limit as usize)
            .then(|| rows.last().map(|r| r.product.id))
            .flatten();
        let missing = query
            .product_ids
            .iter()
            .filter(|id| !rows.iter().any(|r| r.product.id == **id))
            .copied()
            .collect();
        let categories: HashMap<Uuid, CategoryRow> = store::all_categories(db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let mut by_product: HashMap<Uuid, Vec<ListingVariant>> = HashMap::new();
        for v in variants {
            by_product
                .entry(v.product_id)
                .or_default()
                .push(ListingVariant {
                    variant_id: v.id,
                    sku: v.sku,
                    price: v.price,
                });
        }
        let listings = rows
            .into_iter()
            .map(|row| {
                let variants = by_product.remove(&row.product.id).unwrap_or_default();
                listing(row, variants, &categories)
            })
            .collect::<Result<_>>()?;
        Ok(ListingPage {
            listings,
            missing,
            next,
        })
    }
}

fn listing(
    row: ListingRow,
    variants: Vec<ListingVariant>,
    categories: &HashMap<Uuid, CategoryRow>,
) -> Result<Listing> {
    let p = row.product;
    let categories = path_ids(&row.category_path)
        .into_iter()
        .filter_map(|id| categories.get(&id))
        .map(|c| {
            Ok(NamedRef {
                id: c.id,
                name: from_json(&c.name)?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Listing {
        product_id: p.id,
        merchant_id: p.merchant_id,
        merchant_name: p.merchant_name,
        listed: p.listed,
        product_type: parse(&p.product_type, ProductType::parse)?,
        slug: p.slug,
        name: from_json(&p.name)?,
        description: p.description.as_deref().map(from_json).transpose()?,
        categories,
        brand_id: p.brand_id,
        brand_name: row.brand_name,
        attributes: from_json(&p.attributes)?,
        currency: p
            .currency
            .as_deref()
            .map(|c| parse(c, Currency::parse))
            .transpose()?,
        min_price: p.min_price,
        max_price: p.max_price,
        rating_average: p.rating_average,
        rating_count: p.rating_count,
        variants,
        created_at: Timestamp::from_millis(p.created_at),
        updated_at: Timestamp::from_millis(p.updated_at),
    })
}
