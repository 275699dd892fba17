//! Couriers: the public list, admins' reading and replacing of a courier's rate table, and
//! the couriers each merchant ships with.

use std::collections::HashMap;

use merchants_contract::{MerchantStatus, ShippingOrigin};

use super::*;
use crate::domain::{self, tables};
use crate::store::{BracketRow, ServiceRow, ZoneRow};

/// Most couriers a merchant may list (there are a handful per country).
const MAX_CHOSEN: usize = 20;

fn courier_view(c: &CourierBook) -> Courier {
    Courier {
        code: c.code.clone(),
        name: c.name.clone(),
        country: c.country.clone(),
        currency: c.currency,
        volumetric_divisor: c.table.volumetric_divisor,
        services: c
            .table
            .services
            .iter()
            .filter(|s| s.active)
            .map(|s| CourierService {
                service: s.service,
                name: s.name.clone(),
                cod: s.cod,
                zones: s.zones.iter().map(|z| z.zone).collect(),
                eta_min_days: s.zones.iter().map(|z| z.eta_min_days).min().unwrap_or(0),
                eta_max_days: s.zones.iter().map(|z| z.eta_max_days).max().unwrap_or(0),
                max_weight_grams: s.max_weight_grams,
            })
            .collect(),
    }
}

fn rates_view(c: &CourierBook) -> CourierRates {
    CourierRates {
        code: c.code.clone(),
        name: c.name.clone(),
        country: c.country.clone(),
        currency: c.currency,
        version: c.version,
        updated_at: Timestamp::from_millis(c.updated_at),
        table: c.table.clone(),
    }
}

impl Shipping {
    /// The couriers customers may be offered, optionally of one country.
    pub async fn couriers(&self, query: &CourierQuery) -> Result<Vec<Courier>> {
        let country = query
            .country
            .as_deref()
            .map(|c| c.trim().to_ascii_uppercase());
        let book = self.book().await?;
        Ok(book
            .iter()
            .filter(|c| c.offered(self.simulator_on()))
            .filter(|c| {
                country
                    .as_deref()
                    .is_none_or(|country| c.serves_country(country))
            })
            .map(courier_view)
            .collect())
    }

    fn courier<'a>(book: &'a [CourierBook], code: &str) -> Result<&'a CourierBook> {
        book.iter()
            .find(|c| c.code.eq_ignore_ascii_case(code))
            .ok_or(ShippingError::CourierNotFound)
    }

    fn require_admin(actor: &Actor) -> Result<()> {
        if is_admin(actor) {
            Ok(())
        } else {
            Err(ShippingError::Forbidden(
                "Only admins (admin:orders) manage couriers' rates",
            ))
        }
    }

    /// A courier's full rate table (admins).
    pub async fn courier_rates(&self, actor: &Actor, code: &str) -> Result<CourierRates> {
        Self::require_admin(actor)?;
        let book = self.book().await?;
        Ok(rates_view(Self::courier(&book, code)?))
    }

    /// Replaces a courier's rate table as a whole, in one transaction; a table that breaks a
    /// rule changes nothing.
    pub async fn replace_rates(
        &self,
        actor: &Actor,
        code: &str,
        table: RateTable,
    ) -> Result<CourierRates> {
        Self::require_admin(actor)?;
        let code = Self::courier(&self.book().await?, code)?.code.clone();
        let errors = tables::validate(&table);
        if !errors.is_empty() {
            return Err(ShippingError::InvalidTable(errors));
        }
        let mut tx = self.ctx.db.begin().await?;
        if !store::update_courier(
            &mut tx,
            &code,
            table.active,
            table.volumetric_divisor,
            now(),
        )
        .await?
        {
            return Err(ShippingError::CourierNotFound);
        }
        store::clear_rates(&mut tx, &code).await?;
        for service in &table.services {
            let name = service.service.as_str();
            store::insert_service(
                &mut tx,
                &ServiceRow {
                    courier_code: code.clone(),
                    service: name.to_owned(),
                    name: service.name.trim().to_owned(),
                    active: service.active,
                    cod: service.cod,
                    max_weight_grams: service.max_weight_grams,
                },
            )
            .await?;
            for zone in &service.zones {
                store::insert_zone(
                    &mut tx,
                    &ZoneRow {
                        courier_code: code.clone(),
                        service: name.to_owned(),
                        zone: zone.zone.as_str().to_owned(),
                        eta_min_days: zone.eta_min_days,
                        eta_max_days: zone.eta_max_days,
                        extra_per_kg: zone.extra_per_kg,
                    },
                )
                .await?;
                for bracket in &zone.brackets {
                    store::insert_bracket(
                        &mut tx,
                        &BracketRow {
                            courier_code: code.clone(),
                            service: name.to_owned(),
                            zone: zone.zone.as_str().to_owned(),
                            from_grams: bracket.from_grams,
                            to_grams: bracket.to_grams,
                            amount: bracket.amount,
                        },
                    )
                    .await?;
                }
            }
        }
        tx.commit().await?;
        self.rates_changed();
        tracing::info!(courier = %code, admin = %actor.user_id, "rate table replaced");
        let book = self.book().await?;
        Ok(rates_view(Self::courier(&book, &code)?))
    }

    /// Where the merchant's parcels leave from (merchants' record).
    pub(super) async fn origin(&self, merchant_id: Uuid) -> Result<ShippingOrigin> {
        self.merchants
            .shipping_origins(vec![merchant_id])
            .await?
            .into_iter()
            .next()
            .ok_or(ShippingError::MerchantNotFound)
    }

    /// The chosen couriers of those of `ids` that chose.
    pub(super) async fn choices(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<String>>> {
        store::merchant_choices(&self.ctx.db, ids)
            .await?
            .into_iter()
            .map(|(id, text)| {
                serde_json::from_str(&text)
                    .map(|codes| (id, codes))
                    .map_err(|e| ShippingError::Corrupt(e.to_string()))
            })
            .collect()
    }

    fn merchant_view(
        &self,
        book: &[CourierBook],
        merchant_id: Uuid,
        country: &str,
        chosen: Option<&[String]>,
    ) -> MerchantCouriers {
        let codes = |list: Vec<&CourierBook>| list.iter().map(|c| c.code.clone()).collect();
        MerchantCouriers {
            merchant_id,
            couriers: codes(domain::merchant_couriers(
                book,
                country,
                chosen,
                self.simulator_on(),
            )),
            chosen: chosen.is_some(),
            available: codes(domain::merchant_couriers(
                book,
                country,
                None,
                self.simulator_on(),
            )),
        }
    }

    /// The couriers a merchant ships with (public: product pages may show them).
    pub async fn merchant_couriers(&self, merchant_id: Uuid) -> Result<MerchantCouriers> {
        let origin = self.origin(merchant_id).await?;
        let choices = self.choices(&[merchant_id]).await?;
        let book = self.book().await?;
        Ok(self.merchant_view(
            &book,
            merchant_id,
            &origin.address.country,
            choices.get(&merchant_id).map(Vec::as_slice),
        ))
    }

    /// The merchant's owner or managers (or an admin) choose its couriers among the active
    /// couriers of its country.
    pub async fn set_merchant_couriers(
        &self,
        actor: &Actor,
        merchant_id: Uuid,
        input: MerchantCouriersInput,
    ) -> Result<MerchantCouriers> {
        if !actor.is_staff_with(merchant_id, MerchantPermission::ManageProfile)
            && !actor.can(Permission::AdminMerchants)
        {
            return Err(ShippingError::Forbidden(
                "Only the merchant's owner or managers choose its couriers",
            ));
        }
        let origin = self.origin(merchant_id).await?;
        if matches!(origin.status, MerchantStatus::Closed) {
            return Err(ShippingError::MerchantNotFound);
        }
        let country = origin.address.country.trim().to_ascii_uppercase();
        let book = self.book().await?;
        if input.couriers.len() > MAX_CHOSEN {
            return Err(invalid("couriers", "at most 20 couriers"));
        }
        let mut codes: Vec<String> = Vec::new();
        let mut errors = Vec::new();
        for (i, code) in input.couriers.iter().enumerate() {
            match book
                .iter()
                .find(|c| c.code.eq_ignore_ascii_case(code.trim()))
            {
                Some(c) if c.offered(self.simulator_on()) && c.serves_country(&country) => {
                    if !codes.contains(&c.code) {
                        codes.push(c.code.clone());
                    }
                }
                Some(_) => errors.push(field(
                    format!("couriers[{i}]"),
                    "is not an active courier of the merchant's country",
                )),
                None => errors.push(field(format!("couriers[{i}]"), "is not a courier")),
            }
        }
        if !errors.is_empty() {
            return Err(ShippingError::Invalid(errors));
        }
        let json =
            serde_json::to_string(&codes).map_err(|e| ShippingError::Corrupt(e.to_string()))?;
        let mut tx = self.ctx.db.begin().await?;
        store::save_choice(&mut tx, merchant_id, &json, actor.user_id, now()).await?;
        tx.commit().await?;
        Ok(self.merchant_view(&book, merchant_id, &country, Some(&codes)))
    }
}
