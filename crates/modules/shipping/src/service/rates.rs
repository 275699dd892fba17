//! Rate quotes, public (a destination or a saved address) and internal (orders and cart):
//! weights from the catalog, origins from merchants, prices from the couriers' rate tables.
//! Nothing of a price comes from the caller.

use std::collections::{HashMap, HashSet};

use catalog_contract::{ProductType, VariantQuote};
use merchants_contract::{MerchantStatus, ShippingOrigin};

use super::*;
use crate::domain::{self, ParcelWeight, Place};

const MAX_PARCELS: usize = shipping_contract::MAX_PARCELS_PER_QUOTE;
const MAX_ITEMS_PER_PARCEL: usize = 100;
/// Catalog answers at most this many variants per lookup.
const MAX_ITEMS: usize = 200;
const MAX_QUANTITY: i64 = 999;
const PLACE_MAX: usize = 100;

/// A destination after checks: an ISO country code and a city.
fn destination(at: &str, country: &str, province: Option<&str>, city: &str) -> Result<Place> {
    let mut errors = Vec::new();
    let code = country.trim();
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
        errors.push(field(
            format!("{at}.country"),
            "must be an ISO 3166-1 alpha-2 code",
        ));
    }
    let text_ok =
        |text: &str| text.chars().count() <= PLACE_MAX && !text.chars().any(char::is_control);
    if city.trim().is_empty() || !text_ok(city) {
        errors.push(field(
            format!("{at}.city"),
            "must be 1 to 100 printable characters",
        ));
    }
    if province.is_some_and(|p| !text_ok(p)) {
        errors.push(field(
            format!("{at}.province"),
            "must be at most 100 printable characters",
        ));
    }
    if !errors.is_empty() {
        return Err(ShippingError::Invalid(errors));
    }
    Ok(Place::new(code, province, city))
}

/// Counts and quantities within bounds, each merchant once.
fn check_parcels(parcels: &[MerchantParcel]) -> Result<()> {
    let mut errors = Vec::new();
    if parcels.is_empty() || parcels.len() > MAX_PARCELS {
        errors.push(field("parcels", "must hold 1 to 20 parcels"));
    }
    let mut merchants = HashSet::new();
    let mut total = 0;
    for (i, parcel) in parcels.iter().enumerate() {
        if !merchants.insert(parcel.merchant_id) {
            errors.push(field(
                format!("parcels[{i}].merchantId"),
                "has another parcel already",
            ));
        }
        if parcel.items.is_empty() || parcel.items.len() > MAX_ITEMS_PER_PARCEL {
            errors.push(field(
                format!("parcels[{i}].items"),
                "must hold 1 to 100 items",
            ));
        }
        total += parcel.items.len();
        for (j, item) in parcel.items.iter().enumerate() {
            if !(1..=MAX_QUANTITY).contains(&item.quantity) {
                errors.push(field(
                    format!("parcels[{i}].items[{j}].quantity"),
                    "must be 1 to 999",
                ));
            }
        }
    }
    if total > MAX_ITEMS {
        errors.push(field("parcels", "at most 200 items in all"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ShippingError::Invalid(errors))
    }
}

impl Shipping {
    /// Anyone quotes to a destination; a signed-in customer also to a saved address.
    pub async fn public_rates(
        &self,
        actor: Option<&Actor>,
        request: RateRequest,
    ) -> Result<RateQuote> {
        let place = match (&request.destination, request.address_id) {
            (Some(d), None) => {
                destination("destination", &d.country, d.province.as_deref(), &d.city)?
            }
            (None, Some(id)) => {
                let actor = actor
                    .filter(|a| a.kind != ActorKind::Service && a.can(Permission::ManageOwnAccount))
                    .ok_or_else(|| {
                        ApiError::unauthorized(
                            "authentication_required",
                            "Sign in to quote to a saved address",
                        )
                    })?;
                let address = self
                    .identity
                    .addresses(actor.user_id)
                    .await?
                    .into_iter()
                    .find(|a| a.id == id)
                    .ok_or(ShippingError::AddressNotFound)?;
                Place::new(&address.country, address.province.as_deref(), &address.city)
            }
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "addressId",
                    "give destination or addressId, not both",
                ))
            }
            (None, None) => return Err(invalid("destination", "give destination or addressId")),
        };
        self.quote(request.currency, &place, &request.parcels).await
    }

    /// Orders (checkout re-quotes) and cart (the summary) quote to a full address.
    pub async fn internal_rates(&self, query: RateQuery) -> Result<RateQuote> {
        let d = &query.destination;
        let place = destination("destination", &d.country, d.province.as_deref(), &d.city)?;
        self.quote(Some(query.currency), &place, &query.parcels)
            .await
    }

    async fn quote(
        &self,
        currency: Option<Currency>,
        destination: &Place,
        parcels: &[MerchantParcel],
    ) -> Result<RateQuote> {
        check_parcels(parcels)?;
        let mut ids: Vec<Uuid> = parcels
            .iter()
            .flat_map(|p| p.items.iter().map(|i| i.variant_id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let quotes: HashMap<Uuid, VariantQuote> = self
            .catalog
            .variants(ids)
            .await?
            .into_iter()
            .map(|q| (q.variant_id, q))
            .collect();
        let mut errors = Vec::new();
        for (i, parcel) in parcels.iter().enumerate() {
            for (j, item) in parcel.items.iter().enumerate() {
                let at = format!("parcels[{i}].items[{j}].variantId");
                match quotes.get(&item.variant_id) {
                    None => errors.push(field(at, "is not a product variant")),
                    Some(q) if q.merchant_id != parcel.merchant_id => {
                        errors.push(field(at, "is not this merchant's"))
                    }
                    Some(_) => {}
                }
            }
        }
        if !errors.is_empty() {
            return Err(ShippingError::Invalid(errors));
        }
        let currency = match currency {
            Some(currency) => currency,
            None => {
                let priced: HashSet<Currency> = quotes.values().map(|q| q.currency).collect();
                match priced.into_iter().collect::<Vec<_>>().as_slice() {
                    [one] => *one,
                    _ => {
                        return Err(invalid(
                            "currency",
                            "is required when the items are priced in several currencies",
                        ))
                    }
                }
            }
        };
        let merchant_ids: Vec<Uuid> = parcels.iter().map(|p| p.merchant_id).collect();
        let origins: HashMap<Uuid, ShippingOrigin> = self
            .merchants
            .shipping_origins(merchant_ids.clone())
            .await?
            .into_iter()
            .map(|o| (o.merchant_id, o))
            .collect();
        let choices = self.choices(&merchant_ids).await?;
        let book = self.book().await?;
        let merchants = parcels
            .iter()
            .map(|parcel| {
                let rated = self.parcel_options(
                    parcel,
                    &quotes,
                    origins.get(&parcel.merchant_id),
                    choices.get(&parcel.merchant_id).map(Vec::as_slice),
                    &book,
                    currency,
                    destination,
                );
                let (options, unavailable_reason) = match rated {
                    Ok(options) => (options, None),
                    Err(reason) => (Vec::new(), Some(reason.to_owned())),
                };
                MerchantRates {
                    merchant_id: parcel.merchant_id,
                    options,
                    unavailable_reason,
                }
            })
            .collect();
        Ok(RateQuote {
            currency,
            merchants,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn parcel_options(
        &self,
        parcel: &MerchantParcel,
        quotes: &HashMap<Uuid, VariantQuote>,
        origin: Option<&ShippingOrigin>,
        chosen: Option<&[String]>,
        book: &[CourierBook],
        currency: Currency,
        destination: &Place,
    ) -> std::result::Result<Vec<ShippingOption>, &'static str> {
        let weight = parcel_weight(
            parcel.items.iter().map(|i| (i.variant_id, i.quantity)),
            quotes,
        )
        .ok_or(unavailable::NOTHING_TO_SHIP)?;
        let origin = origin
            .filter(|o| o.status == MerchantStatus::Active)
            .ok_or(unavailable::MERCHANT_UNAVAILABLE)?;
        let from = Place::new(
            &origin.address.country,
            origin.address.province.as_deref(),
            &origin.address.city,
        );
        let couriers = domain::merchant_couriers(book, &from.country, chosen, self.simulator_on());
        domain::options(
            &couriers,
            currency,
            domain::zone_between(&from, destination),
            &weight,
            self.config.default_parcel_weight_grams,
        )
    }
}

/// The weight of the physical items among `items` (variant, quantity); None when none is
/// physical (vouchers do not travel). Items the catalog does not know weigh nothing.
pub(super) fn parcel_weight(
    items: impl Iterator<Item = (Uuid, i64)>,
    quotes: &HashMap<Uuid, VariantQuote>,
) -> Option<ParcelWeight> {
    let mut weight = ParcelWeight::default();
    let mut physical = false;
    for (variant, quantity) in items {
        let Some(q) = quotes.get(&variant) else {
            continue;
        };
        if q.product_type == ProductType::Voucher {
            continue;
        }
        physical = true;
        weight.add(
            q.weight_grams.map(i64::from),
            q.dimensions.map(|d| {
                [
                    i64::from(d.length_mm),
                    i64::from(d.width_mm),
                    i64::from(d.height_mm),
                ]
            }),
            quantity,
        );
    }
    physical.then_some(weight)
}
