//! Reads: a product, its variants, public and staff lists (through the read cache), and
//! the quotes checkout prices with.

use super::*;

impl Catalog {
    pub(crate) fn is_privileged(actor: Option<&Actor>, merchant_id: Uuid) -> bool {
        actor.is_some_and(|a| {
            a.can(Permission::AdminCatalog)
                || a.is_staff_with(merchant_id, MerchantPermission::ViewInternal)
        })
    }

    pub(crate) fn variant(row: VariantRow) -> Result<Variant> {
        Ok(Variant {
            id: row.id,
            product_id: row.product_id,
            options: from_json(&row.options)?,
            currency: parse(&row.currency, Currency::parse)?,
            sku: row.sku,
            price: row.price,
            compare_at_price: row.compare_at_price,
            position: row.position,
        })
    }

    pub(crate) fn price_range(
        currency: Option<&str>,
        min: Option<i64>,
        max: Option<i64>,
    ) -> Result<Option<PriceRange>> {
        Ok(match (currency, min, max) {
            (Some(c), Some(min), Some(max)) => Some(PriceRange {
                currency: parse(c, Currency::parse)?,
                min,
                max,
            }),
            _ => None,
        })
    }

    pub(crate) fn detail(
        row: ProductRow,
        variants: Vec<VariantRow>,
        privileged: bool,
    ) -> Result<ProductDetail> {
        Ok(ProductDetail {
            price: Self::price_range(row.currency.as_deref(), row.min_price, row.max_price)?,
            dimensions: match (row.length_mm, row.width_mm, row.height_mm) {
                (Some(length_mm), Some(width_mm), Some(height_mm)) => Some(Dimensions {
                    length_mm,
                    width_mm,
                    height_mm,
                }),
                _ => None,
            },
            name: from_json(&row.name)?,
            description: row.description.as_deref().map(from_json).transpose()?,
            attributes: from_json(&row.attributes)?,
            product_type: parse(&row.product_type, ProductType::parse)?,
            status: parse(&row.status, ProductStatus::parse)?,
            status_reason: row.status_reason.filter(|_| privileged),
            rating: Rating {
                average: row.rating_average,
                count: row.rating_count,
            },
            variants: variants
                .into_iter()
                .map(Self::variant)
                .collect::<Result<_>>()?,
            id: row.id,
            merchant_id: row.merchant_id,
            merchant_name: row.merchant_name,
            slug: row.slug,
            category_id: row.category_id,
            brand_id: row.brand_id,
            weight_grams: row.weight_grams,
            created_at: Timestamp::from_millis(row.created_at),
            updated_at: Timestamp::from_millis(row.updated_at),
        })
    }

    pub(crate) fn summary(row: SummaryRow) -> Result<ProductSummary> {
        Ok(ProductSummary {
            price: Self::price_range(row.currency.as_deref(), row.min_price, row.max_price)?,
            name: from_json(&row.name)?,
            product_type: parse(&row.product_type, ProductType::parse)?,
            status: parse(&row.status, ProductStatus::parse)?,
            rating: Rating {
                average: row.rating_average,
                count: row.rating_count,
            },
            id: row.id,
            merchant_id: row.merchant_id,
            merchant_name: row.merchant_name,
            slug: row.slug,
            category_id: row.category_id,
            brand_id: row.brand_id,
            created_at: Timestamp::from_millis(row.created_at),
        })
    }

    /// A product as the caller may see it: listed products from the cache for everyone but
    /// their merchant's staff and admins; unlisted ones only to those.
    pub async fn product(&self, actor: Option<&Actor>, id: Uuid) -> Result<Read<ProductDetail>> {
        let key = format!("p:{id}");
        if let Some(hit) = self.cache.get(&key) {
            if !hit
                .merchant_id
                .is_some_and(|m| Self::is_privileged(actor, m))
            {
                return Ok(Read::Cached(hit.body));
            }
        }
        let generation = self.cache.generation();
        let (row, variants) = store::product_detail(&self.ctx.db, id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        let privileged = Self::is_privileged(actor, row.merchant_id);
        if !row.listed && !privileged {
            return Err(CatalogError::NotFound);
        }
        let (listed, merchant_id) = (row.listed, row.merchant_id);
        let detail = Self::detail(row, variants, privileged)?;
        if listed && !privileged {
            let body = Bytes::from(
                serde_json::to_vec(&detail).map_err(|e| CatalogError::Corrupt(e.to_string()))?,
            );
            self.cache
                .put(key, body.clone(), Some(merchant_id), generation);
            return Ok(Read::Cached(body));
        }
        Ok(Read::Fresh(detail))
    }

    pub async fn variants(&self, actor: Option<&Actor>, id: Uuid) -> Result<Vec<Variant>> {
        let (row, variants) = store::product_detail(&self.ctx.db, id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        if !row.listed && !Self::is_privileged(actor, row.merchant_id) {
            return Err(CatalogError::NotFound);
        }
        variants.into_iter().map(Self::variant).collect()
    }

    /// Lists products. The public sees listed products (cached); staff of `merchantId` see all
    /// of its products; admins may filter any status (the moderation queue).
    pub async fn list(
        &self,
        actor: Option<&Actor>,
        q: &ProductQuery,
    ) -> Result<Read<kernel::Page<ProductSummary>>> {
        let staff_view = q.merchant_id.is_some_and(|m| {
            actor.is_some_and(|a| a.is_staff_with(m, MerchantPermission::ViewInternal))
        });
        let admin_view = !staff_view
            && q.status.is_some()
            && actor.is_some_and(|a| a.can(Permission::AdminCatalog));
        if !staff_view && !admin_view && q.status.is_some_and(|s| s != ProductStatus::Active) {
            return Err(CatalogError::Forbidden(
                "Only the merchant's staff and admins list products by status",
            ));
        }
        let public = !staff_view && !admin_view;
        let key = public.then(|| format!("l:{}", list_key(q)));
        if let Some(hit) = key.as_deref().and_then(|k| self.cache.get(k)) {
            return Ok(Read::Cached(hit.body));
        }
        let generation = self.cache.generation();
        let limit = q
            .limit
            .unwrap_or(kernel::page::DEFAULT_LIMIT)
            .clamp(1, kernel::page::MAX_LIMIT);
        let sort = q.sort.unwrap_or_default();
        let after = match q.cursor.as_deref() {
            Some(cursor) => Some(list_after(sort, cursor)?),
            None => None,
        };
        let filter = store::ProductFilter {
            public,
            status: q.status.filter(|_| !public),
            merchant_id: q.merchant_id,
            category_id: q.category_id,
            brand_id: q.brand_id,
            product_type: q.product_type,
            currency: q.currency,
            min_price: q.min_price,
            max_price: q.max_price,
            sort,
            after,
            limit: limit + 1,
        };
        let mut rows = store::list_products(&self.ctx.db, &filter).await?;
        let next_cursor = (rows.len() > limit as usize)
            .then(|| {
                rows.truncate(limit as usize);
                rows.last().map(|last| {
                    Cursor::encode(&match sort {
                        SortOrder::Newest => last.id.to_string(),
                        SortOrder::PriceAsc | SortOrder::PriceDesc => {
                            format!("{}|{}", last.min_price.unwrap_or_default(), last.id)
                        }
                        SortOrder::Name => format!("{}|{}", last.name_sort, last.id),
                    })
                })
            })
            .flatten();
        let page = kernel::Page {
            items: rows
                .into_iter()
                .map(Self::summary)
                .collect::<Result<Vec<_>>>()?,
            next_cursor,
        };
        match key {
            Some(key) => {
                let body = Bytes::from(
                    serde_json::to_vec(&page).map_err(|e| CatalogError::Corrupt(e.to_string()))?,
                );
                self.cache.put(key, body.clone(), None, generation);
                Ok(Read::Cached(body))
            }
            None => Ok(Read::Fresh(page)),
        }
    }

    pub async fn references(&self, lookup: &ReferenceLookup) -> Result<References> {
        let asked = lookup.category_ids.len() + lookup.brand_ids.len() + lookup.product_ids.len();
        if asked > 1_000 {
            return Err(invalid_one("categoryIds", "at most 1000 ids per lookup"));
        }
        let db = &self.ctx.db;
        let mut out = References::default();
        for id in &lookup.category_ids {
            if !store::category_exists(db, *id).await? {
                out.unknown_category_ids.push(*id);
            }
        }
        for id in &lookup.brand_ids {
            if !store::brand_known(db, *id).await? {
                out.unknown_brand_ids.push(*id);
            }
        }
        for id in &lookup.product_ids {
            match store::product_merchant(db, *id).await? {
                Some(merchant_id) => out.product_merchants.push(ProductMerchant {
                    product_id: *id,
                    merchant_id,
                }),
                None => out.unknown_product_ids.push(*id),
            }
        }
        Ok(out)
    }

    pub async fn quotes(&self, ids: &[Uuid]) -> Result<Vec<VariantQuote>> {
        if ids.len() > 200 {
            return Err(invalid_one("variantIds", "at most 200 per lookup"));
        }
        store::quotes(&self.ctx.db, ids)
            .await?
            .into_iter()
            .map(|q| {
                let mut category_path = path_ids(&q.path);
                category_path.reverse();
                Ok(VariantQuote {
                    variant_id: q.id,
                    product_id: q.product_id,
                    merchant_id: q.merchant_id,
                    sku: q.sku,
                    product_name: from_json(&q.name)?,
                    product_type: parse(&q.product_type, ProductType::parse)?,
                    price: q.price,
                    currency: parse(&q.currency, Currency::parse)?,
                    category_path,
                    brand_id: q.brand_id,
                    sellable: q.listed,
                    weight_grams: q.weight_grams,
                    dimensions: match (q.length_mm, q.width_mm, q.height_mm) {
                        (Some(length_mm), Some(width_mm), Some(height_mm)) => Some(Dimensions {
                            length_mm,
                            width_mm,
                            height_mm,
                        }),
                        _ => None,
                    },
                })
            })
            .collect()
    }
}

/// The canonical form of a public list query (the cache key).
pub(crate) fn list_key(q: &ProductQuery) -> String {
    format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        q.category_id,
        q.merchant_id,
        q.brand_id,
        q.product_type,
        q.currency,
        q.min_price,
        q.max_price,
        q.sort,
        q.limit,
        q.cursor
    )
}

/// Where a list resumes, from its cursor: the sort values of the last row shown, which must be
/// those of `sort`.
pub(crate) fn list_after(sort: SortOrder, cursor: &str) -> Result<store::ListAfter> {
    let bad = || invalid_one("cursor", "is not a valid cursor");
    let Cursor(raw) = Cursor::decode(cursor).map_err(|_| bad())?;
    let (value, id) = match raw.rsplit_once('|') {
        Some((value, id)) => (Some(value.to_owned()), id.to_owned()),
        None => (None, raw.clone()),
    };
    let id = Uuid::parse_str(&id).map_err(|_| bad())?;
    Ok(match (sort, value) {
        (SortOrder::Newest, None) => store::ListAfter::Newest(id),
        (SortOrder::PriceAsc | SortOrder::PriceDesc, Some(v)) => {
            store::ListAfter::Price(v.parse().map_err(|_| bad())?, id)
        }
        (SortOrder::Name, Some(v)) => store::ListAfter::Name(v, id),
        _ => return Err(bad()),
    })
}
