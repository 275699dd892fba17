//! The rules a rate table must follow before it replaces a courier's: every weight from 0 g up
//! to the last bracket priced exactly once, amounts of 0 or more, plausible ETAs, and same-day
//! service within a city only.

use std::collections::HashSet;

use kernel::FieldError;

use crate::api::{RateTable, ServiceLevel, WeightBracket, Zone, ZoneRates};

pub const MAX_BRACKETS: usize = 50;
/// Nothing a courier of a marketplace carries weighs more (1 t).
pub const MAX_WEIGHT_GRAMS: i64 = 1_000_000;
/// Above any real shipping price in any currency's minor units, far below overflow.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;
pub const MAX_ETA_DAYS: i32 = 60;

fn fail(errors: &mut Vec<FieldError>, field: String, message: &str) {
    errors.push(FieldError {
        field,
        message: message.to_owned(),
    });
}

/// Every problem of `table`, each with its field path (`services[0].zones[1].brackets[2]...`);
/// empty when it may replace the courier's table.
pub fn validate(table: &RateTable) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if !(1_000..=10_000).contains(&table.volumetric_divisor) {
        fail(
            &mut errors,
            "volumetricDivisor".into(),
            "must be 1000 to 10000 (cm³ per kg)",
        );
    }
    if table.services.is_empty() {
        fail(
            &mut errors,
            "services".into(),
            "must list at least one service",
        );
    }
    let mut seen = HashSet::new();
    for (i, service) in table.services.iter().enumerate() {
        let at = format!("services[{i}]");
        if !seen.insert(service.service) {
            fail(&mut errors, format!("{at}.service"), "is listed twice");
        }
        let name = service.name.trim();
        if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
            fail(
                &mut errors,
                format!("{at}.name"),
                "must be 1 to 60 printable characters",
            );
        }
        if !(1..=MAX_WEIGHT_GRAMS).contains(&service.max_weight_grams) {
            fail(
                &mut errors,
                format!("{at}.maxWeightGrams"),
                "must be 1 to 1000000",
            );
        }
        if service.zones.is_empty() {
            fail(
                &mut errors,
                format!("{at}.zones"),
                "must price at least one zone",
            );
        }
        let mut zones = HashSet::new();
        for (j, zone) in service.zones.iter().enumerate() {
            let at = format!("{at}.zones[{j}]");
            if !zones.insert(zone.zone) {
                fail(&mut errors, format!("{at}.zone"), "is listed twice");
            }
            if service.service == ServiceLevel::SameDay && zone.zone != Zone::SameCity {
                fail(
                    &mut errors,
                    format!("{at}.zone"),
                    "same-day service is within a city only (SAME_CITY)",
                );
            }
            zone_rules(
                service.service,
                service.max_weight_grams,
                zone,
                &at,
                &mut errors,
            );
        }
    }
    errors
}

fn zone_rules(
    service: ServiceLevel,
    max_weight: i64,
    zone: &ZoneRates,
    at: &str,
    errors: &mut Vec<FieldError>,
) {
    let etas_ok = 0 <= zone.eta_min_days
        && zone.eta_min_days <= zone.eta_max_days
        && zone.eta_max_days <= MAX_ETA_DAYS;
    if !etas_ok {
        fail(
            errors,
            format!("{at}.etaMaxDays"),
            "must be at least etaMinDays, which must be at least 0 (at most 60 days)",
        );
    }
    if service == ServiceLevel::SameDay && zone.eta_max_days != 0 {
        fail(
            errors,
            format!("{at}.etaMaxDays"),
            "must be 0 for same-day service",
        );
    }
    if let Some(extra) = zone.extra_per_kg {
        if !(0..=MAX_AMOUNT).contains(&extra) {
            fail(
                errors,
                format!("{at}.extraPerKg"),
                "must be an amount of 0 or more",
            );
        }
    }
    brackets(
        &zone.brackets,
        max_weight,
        &format!("{at}.brackets"),
        errors,
    );
}

/// Sorted by weight, the brackets must start at 0 g and each start where the previous one
/// ends: an overlap would price a weight twice, a gap not at all.
fn brackets(list: &[WeightBracket], max_weight: i64, at: &str, errors: &mut Vec<FieldError>) {
    if list.is_empty() {
        fail(
            errors,
            at.to_owned(),
            "must hold at least one weight bracket",
        );
        return;
    }
    if list.len() > MAX_BRACKETS {
        fail(errors, at.to_owned(), "at most 50 brackets");
        return;
    }
    let mut order: Vec<usize> = (0..list.len()).collect();
    order.sort_by_key(|&k| (list[k].from_grams, list[k].to_grams));
    let mut reached = 0;
    for (n, &k) in order.iter().enumerate() {
        let bracket = &list[k];
        let at = format!("{at}[{k}]");
        if bracket.from_grams < 0 || bracket.to_grams <= bracket.from_grams {
            fail(
                errors,
                format!("{at}.toGrams"),
                "must be greater than fromGrams, which must be at least 0",
            );
        }
        // 0 is a free service (a merchant or the platform pays the courier).
        if !(0..=MAX_AMOUNT).contains(&bracket.amount) {
            fail(
                errors,
                format!("{at}.amount"),
                "must be an amount of 0 or more",
            );
        }
        if bracket.to_grams > max_weight {
            fail(
                errors,
                format!("{at}.toGrams"),
                "is above the service's maxWeightGrams",
            );
        }
        if n == 0 && bracket.from_grams != 0 {
            fail(
                errors,
                format!("{at}.fromGrams"),
                "the first bracket must start at 0",
            );
        } else if n > 0 && bracket.from_grams < reached {
            fail(
                errors,
                format!("{at}.fromGrams"),
                "overlaps another bracket (brackets must not overlap)",
            );
        } else if n > 0 && bracket.from_grams > reached {
            fail(
                errors,
                format!("{at}.fromGrams"),
                "leaves a gap after the previous bracket (each starts where the previous ends)",
            );
        }
        reached = reached.max(bracket.to_grams);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ServiceRates;

    fn table(service: ServiceLevel, zone: Zone, brackets: &[(i64, i64, i64)]) -> RateTable {
        RateTable {
            active: true,
            volumetric_divisor: 6_000,
            services: vec![ServiceRates {
                service,
                name: "REG".into(),
                active: true,
                cod: false,
                max_weight_grams: 30_000,
                zones: vec![ZoneRates {
                    zone,
                    eta_min_days: 0,
                    eta_max_days: 0,
                    brackets: brackets
                        .iter()
                        .map(|&(from_grams, to_grams, amount)| WeightBracket {
                            from_grams,
                            to_grams,
                            amount,
                        })
                        .collect(),
                    extra_per_kg: None,
                }],
            }],
        }
    }

    fn fields(table: &RateTable) -> Vec<String> {
        validate(table).into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn contiguous_brackets_in_any_order_pass() {
        let ok = table(
            ServiceLevel::Regular,
            Zone::SameCity,
            &[(1_000, 2_000, 15_000), (0, 1_000, 9_000)],
        );
        assert!(validate(&ok).is_empty(), "{:?}", validate(&ok));
    }

    #[test]
    fn overlaps_gaps_and_amounts_are_named() {
        let overlap = table(
            ServiceLevel::Regular,
            Zone::SameCity,
            &[(0, 1_500, 9_000), (1_000, 2_000, 15_000)],
        );
        assert_eq!(
            fields(&overlap),
            ["services[0].zones[0].brackets[1].fromGrams"]
        );
        let gap = table(
            ServiceLevel::Regular,
            Zone::SameCity,
            &[(0, 1_000, 9_000), (2_000, 3_000, 15_000)],
        );
        assert_eq!(fields(&gap), ["services[0].zones[0].brackets[1].fromGrams"]);
        // Free is a price; below zero is not.
        let free = table(ServiceLevel::Regular, Zone::SameCity, &[(0, 1_000, 0)]);
        assert!(fields(&free).is_empty());
        let negative = table(ServiceLevel::Regular, Zone::SameCity, &[(0, 1_000, -1)]);
        assert_eq!(
            fields(&negative),
            ["services[0].zones[0].brackets[0].amount"]
        );
        let late = table(ServiceLevel::Regular, Zone::SameCity, &[(500, 1_000, 10)]);
        assert_eq!(
            fields(&late),
            ["services[0].zones[0].brackets[0].fromGrams"]
        );
        let heavy = table(ServiceLevel::Regular, Zone::SameCity, &[(0, 40_000, 10)]);
        assert_eq!(fields(&heavy), ["services[0].zones[0].brackets[0].toGrams"]);
    }

    #[test]
    fn same_day_is_within_a_city() {
        let far = table(
            ServiceLevel::SameDay,
            Zone::OtherProvince,
            &[(0, 1_000, 10)],
        );
        assert_eq!(fields(&far), ["services[0].zones[0].zone"]);
        let mut slow = table(ServiceLevel::SameDay, Zone::SameCity, &[(0, 1_000, 10)]);
        slow.services[0].zones[0].eta_max_days = 2;
        assert_eq!(fields(&slow), ["services[0].zones[0].etaMaxDays"]);
        let mut twice = table(ServiceLevel::Regular, Zone::SameCity, &[(0, 1_000, 10)]);
        twice.services.push(twice.services[0].clone());
        twice.volumetric_divisor = 10;
        assert_eq!(fields(&twice), ["volumetricDivisor", "services[1].service"]);
    }
}
