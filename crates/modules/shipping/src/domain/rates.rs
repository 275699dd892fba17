//! Quotes: the zone between two places, a parcel's chargeable weight, the price of a weight in
//! a zone, which couriers a merchant ships with, and the options of one merchant's parcel.

use std::cmp::Ordering;

use kernel::Currency;

use crate::api::{unavailable, RateTable, ServiceLevel, ShippingOption, Zone, ZoneRates};

/// The development courier's code.
pub const SIMULATOR: &str = "SIMULATOR";

/// A place as rates see it: country code, and province and city compared without case or
/// extra spaces (so `Kota  Bandung` and `kota bandung` are one city).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub country: String,
    pub province: Option<String>,
    pub city: String,
}

impl Place {
    pub fn new(country: &str, province: Option<&str>, city: &str) -> Self {
        Self {
            country: country.trim().to_ascii_uppercase(),
            province: province.map(normalize).filter(|p| !p.is_empty()),
            city: normalize(city),
        }
    }
}

fn normalize(text: &str) -> String {
    text.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The zone from `origin` to `destination`; None across borders (no courier here crosses
/// one). A province missing on either side is no evidence of another province for the same
/// city, nor of the same province for another city.
pub fn zone_between(origin: &Place, destination: &Place) -> Option<Zone> {
    if origin.country != destination.country {
        return None;
    }
    let same_province = matches!(
        (&origin.province, &destination.province),
        (Some(a), Some(b)) if a == b
    );
    let provinces_agree =
        same_province || origin.province.is_none() || destination.province.is_none();
    Some(if origin.city == destination.city && provinces_agree {
        Zone::SameCity
    } else if same_province {
        Zone::SameProvince
    } else {
        Zone::OtherProvince
    })
}

/// What a parcel weighs and how much room it takes, summed over its items.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParcelWeight {
    /// Of the items with a weight.
    pub actual_grams: i64,
    /// Of the items with dimensions, in mm³.
    pub volume_mm3: i128,
}

impl ParcelWeight {
    pub fn add(
        &mut self,
        weight_grams: Option<i64>,
        dimensions_mm: Option<[i64; 3]>,
        quantity: i64,
    ) {
        if let Some(weight) = weight_grams.filter(|w| *w > 0) {
            self.actual_grams = self
                .actual_grams
                .saturating_add(weight.saturating_mul(quantity));
        }
        if let Some([l, w, h]) = dimensions_mm {
            let volume = i128::from(l) * i128::from(w) * i128::from(h);
            self.volume_mm3 = self
                .volume_mm3
                .saturating_add(volume.saturating_mul(i128::from(quantity)));
        }
    }

    /// The actual weight, or `default` when no item has one.
    pub fn actual_or(&self, default_grams: i64) -> i64 {
        if self.actual_grams > 0 {
            self.actual_grams
        } else {
            default_grams
        }
    }

    /// Volumetric weight in grams: mm³ ÷ the courier's divisor (cm³ per kg), rounded up.
    pub fn volumetric_grams(&self, divisor: i32) -> i64 {
        let divisor = i128::from(divisor.max(1));
        let grams = (self.volume_mm3 + divisor - 1) / divisor;
        i64::try_from(grams).unwrap_or(i64::MAX)
    }

    /// What couriers charge on: the greater of the actual and the volumetric weight.
    pub fn chargeable(&self, default_grams: i64, divisor: i32) -> i64 {
        self.actual_or(default_grams)
            .max(self.volumetric_grams(divisor))
    }
}

/// The price of `weight` grams in a zone: its bracket's amount, or above the last bracket the
/// last amount plus `extraPerKg` per started kilogram. None when the service does not carry it.
pub fn price(zone: &ZoneRates, max_weight_grams: i64, weight: i64) -> Option<i64> {
    if weight <= 0 || weight > max_weight_grams {
        return None;
    }
    if let Some(bracket) = zone
        .brackets
        .iter()
        .find(|b| b.from_grams < weight && weight <= b.to_grams)
    {
        return Some(bracket.amount);
    }
    let last = zone.brackets.iter().max_by_key(|b| b.to_grams)?;
    let extra = zone.extra_per_kg?;
    if weight <= last.to_grams {
        return None;
    }
    let started_kgs = (weight - last.to_grams + 999) / 1_000;
    last.amount.checked_add(started_kgs.checked_mul(extra)?)
}

/// A courier with its rate table, as quotes read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourierBook {
    pub code: String,
    pub name: String,
    /// None: any country (the simulator).
    pub country: Option<String>,
    /// None: the query's currency (the simulator).
    pub currency: Option<Currency>,
    pub tracking_prefix: String,
    pub version: i64,
    pub updated_at: i64,
    pub table: RateTable,
}

impl CourierBook {
    pub fn is_simulator(&self) -> bool {
        self.code == SIMULATOR
    }

    pub fn serves_country(&self, country: &str) -> bool {
        self.country.as_deref().is_none_or(|c| c == country)
    }

    /// Offered at all: active, and the simulator only while it is on.
    pub fn offered(&self, simulator_on: bool) -> bool {
        self.table.active && (simulator_on || !self.is_simulator())
    }
}

/// The couriers a merchant of `country` ships with: the ones it chose, or while it has not
/// chosen every courier of its country; only offered ones either way.
pub fn merchant_couriers<'a>(
    book: &'a [CourierBook],
    country: &str,
    chosen: Option<&[String]>,
    simulator_on: bool,
) -> Vec<&'a CourierBook> {
    book.iter()
        .filter(|c| c.offered(simulator_on) && c.serves_country(country))
        .filter(|c| chosen.is_none_or(|list| list.contains(&c.code)))
        .collect()
}

/// The options of one merchant's parcel over `couriers`, cheapest first (then fastest), or
/// why there are none (one of [`unavailable`]).
pub fn options(
    couriers: &[&CourierBook],
    currency: Currency,
    zone: Option<Zone>,
    weight: &ParcelWeight,
    default_weight_grams: i64,
) -> Result<Vec<ShippingOption>, &'static str> {
    if couriers.is_empty() {
        return Err(unavailable::NO_COURIER_ENABLED);
    }
    let in_currency: Vec<&CourierBook> = couriers
        .iter()
        .copied()
        .filter(|c| c.currency.is_none_or(|c| c == currency))
        .collect();
    if in_currency.is_empty() {
        return Err(unavailable::CURRENCY_NOT_SERVED);
    }
    let zone = zone.ok_or(unavailable::NO_COURIER_FOR_DESTINATION)?;
    let mut served = false;
    let mut found = Vec::new();
    for courier in in_currency {
        let chargeable = weight.chargeable(default_weight_grams, courier.table.volumetric_divisor);
        for service in courier.table.services.iter().filter(|s| s.active) {
            if service.service == ServiceLevel::SameDay && zone != Zone::SameCity {
                continue;
            }
            let Some(rates) = service.zones.iter().find(|z| z.zone == zone) else {
                continue;
            };
            served = true;
            let Some(amount) = price(rates, service.max_weight_grams, chargeable) else {
                continue;
            };
            found.push(ShippingOption {
                courier_code: courier.code.clone(),
                courier_name: courier.name.clone(),
                service_code: service.service.as_str().to_owned(),
                service_name: service.name.clone(),
                amount,
                chargeable_weight_grams: chargeable,
                eta_min_days: rates.eta_min_days,
                eta_max_days: rates.eta_max_days,
                cod: service.cod,
            });
        }
    }
    if found.is_empty() {
        return Err(if served {
            unavailable::TOO_HEAVY
        } else {
            unavailable::NO_COURIER_FOR_DESTINATION
        });
    }
    found.sort_by(cheapest_first);
    Ok(found)
}

fn cheapest_first(a: &ShippingOption, b: &ShippingOption) -> Ordering {
    (a.amount, a.eta_max_days, &a.courier_code, &a.service_code).cmp(&(
        b.amount,
        b.eta_max_days,
        &b.courier_code,
        &b.service_code,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ServiceRates, WeightBracket};

    fn zone(zone: Zone, brackets: &[(i64, i64, i64)], extra: Option<i64>) -> ZoneRates {
        ZoneRates {
            zone,
            eta_min_days: 1,
            eta_max_days: 2,
            brackets: brackets
                .iter()
                .map(|&(from_grams, to_grams, amount)| WeightBracket {
                    from_grams,
                    to_grams,
                    amount,
                })
                .collect(),
            extra_per_kg: extra,
        }
    }

    fn courier(code: &str, currency: Option<Currency>, zones: Vec<ZoneRates>) -> CourierBook {
        CourierBook {
            code: code.into(),
            name: code.into(),
            country: Some("ID".into()),
            currency,
            tracking_prefix: code.into(),
            version: 1,
            updated_at: 0,
            table: RateTable {
                active: true,
                volumetric_divisor: 6_000,
                services: vec![ServiceRates {
                    service: ServiceLevel::Regular,
                    name: format!("{code} REG"),
                    active: true,
                    cod: true,
                    max_weight_grams: 30_000,
                    zones,
                }],
            },
        }
    }

    #[test]
    fn zones_follow_city_and_province() {
        let jakarta = Place::new("id", Some("DKI  Jakarta"), "Jakarta Selatan");
        let same = Place::new("ID", Some("dki jakarta"), " jakarta   selatan ");
        let neighbour = Place::new("ID", Some("DKI Jakarta"), "Jakarta Barat");
        let bandung = Place::new("ID", Some("Jawa Barat"), "Bandung");
        let unknown = Place::new("ID", None, "Jakarta Selatan");
        let abroad = Place::new("KH", None, "Phnom Penh");
        assert_eq!(zone_between(&jakarta, &same), Some(Zone::SameCity));
        assert_eq!(zone_between(&jakarta, &unknown), Some(Zone::SameCity));
        assert_eq!(zone_between(&jakarta, &neighbour), Some(Zone::SameProvince));
        assert_eq!(zone_between(&jakarta, &bandung), Some(Zone::OtherProvince));
        assert_eq!(zone_between(&jakarta, &abroad), None);
    }

    #[test]
    fn volumetric_weight_beats_a_light_bulky_parcel() {
        let mut parcel = ParcelWeight::default();
        // 500 g in a 40 × 30 × 20 cm box: 24,000 cm³ ÷ 6,000 = 4 kg.
        parcel.add(Some(500), Some([400, 300, 200]), 1);
        assert_eq!(parcel.volumetric_grams(6_000), 4_000);
        assert_eq!(parcel.chargeable(1_000, 6_000), 4_000);
        // A larger divisor makes it lighter; a dense parcel is charged on its weight.
        assert_eq!(parcel.chargeable(1_000, 8_000), 3_000);
        let mut dense = ParcelWeight::default();
        dense.add(Some(2_500), Some([100, 100, 100]), 2);
        assert_eq!(dense.chargeable(1_000, 6_000), 5_000);
        // No weight at all: the default.
        assert_eq!(ParcelWeight::default().chargeable(1_000, 6_000), 1_000);
    }

    #[test]
    fn brackets_then_extra_kilograms() {
        let rates = zone(
            Zone::SameCity,
            &[(0, 1_000, 9_000), (1_000, 2_000, 15_000)],
            Some(5_000),
        );
        assert_eq!(price(&rates, 30_000, 1), Some(9_000));
        assert_eq!(price(&rates, 30_000, 1_000), Some(9_000));
        assert_eq!(price(&rates, 30_000, 1_001), Some(15_000));
        // 2,001 g: one started kilogram above the last bracket.
        assert_eq!(price(&rates, 30_000, 2_001), Some(20_000));
        assert_eq!(price(&rates, 30_000, 4_500), Some(30_000));
        assert_eq!(price(&rates, 3_000, 4_500), None, "over the maximum");
        let capped = zone(Zone::SameCity, &[(0, 5_000, 25_000)], None);
        assert_eq!(price(&capped, 20_000, 6_000), None);
    }

    #[test]
    fn options_are_cheapest_first_and_say_why_there_are_none() {
        let jne = courier(
            "JNE",
            Some(Currency::Idr),
            vec![zone(Zone::SameCity, &[(0, 1_000, 9_000)], Some(9_000))],
        );
        let jnt = courier(
            "JNT",
            Some(Currency::Idr),
            vec![zone(Zone::SameCity, &[(0, 1_000, 8_000)], Some(8_000))],
        );
        let usd = courier(
            "VET",
            Some(Currency::Usd),
            vec![zone(Zone::SameCity, &[(0, 1_000, 150)], None)],
        );
        let parcel = ParcelWeight {
            actual_grams: 1_500,
            volume_mm3: 0,
        };
        let all = [&jne, &jnt, &usd];
        let found = options(&all, Currency::Idr, Some(Zone::SameCity), &parcel, 1_000).unwrap();
        let codes: Vec<_> = found
            .iter()
            .map(|o| (o.courier_code.as_str(), o.amount))
            .collect();
        assert_eq!(codes, vec![("JNT", 16_000), ("JNE", 18_000)]);
        assert_eq!(found[0].chargeable_weight_grams, 1_500);
        assert_eq!(
            options(&[&usd], Currency::Idr, Some(Zone::SameCity), &parcel, 1_000),
            Err(unavailable::CURRENCY_NOT_SERVED)
        );
        assert_eq!(
            options(
                &all,
                Currency::Idr,
                Some(Zone::OtherProvince),
                &parcel,
                1_000
            ),
            Err(unavailable::NO_COURIER_FOR_DESTINATION)
        );
        assert_eq!(
            options(&all, Currency::Idr, None, &parcel, 1_000),
            Err(unavailable::NO_COURIER_FOR_DESTINATION)
        );
        assert_eq!(
            options(&[&usd], Currency::Usd, Some(Zone::SameCity), &parcel, 1_000),
            Err(unavailable::TOO_HEAVY)
        );
        assert_eq!(
            options(&[], Currency::Usd, Some(Zone::SameCity), &parcel, 1_000),
            Err(unavailable::NO_COURIER_ENABLED)
        );
    }

    #[test]
    fn merchants_ship_with_their_choice_or_their_country() {
        let mut simulator = courier(SIMULATOR, None, Vec::new());
        simulator.country = None;
        let mut inactive = courier("OLD", Some(Currency::Idr), Vec::new());
        inactive.table.active = false;
        let mut cambodian = courier("VET", Some(Currency::Usd), Vec::new());
        cambodian.country = Some("KH".into());
        let book = vec![
            courier("JNE", Some(Currency::Idr), Vec::new()),
            courier("JNT", Some(Currency::Idr), Vec::new()),
            inactive,
            cambodian,
            simulator,
        ];
        let codes =
            |list: Vec<&CourierBook>| list.iter().map(|c| c.code.clone()).collect::<Vec<_>>();
        assert_eq!(
            codes(merchant_couriers(&book, "ID", None, false)),
            ["JNE", "JNT"]
        );
        assert_eq!(
            codes(merchant_couriers(&book, "ID", None, true)),
            ["JNE", "JNT", SIMULATOR]
        );
        let chosen = vec!["JNT".to_owned(), "OLD".to_owned(), "VET".to_owned()];
        assert_eq!(
            codes(merchant_couriers(&book, "ID", Some(&chosen), true)),
            ["JNT"]
        );
    }
}
