//! Where documents come from: catalog's listings, vouchers' offers, inventory's stock, and
//! what search keeps itself (units sold, ratings).

use std::collections::{HashMap, HashSet};

use catalog_contract::{CatalogClient, Listing, ListingQuery, ProductType};
use inventory_contract::{InventoryClient, SkuRef};
use kernel::LocalizedText;
use platform::db::Db;
use platform::services::CallError;
use uuid::Uuid;
use vouchers_contract::{Offer, OfferListingQuery, VouchersClient};

use crate::api::{GeoPoint, HitCategory, HitKind, HitRating, SearchHit};
use crate::index::document::IndexDoc;
use crate::store;

/// Ids per call to another module (their lookup limit).
const CHUNK: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

type Result<T> = std::result::Result<T, SourceError>;

/// Units sold and ratings, loaded whole for a rebuild or per product for an update.
#[derive(Default)]
pub struct Extras {
    pub sold: HashMap<Uuid, i64>,
    pub ratings: HashMap<Uuid, (Option<f64>, i64)>,
}

impl Extras {
    pub async fn all(db: &Db) -> Result<Self> {
        Ok(Self {
            sold: store::all_sold(db).await?.into_iter().collect(),
            ratings: store::all_ratings(db)
                .await?
                .into_iter()
                .map(|(id, average, count)| (id, (average, count)))
                .collect(),
        })
    }

    async fn load(&mut self, db: &Db, products: &[Uuid], offers: &[Uuid]) -> Result<()> {
        for id in products {
            self.sold.insert(*id, store::sold_of(db, *id).await?);
        }
        for id in products.iter().chain(offers) {
            if let Some(rating) = store::rating_of(db, *id).await? {
                self.ratings.insert(*id, rating);
            }
        }
        Ok(())
    }
}

#[derive(Clone)]
pub struct Sources {
    pub db: Db,
    pub catalog: CatalogClient,
    pub vouchers: VouchersClient,
    pub inventory: InventoryClient,
}

/// One page of documents, and every product it covers (listed or not).
pub struct Batch {
    pub products: Vec<Uuid>,
    pub docs: Vec<IndexDoc>,
}

impl Sources {
    /// The current documents of these products (none for a product gone or hidden).
    pub async fn products(&self, ids: &[Uuid]) -> Result<Batch> {
        let mut listings = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let page = self
                .catalog
                .listings(&ListingQuery {
                    product_ids: chunk.to_vec(),
                    ..Default::default()
                })
                .await?;
            listings.extend(page.listings);
        }
        let mut batch = self.documents(listings, None).await?;
        batch.products = ids.to_vec();
        Ok(batch)
    }

    /// Every product of a merchant (its status hides or shows them all).
    pub async fn merchant(&self, merchant_id: Uuid) -> Result<Batch> {
        let mut out = Batch {
            products: Vec::new(),
            docs: Vec::new(),
        };
        let mut after = None;
        loop {
            let page = self
                .catalog
                .listings(&ListingQuery {
                    merchant_id: Some(merchant_id),
                    after,
                    ..Default::default()
                })
                .await?;
            let mut batch = self.documents(page.listings, None).await?;
            out.products.append(&mut batch.products);
            out.docs.append(&mut batch.docs);
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(out),
            }
        }
    }

    /// A page of every product in id order, for a rebuild; None after the last.
    pub async fn page(
        &self,
        after: Option<Uuid>,
        extras: &Extras,
    ) -> Result<(Batch, Option<Uuid>)> {
        let page = self
            .catalog
            .listings(&ListingQuery {
                after,
                limit: Some(500),
                ..Default::default()
            })
            .await?;
        Ok((
            self.documents(page.listings, Some(extras)).await?,
            page.next,
        ))
    }

    async fn documents(&self, listings: Vec<Listing>, extras: Option<&Extras>) -> Result<Batch> {
        let products: Vec<Uuid> = listings.iter().map(|l| l.product_id).collect();
        let shown: Vec<Listing> = listings
            .into_iter()
            .filter(|l| l.listed && l.currency.is_some() && l.min_price.is_some())
            .collect();
        let physical: Vec<&Listing> = shown
            .iter()
            .filter(|l| l.product_type == ProductType::Physical)
            .collect();
        let vouchers: Vec<Uuid> = shown
            .iter()
            .filter(|l| l.product_type == ProductType::Voucher)
            .map(|l| l.product_id)
            .collect();
        let in_stock = self.in_stock(&physical).await?;
        let offers = self.offers(&vouchers).await?;
        let mut loaded = Extras::default();
        let extras = match extras {
            Some(extras) => extras,
            None => {
                let offer_ids: Vec<Uuid> = offers.values().flatten().map(|o| o.id).collect();
                loaded.load(&self.db, &products, &offer_ids).await?;
                &loaded
            }
        };
        let mut docs = Vec::new();
        for listing in &shown {
            match listing.product_type {
                ProductType::Physical => docs.extend(product_doc(
                    listing,
                    in_stock.contains(&listing.product_id),
                    extras,
                )),
                ProductType::Voucher => {
                    for offer in offers.get(&listing.product_id).into_iter().flatten() {
                        docs.push(offer_doc(listing, offer, extras));
                    }
                }
            }
        }
        Ok(Batch { products, docs })
    }

    /// Products with stock left in some location.
    async fn in_stock(&self, listings: &[&Listing]) -> Result<HashSet<Uuid>> {
        let skus: Vec<(Uuid, SkuRef)> = listings
            .iter()
            .flat_map(|l| {
                l.variants.iter().map(|v| {
                    (
                        l.product_id,
                        SkuRef {
                            merchant_id: l.merchant_id,
                            sku: v.sku.clone(),
                        },
                    )
                })
            })
            .collect();
        let mut out = HashSet::new();
        for chunk in skus.chunks(CHUNK) {
            let answers = self
                .inventory
                .availability(chunk.iter().map(|(_, s)| s.clone()).collect())
                .await?;
            for ((product, _), answer) in chunk.iter().zip(answers) {
                if answer.available > 0 {
                    out.insert(*product);
                }
            }
        }
        Ok(out)
    }

    async fn offers(&self, products: &[Uuid]) -> Result<HashMap<Uuid, Vec<Offer>>> {
        let mut out: HashMap<Uuid, Vec<Offer>> = HashMap::new();
        for chunk in products.chunks(CHUNK) {
            let offers = self
                .vouchers
                .offer_listings(&OfferListingQuery {
                    product_ids: chunk.to_vec(),
                    ..Default::default()
                })
                .await?;
            for offer in offers {
                out.entry(offer.product_id).or_default().push(offer);
            }
        }
        Ok(out)
    }
}

fn texts(t: &LocalizedText) -> impl Iterator<Item = String> + '_ {
    std::iter::once(t.en.clone())
        .chain(t.km.clone())
        .chain(t.id.clone())
}

fn categories(listing: &Listing) -> Vec<HitCategory> {
    listing
        .categories
        .iter()
        .map(|c| HitCategory {
            id: c.id,
            name: c.name.clone(),
        })
        .collect()
}

/// Description, category names, merchant name and attribute values.
fn body(listing: &Listing) -> Vec<String> {
    let mut body: Vec<String> = listing.description.iter().flat_map(texts).collect();
    for category in &listing.categories {
        body.extend(texts(&category.name));
    }
    body.extend(listing.merchant_name.clone());
    for value in listing.attributes.values() {
        match value {
            serde_json::Value::String(s) => body.push(s.clone()),
            serde_json::Value::Number(n) => body.push(n.to_string()),
            serde_json::Value::Array(items) => {
                body.extend(items.iter().filter_map(|i| i.as_str().map(str::to_owned)))
            }
            _ => {}
        }
    }
    body
}

fn names(name: &LocalizedText, brand: Option<&String>) -> Vec<String> {
    texts(name).chain(brand.cloned()).collect()
}

fn rating(extras: &Extras, id: Uuid, fallback: (Option<f64>, i64)) -> HitRating {
    let (average, count) = extras.ratings.get(&id).copied().unwrap_or(fallback);
    HitRating {
        average: average.map(|a| (a * 100.0).round() / 100.0),
        count,
    }
}

fn product_doc(listing: &Listing, in_stock: bool, extras: &Extras) -> Option<IndexDoc> {
    let categories = categories(listing);
    Some(IndexDoc {
        hit: SearchHit {
            kind: HitKind::Product,
            id: listing.product_id,
            product_id: listing.product_id,
            merchant_id: listing.merchant_id,
            merchant_name: listing.merchant_name.clone(),
            slug: listing.slug.clone(),
            name: listing.name.clone(),
            category_id: categories.last().map(|c| c.id).unwrap_or_default(),
            categories,
            brand_id: listing.brand_id,
            brand_name: listing.brand_name.clone(),
            price: listing.min_price?,
            max_price: listing.max_price.or(listing.min_price)?,
            currency: listing.currency?,
            rating: rating(
                extras,
                listing.product_id,
                (listing.rating_average, i64::from(listing.rating_count)),
            ),
            sold: extras.sold.get(&listing.product_id).copied().unwrap_or(0),
            in_stock,
            location: None,
            distance_km: None,
            valid_from: None,
            valid_until: None,
            created_at: listing.created_at,
        },
        offer_id: None,
        variant_ids: listing.variants.iter().map(|v| v.variant_id).collect(),
        names: names(&listing.name, listing.brand_name.as_ref()),
        body: body(listing),
    })
}

fn offer_doc(listing: &Listing, offer: &Offer, extras: &Extras) -> IndexDoc {
    let categories = categories(listing);
    let mut body = body(listing);
    body.extend(offer.description.iter().flat_map(texts));
    IndexDoc {
        hit: SearchHit {
            kind: HitKind::Voucher,
            id: offer.id,
            product_id: listing.product_id,
            merchant_id: listing.merchant_id,
            merchant_name: listing.merchant_name.clone(),
            slug: listing.slug.clone(),
            name: offer.title.clone(),
            category_id: categories.last().map(|c| c.id).unwrap_or_default(),
            categories,
            brand_id: listing.brand_id,
            brand_name: listing.brand_name.clone(),
            price: offer.price,
            max_price: offer.price,
            currency: offer.currency,
            rating: rating(
                extras,
                offer.id,
                (offer.rating.average, i64::from(offer.rating.count)),
            ),
            sold: i64::from(offer.issued),
            in_stock: offer.remaining != Some(0),
            location: offer.location.map(|l| GeoPoint {
                latitude: l.latitude,
                longitude: l.longitude,
            }),
            distance_km: None,
            valid_from: offer.valid_from,
            valid_until: offer.valid_until,
            created_at: offer.created_at,
        },
        offer_id: Some(offer.id),
        variant_ids: vec![offer.variant_id],
        names: names(&offer.title, listing.brand_name.as_ref()),
        body,
    }
}
