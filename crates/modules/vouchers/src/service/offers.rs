//! Offers: publishing voucher terms for a catalog variant, editing them, browsing.

use kernel::{Actor, FieldError, MerchantPermission, Page, Permission, Timestamp};
use uuid::Uuid;

use super::*;
use crate::domain::{self, MAX_VALIDITY_DAYS};
use crate::store::{self, OfferFilter};

const MAX_FACE_VALUE: i64 = 100_000_000_000;
const MAX_CAP: i32 = 10_000_000;
const MAX_OUTLETS: usize = 200;

impl Vouchers {
    pub async fn create_offer(&self, actor: &Actor, input: OfferInput) -> Result<Offer> {
        let quotes = self.catalog.variants(vec![input.variant_id]).await?;
        let Some(quote) = quotes.into_iter().next() else {
            return Err(invalid("variantId", "is not a variant in the catalog"));
        };
        actor
            .require_staff(quote.merchant_id, MerchantPermission::EditListings)
            .map_err(|_| {
                VouchersError::Forbidden("only the merchant's staff publish its offers")
            })?;
        let mut errors = Vec::new();
        let mut fail = |field: &str, message: &str| {
            errors.push(FieldError {
                field: field.into(),
                message: message.into(),
            })
        };
        if quote.product_type != catalog_contract::ProductType::Voucher {
            fail("variantId", "must belong to a product of type VOUCHER");
        }
        if !(1..=MAX_FACE_VALUE).contains(&input.face_value) {
            fail("faceValue", "must be positive");
        }
        match (input.kind, input.discount_bps) {
            (VoucherKind::Discount, Some(bps)) if !(1..=10_000).contains(&bps) => {
                fail("discountBps", "must be 1 to 10000")
            }
            (VoucherKind::GiftCard | VoucherKind::Item, Some(_)) => {
                fail("discountBps", "only DISCOUNT vouchers take a percentage")
            }
            _ => {}
        }
        if input.claimable && quote.price != 0 {
            fail("claimable", "free-to-claim offers need a variant priced 0");
        }
        if !input.claimable && quote.price == 0 {
            fail(
                "claimable",
                "a variant priced 0 can only be claimed: set claimable",
            );
        }
        let now = Timestamp::now();
        check_terms(
            &mut errors,
            now,
            input.valid_from,
            input.valid_until,
            input.valid_days,
            input.total_cap,
            input.per_customer_cap,
            input.description.as_ref(),
            input.terms.as_ref(),
            &input.outlets,
        );
        let location = self
            .offer_location(
                &mut errors,
                quote.merchant_id,
                &input.outlets,
                input.location,
            )
            .await?;
        if !errors.is_empty() {
            return Err(VouchersError::Invalid(errors));
        }
        let row = OfferRow {
            id: kernel::new_id(),
            merchant_id: quote.merchant_id,
            product_id: quote.product_id,
            variant_id: quote.variant_id,
            category_id: quote.category_path.first().copied().unwrap_or_default(),
            kind: input.kind.as_str().into(),
            title: to_json(&quote.product_name)?,
            description: input.description.as_ref().map(to_json).transpose()?,
            terms: input.terms.as_ref().map(to_json).transpose()?,
            price: quote.price,
            face_value: input.face_value,
            currency: quote.currency.code().into(),
            discount_bps: input.discount_bps,
            valid_from: input.valid_from.map(Timestamp::millis),
            valid_until: input.valid_until.map(Timestamp::millis),
            valid_days: input.valid_days,
            total_cap: input.total_cap,
            per_customer_cap: input.per_customer_cap,
            issued: 0,
            claimable: input.claimable,
            outlets: to_json(&input.outlets)?,
            latitude: location.map(|l| l.latitude),
            longitude: location.map(|l| l.longitude),
            // Until catalog says otherwise: a sellable product is approved and listed.
            product_status: if quote.sellable {
                "ACTIVE"
            } else {
                "NOT_LISTED"
            }
            .into(),
            merchant_active: true,
            created_at: now.millis(),
            updated_at: now.millis(),
            rating_average: None,
            rating_count: 0,
        };
        let mut tx = self.ctx.db.begin().await?;
        if !store::insert_offer(&mut tx, &row).await? {
            return Err(VouchersError::OfferExists);
        }
        Self::announce_offer(&mut tx, &row).await?;
        self.ctx.commit(tx).await?;
        offer_view(&row, now, None)
    }

    /// `voucher.offer_saved`, in the transaction that saved it (search re-reads the offer).
    async fn announce_offer(tx: &mut Tx, row: &OfferRow) -> Result<()> {
        platform::bus::publish(
            tx,
            SOURCE,
            &OfferSaved {
                offer_id: row.id,
                product_id: row.product_id,
                merchant_id: row.merchant_id,
            },
        )
        .await?;
        Ok(())
    }

    /// Offers as search indexes them: of the given products, or a page in id order.
    pub async fn offer_listings(&self, query: &OfferListingQuery) -> Result<Vec<Offer>> {
        let now = Timestamp::now();
        let rows = if query.product_ids.is_empty() {
            let limit = query.limit.unwrap_or(500).clamp(1, 1_000);
            store::offers_page(&self.ctx.db, query.after, i64::from(limit)).await?
        } else {
            if query.product_ids.len() > 200 {
                return Err(VouchersError::Invalid(vec![kernel::FieldError {
                    field: "productIds".into(),
                    message: "at most 200 per lookup".into(),
                }]));
            }
            let mut rows = Vec::new();
            for id in &query.product_ids {
                rows.extend(store::offers_of_product(&self.ctx.db, *id).await?);
            }
            rows
        };
        rows.iter().map(|r| offer_view(r, now, None)).collect()
    }

    pub async fn update_offer(
        &self,
        actor: &Actor,
        id: Uuid,
        update: OfferUpdate,
    ) -> Result<Offer> {
        let mut row = store::offer(&self.ctx.db, id)
            .await?
            .ok_or(VouchersError::OfferNotFound)?;
        actor
            .require_staff(row.merchant_id, MerchantPermission::EditListings)
            .map_err(|_| VouchersError::Forbidden("only the merchant's staff edit its offers"))?;
        let now = Timestamp::now();
        let outlets: Vec<Uuid> = match &update.outlets {
            Some(list) => list.clone(),
            None => serde_json::from_str(&row.outlets)
                .map_err(|e| VouchersError::Corrupt(e.to_string()))?,
        };
        let mut errors = Vec::new();
        let valid_until = update
            .valid_until
            .map(Timestamp::millis)
            .or(row.valid_until);
        let valid_days = update.valid_days.or(row.valid_days);
        check_terms(
            &mut errors,
            now,
            None,
            valid_until.map(Timestamp::from_millis),
            valid_days,
            update.total_cap.or(row.total_cap),
            update.per_customer_cap.or(row.per_customer_cap),
            update.description.as_ref(),
            update.terms.as_ref(),
            &outlets,
        );
        if update.total_cap.is_some_and(|cap| cap < row.issued) {
            errors.push(FieldError {
                field: "totalCap".into(),
                message: format!("{} are already issued", row.issued),
            });
        }
        let location = match (update.location, &update.outlets) {
            (None, None) => row
                .latitude
                .zip(row.longitude)
                .map(|(latitude, longitude)| Location {
                    latitude,
                    longitude,
                }),
            (location, _) => {
                self.offer_location(&mut errors, row.merchant_id, &outlets, location)
                    .await?
            }
        };
        if !errors.is_empty() {
            return Err(VouchersError::Invalid(errors));
        }
        row.valid_until = valid_until;
        row.valid_days = valid_days;
        row.total_cap = update.total_cap.or(row.total_cap);
        row.per_customer_cap = update.per_customer_cap.or(row.per_customer_cap);
        if let Some(d) = &update.description {
            row.description = Some(to_json(d)?);
        }
        if let Some(t) = &update.terms {
            row.terms = Some(to_json(t)?);
        }
        row.outlets = to_json(&outlets)?;
        row.latitude = location.map(|l| l.latitude);
        row.longitude = location.map(|l| l.longitude);
        row.updated_at = now.millis();
        let mut tx = self.ctx.db.begin().await?;
        if !store::update_offer(&mut tx, &row).await? {
            return Err(VouchersError::Contended);
        }
        Self::announce_offer(&mut tx, &row).await?;
        self.ctx.commit(tx).await?;
        let fresh = store::offer(&self.ctx.db, id)
            .await?
            .ok_or(VouchersError::OfferNotFound)?;
        offer_view(&fresh, now, None)
    }

    /// An offer: public when visible; its staff and admins see it in any state.
    pub async fn offer(&self, actor: Option<&Actor>, id: Uuid) -> Result<Offer> {
        let row = store::offer(&self.ctx.db, id)
            .await?
            .ok_or(VouchersError::OfferNotFound)?;
        let now = Timestamp::now();
        let view = offer_view(&row, now, None)?;
        if view.visible || actor.is_some_and(|a| may_see_hidden(a, row.merchant_id)) {
            return Ok(view);
        }
        Err(VouchersError::OfferNotFound)
    }

    /// An offer whether the public sees it or not (other modules).
    pub async fn offer_any(&self, id: Uuid) -> Result<Offer> {
        let row = store::offer(&self.ctx.db, id)
            .await?
            .ok_or(VouchersError::OfferNotFound)?;
        offer_view(&row, Timestamp::now(), None)
    }

    pub async fn offers(&self, actor: Option<&Actor>, q: &OfferQuery) -> Result<Page<Offer>> {
        let hidden = q.include_hidden.unwrap_or(false);
        if hidden {
            let allowed = actor.is_some_and(|a| match q.merchant_id {
                Some(m) => may_see_hidden(a, m),
                None => a.can(Permission::AdminCatalog),
            });
            if !allowed {
                return Err(VouchersError::Forbidden(
                    "hidden offers are for the merchant's staff (with merchantId) and admins",
                ));
            }
        }
        let mut errors = Vec::new();
        let near = match q.near.as_deref() {
            None => None,
            Some(text) => {
                let parsed = text.split_once(',').and_then(|(a, b)| {
                    Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?))
                });
                match parsed {
                    Some((lat, lon))
                        if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) =>
                    {
                        Some((lat, lon))
                    }
                    _ => {
                        errors.push(FieldError {
                            field: "near".into(),
                            message: "must be `latitude,longitude`".into(),
                        });
                        None
                    }
                }
            }
        };
        if q.radius_km.is_some_and(|r| !(r > 0.0 && r <= 500.0)) {
            errors.push(FieldError {
                field: "radiusKm".into(),
                message: "must be above 0 and at most 500".into(),
            });
        }
        if q.radius_km.is_some() && near.is_none() {
            errors.push(FieldError {
                field: "near".into(),
                message: "is required with radiusKm".into(),
            });
        }
        let sort = q.sort.unwrap_or(OfferSort::Newest);
        if sort == OfferSort::Distance && near.is_none() {
            errors.push(FieldError {
                field: "sort".into(),
                message: "distance needs `near`".into(),
            });
        }
        if q.expiring_within_days
            .is_some_and(|d| !(1..=MAX_VALIDITY_DAYS).contains(&d))
        {
            errors.push(FieldError {
                field: "expiringWithinDays".into(),
                message: "must be 1 to 730".into(),
            });
        }
        let offset = match q.cursor.as_deref() {
            None => 0,
            Some(raw) => kernel::Cursor::decode(raw)
                .ok()
                .and_then(|c| c.0.parse::<i64>().ok())
                .filter(|o| *o >= 0)
                .ok_or_else(|| invalid("cursor", "is not a valid cursor"))?,
        };
        if !errors.is_empty() {
            return Err(VouchersError::Invalid(errors));
        }
        let limit = kernel::PageQuery {
            limit: q.limit,
            cursor: None,
        }
        .limit();
        let now = Timestamp::now();
        let radius = near.map(|_| q.radius_km.unwrap_or(500.0));
        let bbox = near.zip(radius).map(|((lat, lon), r)| {
            let dlat = r / 111.0;
            let dlon = r / (111.0 * lat.to_radians().cos().max(0.01));
            (lat - dlat, lat + dlat, lon - dlon, lon + dlon)
        });
        let by_distance = sort == OfferSort::Distance || q.radius_km.is_some();
        // Distance is exact only after the bounding box: read every candidate then page here.
        let (sql_limit, sql_offset) = if by_distance {
            (5_000, 0)
        } else {
            (i64::from(limit) + 1, offset)
        };
        let filter = OfferFilter {
            visible_only: !hidden,
            now: now.millis(),
            category_id: q.category_id,
            merchant_id: q.merchant_id,
            kind: q.kind.map(|k| k.as_str().to_owned()),
            claimable: q.claimable,
            currency: q.currency.map(|c| c.code().to_owned()),
            min_price: q.min_price,
            max_price: q.max_price,
            valid_until_before: q
                .expiring_within_days
                .map(|d| now.plus_seconds(d * 86_400).millis()),
            bbox,
            sort,
            limit: sql_limit,
            offset: sql_offset,
        };
        let rows = store::offers(&self.ctx.db, &filter).await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let distance = near.and_then(|point| {
                row.latitude
                    .zip(row.longitude)
                    .map(|there| domain::distance_km(point, there))
            });
            if let (Some(r), Some(d)) = (radius, distance) {
                if q.radius_km.is_some() && d > r {
                    continue;
                }
            }
            if q.radius_km.is_some() && distance.is_none() {
                continue;
            }
            items.push(offer_view(row, now, distance)?);
        }
        if by_distance {
            if sort == OfferSort::Distance {
                items.sort_by(|a, b| {
                    a.distance_km
                        .unwrap_or(f64::MAX)
                        .total_cmp(&b.distance_km.unwrap_or(f64::MAX))
                });
            }
            let start = usize::try_from(offset)
                .unwrap_or(usize::MAX)
                .min(items.len());
            items = items.split_off(start);
        }
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_cursor =
            more.then(|| kernel::Cursor::encode(&(offset + i64::from(limit)).to_string()));
        Ok(Page { items, next_cursor })
    }

    /// The voucher lines a customer may not buy now. Caps count vouchers issued (paid), so
    /// unpaid orders placed at the same moment can still pass together; stock (the offer's
    /// total) is enforced by inventory's reservation.
    pub async fn purchase_check(&self, check: &PurchaseCheck) -> Result<Vec<PurchaseRefusal>> {
        let now = Timestamp::now();
        let mut refusals = Vec::new();
        for line in &check.lines {
            let refuse = |reason: &str, remaining: Option<i64>| PurchaseRefusal {
                variant_id: line.variant_id,
                reason: reason.into(),
                remaining,
            };
            let Some(offer) = store::offer_of_variant(&self.ctx.db, line.variant_id).await? else {
                refusals.push(refuse("no_offer", None));
                continue;
            };
            let visible = offer_view(&offer, now, None)?.visible;
            if !visible || offer.claimable {
                refusals.push(refuse("not_on_sale", None));
                continue;
            }
            if let Some(cap) = offer.per_customer_cap {
                let held = store::holding(&self.ctx.db, offer.id, check.customer_id).await?;
                if held + line.quantity > i64::from(cap) {
                    refusals.push(refuse(
                        "per_customer_cap_reached",
                        Some((i64::from(cap) - held).max(0)),
                    ));
                }
            }
        }
        Ok(refusals)
    }

    /// Where an offer shows on a map: given, or its first outlet. Outlets must be the
    /// merchant's.
    async fn offer_location(
        &self,
        errors: &mut Vec<FieldError>,
        merchant_id: Uuid,
        outlets: &[Uuid],
        given: Option<Location>,
    ) -> Result<Option<Location>> {
        let mut first = None;
        for (i, outlet) in outlets.iter().enumerate() {
            match store::outlet(&self.ctx.db, *outlet).await? {
                Some((owner, latitude, longitude)) if owner == merchant_id => {
                    first.get_or_insert(Location {
                        latitude,
                        longitude,
                    });
                }
                _ => errors.push(FieldError {
                    field: format!("outlets[{i}]"),
                    message: "is not an outlet of this merchant".into(),
                }),
            }
        }
        if let Some(l) = given {
            if !(-90.0..=90.0).contains(&l.latitude) || !(-180.0..=180.0).contains(&l.longitude) {
                errors.push(FieldError {
                    field: "location".into(),
                    message: "latitude -90..90, longitude -180..180".into(),
                });
            }
            return Ok(Some(l));
        }
        Ok(first)
    }
}

fn may_see_hidden(actor: &Actor, merchant_id: Uuid) -> bool {
    actor.can(Permission::AdminCatalog)
        || actor.is_staff_with(merchant_id, MerchantPermission::ViewInternal)
}

#[allow(clippy::too_many_arguments)]
fn check_terms(
    errors: &mut Vec<FieldError>,
    now: Timestamp,
    valid_from: Option<Timestamp>,
    valid_until: Option<Timestamp>,
    valid_days: Option<i32>,
    total_cap: Option<i32>,
    per_customer_cap: Option<i32>,
    description: Option<&kernel::LocalizedText>,
    terms: Option<&kernel::LocalizedText>,
    outlets: &[Uuid],
) {
    let mut fail = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        })
    };
    let horizon = now.plus_seconds(MAX_VALIDITY_DAYS * 86_400);
    match (valid_until, valid_days) {
        (None, None) => fail("validUntil", "give validUntil, validDays or both"),
        (Some(until), _) if until <= now || until > horizon => {
            fail("validUntil", "must be in the future, within 730 days")
        }
        _ => {}
    }
    if valid_days.is_some_and(|d| !(1..=MAX_VALIDITY_DAYS).contains(&i64::from(d))) {
        fail("validDays", "must be 1 to 730");
    }
    if let (Some(from), Some(until)) = (valid_from, valid_until) {
        if from >= until {
            fail("validFrom", "must be before validUntil");
        }
    }
    for (field, cap) in [
        ("totalCap", total_cap),
        ("perCustomerCap", per_customer_cap),
    ] {
        if cap.is_some_and(|c| !(1..=MAX_CAP).contains(&c)) {
            fail(field, "must be 1 to 10000000");
        }
    }
    if let (Some(total), Some(each)) = (total_cap, per_customer_cap) {
        if each > total {
            fail("perCustomerCap", "cannot exceed totalCap");
        }
    }
    if outlets.len() > MAX_OUTLETS {
        fail("outlets", "at most 200");
    }
    for (field, text) in [("description", description), ("terms", terms)] {
        if let Some(text) = text {
            text.check(field, true, 5_000, errors);
        }
    }
}

pub(super) fn offer_view(
    row: &OfferRow,
    now: Timestamp,
    distance_km: Option<f64>,
) -> Result<Offer> {
    let visible = row.product_status == "ACTIVE"
        && row.merchant_active
        && row.valid_until.is_none_or(|u| u > now.millis())
        && row.valid_from.is_none_or(|f| f <= now.millis())
        && row.total_cap.is_none_or(|c| row.issued < c);
    Ok(Offer {
        id: row.id,
        merchant_id: row.merchant_id,
        product_id: row.product_id,
        variant_id: row.variant_id,
        category_id: row.category_id,
        kind: kind(&row.kind)?,
        title: text_of(&row.title)?,
        description: opt_text(&row.description)?,
        terms: opt_text(&row.terms)?,
        price: row.price,
        face_value: row.face_value,
        currency: currency(&row.currency)?,
        discount_bps: row.discount_bps,
        valid_from: row.valid_from.map(Timestamp::from_millis),
        valid_until: row.valid_until.map(Timestamp::from_millis),
        valid_days: row.valid_days,
        total_cap: row.total_cap,
        per_customer_cap: row.per_customer_cap,
        issued: row.issued,
        remaining: row.total_cap.map(|c| (c - row.issued).max(0)),
        claimable: row.claimable,
        outlets: serde_json::from_str(&row.outlets)
            .map_err(|e| VouchersError::Corrupt(e.to_string()))?,
        location: row
            .latitude
            .zip(row.longitude)
            .map(|(latitude, longitude)| Location {
                latitude,
                longitude,
            }),
        product_status: row.product_status.clone(),
        rating: OfferRating {
            average: row.rating_average,
            count: row.rating_count,
        },
        visible,
        distance_km: distance_km.map(|d| (d * 100.0).round() / 100.0),
        created_at: Timestamp::from_millis(row.created_at),
        updated_at: Timestamp::from_millis(row.updated_at),
    })
}
