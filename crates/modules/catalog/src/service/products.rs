//! Products and variants as merchants write them: creation, edits, moderation moves,
//! deletion, and the facts their events carry.

use super::*;

impl Catalog {
    pub(crate) async fn check_references(
        &self,
        tx: &mut Tx,
        category_id: Option<Uuid>,
        brand_id: Option<Uuid>,
    ) -> Result<()> {
        let mut errors = Vec::new();
        if let Some(category_id) = category_id {
            if store::category_in(tx, category_id).await?.is_none() {
                errors.push(FieldError {
                    field: "categoryId".into(),
                    message: "no such category".into(),
                });
            }
        }
        if let Some(brand_id) = brand_id {
            if !store::brand_exists(tx, brand_id).await? {
                errors.push(FieldError {
                    field: "brandId".into(),
                    message: "no such brand".into(),
                });
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(invalid(errors))
        }
    }

    pub(crate) async fn fact(
        tx: &mut Tx,
        row: &ProductRow,
        status: ProductStatus,
    ) -> Result<ProductFact> {
        Ok(ProductFact {
            product_id: row.id,
            merchant_id: row.merchant_id,
            product_type: parse(&row.product_type, ProductType::parse)?,
            status,
            variants: store::variants_in(tx, row.id)
                .await?
                .into_iter()
                .map(|v| VariantRef {
                    variant_id: v.id,
                    sku: v.sku,
                })
                .collect(),
        })
    }

    pub(crate) async fn insert_variants(
        &self,
        tx: &mut Tx,
        product: &ProductRow,
        variants: &[VariantInput],
        first_position: i32,
        now: Timestamp,
    ) -> Result<Vec<Uuid>> {
        let mut ids = Vec::new();
        for (i, v) in variants.iter().enumerate() {
            let row = VariantRow {
                id: kernel::new_id(),
                product_id: product.id,
                merchant_id: product.merchant_id,
                sku: v.sku.clone(),
                options: to_json(&v.options),
                price: v.price,
                compare_at_price: v.compare_at_price,
                currency: v.currency.code().to_owned(),
                position: v.position.unwrap_or(first_position + i as i32),
            };
            if let Err(err) = store::insert_variant(tx, &row, now).await {
                return Err(if is_unique_violation(&err) {
                    invalid(vec![FieldError {
                        field: format!("variants[{i}].sku"),
                        message: format!("SKU {} is already used by this merchant", v.sku),
                    }])
                } else {
                    err.into()
                });
            }
            ids.push(row.id);
        }
        Ok(ids)
    }

    /// Picks the slug: the requested one (409 when taken) or one derived from the name.
    pub(crate) fn slug_for(requested: Option<&str>, name: &LocalizedText, id: Uuid) -> String {
        match requested {
            Some(slug) => slug.to_owned(),
            None => {
                let base = domain::slugify(&name.en);
                let suffix = &id.simple().to_string()[24..];
                if base.is_empty() {
                    suffix.to_owned()
                } else {
                    format!("{base}-{suffix}")
                }
            }
        }
    }

    pub async fn create(&self, input: ProductInput) -> Result<ProductDetail> {
        let definitions = self.attributes().await?;
        domain::validate_product(&input, &definitions).map_err(invalid)?;
        let now = Timestamp::now();
        let id = kernel::new_id();
        let (length_mm, width_mm, height_mm) = match input.dimensions {
            Some(d) => (Some(d.length_mm), Some(d.width_mm), Some(d.height_mm)),
            None => (None, None, None),
        };
        let row = ProductRow {
            id,
            merchant_id: input.merchant_id,
            merchant_name: None,
            slug: Self::slug_for(input.slug.as_deref(), &input.name, id),
            name: to_json(&input.name),
            description: input.description.as_ref().map(to_json),
            category_id: input.category_id,
            brand_id: input.brand_id,
            attributes: to_json(&input.attributes),
            product_type: input.product_type.as_str().to_owned(),
            weight_grams: input.weight_grams,
            length_mm,
            width_mm,
            height_mm,
            status: ProductStatus::Draft.as_str().to_owned(),
            status_reason: None,
            currency: None,
            min_price: None,
            max_price: None,
            listed: false,
            rating_average: None,
            rating_count: 0,
            created_at: now.millis(),
            updated_at: now.millis(),
        };
        let mut tx = self.ctx.db.begin().await?;
        self.check_references(&mut tx, Some(input.category_id), input.brand_id)
            .await?;
        if let Err(err) = store::insert_product(&mut tx, &row, &input.name.en.to_lowercase()).await
        {
            return Err(if is_unique_violation(&err) {
                CatalogError::Taken("slug")
            } else {
                err.into()
            });
        }
        self.insert_variants(&mut tx, &row, &input.variants, 0, now)
            .await?;
        store::refresh_product(&mut tx, id).await?;
        let fact = Self::fact(&mut tx, &row, ProductStatus::Draft).await?;
        bus::publish(&mut tx, SOURCE, &ProductCreated(fact)).await?;
        self.commit(tx).await?;
        self.full(id).await
    }

    /// The full view, for staff and admins.
    pub(crate) async fn full(&self, id: Uuid) -> Result<ProductDetail> {
        let (row, variants) = store::product_detail(&self.ctx.db, id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        Self::detail(row, variants, true)
    }

    /// Loads a product for a change by its merchant's staff, refusing anyone else.
    pub(crate) async fn editable(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        id: Uuid,
    ) -> Result<ProductRow> {
        let row = store::product_in(tx, id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        if !actor.is_staff_with(row.merchant_id, MerchantPermission::EditListings) {
            return Err(CatalogError::Forbidden(
                "Only the merchant's managers and owner edit its listings",
            ));
        }
        if !parse(&row.status, ProductStatus::parse)?.editable() {
            return Err(CatalogError::Archived);
        }
        Ok(row)
    }

    pub async fn update(
        &self,
        actor: &Actor,
        id: Uuid,
        update: ProductUpdate,
    ) -> Result<ProductDetail> {
        let definitions = self.attributes().await?;
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let mut row = self.editable(&mut tx, actor, id).await?;
        let product_type = parse(&row.product_type, ProductType::parse)?;
        let weight = update.weight_grams.or(row.weight_grams);
        let dimensions = update
            .dimensions
            .or(match (row.length_mm, row.width_mm, row.height_mm) {
                (Some(length_mm), Some(width_mm), Some(height_mm)) => Some(Dimensions {
                    length_mm,
                    width_mm,
                    height_mm,
                }),
                _ => None,
            });
        domain::validate_update(
            &update,
            product_type,
            weight,
            dimensions.as_ref(),
            &definitions,
        )
        .map_err(invalid)?;
        self.check_references(&mut tx, update.category_id, update.brand_id)
            .await?;
        let mut name: LocalizedText = from_json(&row.name)?;
        if let Some(new_name) = update.name {
            name = new_name;
            row.name = to_json(&name);
        }
        if let Some(description) = &update.description {
            row.description = Some(to_json(description));
        }
        if let Some(slug) = update.slug {
            row.slug = slug;
        }
        if let Some(category_id) = update.category_id {
            row.category_id = category_id;
        }
        if let Some(brand_id) = update.brand_id {
            row.brand_id = Some(brand_id);
        }
        if let Some(attributes) = &update.attributes {
            row.attributes = to_json(attributes);
        }
        row.weight_grams = weight;
        if let Some(d) = dimensions {
            (row.length_mm, row.width_mm, row.height_mm) =
                (Some(d.length_mm), Some(d.width_mm), Some(d.height_mm));
        }
        row.updated_at = now.millis();
        if let Err(err) = store::update_product(&mut tx, &row, &name.en.to_lowercase()).await {
            return Err(if is_unique_violation(&err) {
                CatalogError::Taken("slug")
            } else {
                err.into()
            });
        }
        self.updated(&mut tx, &row).await?;
        self.commit(tx).await?;
        self.full(id).await
    }

    pub(crate) async fn updated(&self, tx: &mut Tx, row: &ProductRow) -> Result<()> {
        store::refresh_product(tx, row.id).await?;
        let status = parse(&row.status, ProductStatus::parse)?;
        let fact = Self::fact(tx, row, status).await?;
        bus::publish(tx, SOURCE, &ProductUpdated(fact)).await?;
        Ok(())
    }

    pub async fn change_status(
        &self,
        actor: &Actor,
        id: Uuid,
        change: StatusChange,
    ) -> Result<ProductDetail> {
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let row = store::product_in(&mut tx, id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        let moderator = actor.can(Permission::AdminCatalog);
        let staff = actor.is_staff_with(row.merchant_id, MerchantPermission::EditListings);
        if !moderator && !staff {
            return Err(CatalogError::Forbidden(
                "Only the merchant's managers and owner, or moderators, change a listing's status",
            ));
        }
        let from = parse(&row.status, ProductStatus::parse)?;
        let to = change.status;
        // Staff move their own products; an admin who is also staff moderates.
        let mover = if moderator
            && (!staff || matches!(to, ProductStatus::Active | ProductStatus::Rejected))
        {
            Mover::Moderator
        } else {
            Mover::Merchant
        };
        match from.transition(to, mover) {
            Ok(()) => {}
            Err(TransitionError::NotYours) => {
                return Err(CatalogError::Forbidden(match mover {
                    Mover::Merchant => "Only moderators activate or reject listings",
                    Mover::Moderator => {
                        "Only the merchant submits, withdraws or archives its listings"
                    }
                }))
            }
            Err(TransitionError::Illegal { allowed }) => {
                return Err(CatalogError::Transition { from, to, allowed })
            }
        }
        let reason = change
            .reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        domain::validate_reason(reason.as_deref(), to == ProductStatus::Rejected)
            .map_err(invalid)?;
        if to == ProductStatus::PendingReview && row.min_price.is_none() {
            return Err(invalid_one(
                "variants",
                "add at least one variant with a price before submitting",
            ));
        }
        if !store::set_status(
            &mut tx,
            id,
            from.as_str(),
            to.as_str(),
            reason.as_deref(),
            now,
        )
        .await?
        {
            return Err(CatalogError::Transition {
                from,
                to,
                allowed: Vec::new(),
            });
        }
        store::refresh_product(&mut tx, id).await?;
        bus::publish(
            &mut tx,
            SOURCE,
            &ProductStatusChanged {
                product_id: id,
                merchant_id: row.merchant_id,
                from,
                to,
                reason,
                by: actor.user_id,
            },
        )
        .await?;
        self.commit(tx).await?;
        self.full(id).await
    }

    pub async fn delete(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let row = store::product_in(&mut tx, id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        if !actor.is_staff_with(row.merchant_id, MerchantPermission::EditListings) {
            return Err(CatalogError::Forbidden(
                "Only the merchant's managers and owner delete its listings",
            ));
        }
        store::soft_delete(&mut tx, id, now).await?;
        bus::publish(
            &mut tx,
            SOURCE,
            &ProductDeleted {
                product_id: id,
                merchant_id: row.merchant_id,
                by: actor.user_id,
            },
        )
        .await?;
        self.commit(tx).await
    }

    pub async fn add_variants(
        &self,
        actor: &Actor,
        id: Uuid,
        variants: Vec<VariantInput>,
    ) -> Result<Vec<Variant>> {
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let row = self.editable(&mut tx, actor, id).await?;
        let existing = store::variants_in(&mut tx, id).await?;
        let currency = existing.first().and_then(|v| Currency::parse(&v.currency));
        domain::validate_variants(&variants, currency, existing.len(), "variants")
            .map_err(invalid)?;
        let first_position = existing.iter().map(|v| v.position + 1).max().unwrap_or(0);
        let ids = self
            .insert_variants(&mut tx, &row, &variants, first_position, now)
            .await?;
        self.updated(&mut tx, &row).await?;
        let created = store::variants_in(&mut tx, id).await?;
        self.commit(tx).await?;
        created
            .into_iter()
            .filter(|v| ids.contains(&v.id))
            .map(Self::variant)
            .collect()
    }

    pub async fn update_variant(
        &self,
        actor: &Actor,
        id: Uuid,
        variant_id: Uuid,
        update: VariantUpdate,
    ) -> Result<Variant> {
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let row = self.editable(&mut tx, actor, id).await?;
        let mut variant = store::variants_in(&mut tx, id)
            .await?
            .into_iter()
            .find(|v| v.id == variant_id)
            .ok_or(CatalogError::VariantNotFound)?;
        if let Some(price) = update.price {
            variant.price = price;
        }
        if let Some(compare_at) = update.compare_at_price {
            variant.compare_at_price = compare_at;
        }
        if let Some(position) = update.position {
            variant.position = position;
        }
        let options: Option<BTreeMap<String, String>> = update.options;
        domain::validate_variant_change(options.as_ref(), variant.price, variant.compare_at_price)
            .map_err(invalid)?;
        if let Some(options) = &options {
            variant.options = to_json(options);
        }
        store::update_variant(&mut tx, &variant, now).await?;
        self.updated(&mut tx, &row).await?;
        self.commit(tx).await?;
        Self::variant(variant)
    }

    pub async fn delete_variant(&self, actor: &Actor, id: Uuid, variant_id: Uuid) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let row = self.editable(&mut tx, actor, id).await?;
        if !store::delete_variant(&mut tx, id, variant_id, now).await? {
            return Err(CatalogError::VariantNotFound);
        }
        self.updated(&mut tx, &row).await?;
        self.commit(tx).await
    }

    /// A merchant's status or name changed (from merchants' events, in the event's
    /// transaction). The cache is invalidated now and once more after the event commits.
    pub async fn merchant_changed(
        &self,
        tx: &mut Tx,
        merchant_id: Uuid,
        status: Option<&str>,
        name: &str,
    ) -> Result<()> {
        store::upsert_merchant(tx, merchant_id, status, name, Timestamp::now()).await?;
        // Announced from here, not by merchants: whoever re-reads listings (search) must see
        // them after this transaction re-derived which are listed.
        bus::publish(tx, SOURCE, &MerchantListingsChanged { merchant_id }).await?;
        self.invalidate();
        Ok(())
    }

    /// A product's rating changed (reviews' aggregate over its approved reviews).
    pub async fn rating_changed(
        &self,
        tx: &mut Tx,
        product_id: Uuid,
        average: Option<f64>,
        count: i64,
        version: i64,
    ) -> Result<()> {
        let count = i32::try_from(count).unwrap_or(i32::MAX);
        store::set_rating(tx, product_id, average, count, version).await?;
        self.invalidate();
        Ok(())
    }
}
