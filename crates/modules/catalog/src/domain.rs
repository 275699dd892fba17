//! Pure rules of the catalog: product statuses and who may move them, validation, slugs.

pub use catalog_contract::{
    AttributeKind, Mover, ProductStatus, ProductType, SortOrder, TransitionError,
};

use std::collections::BTreeMap;

use kernel::{Currency, FieldError, LocalizedText};

use crate::api::{Attribute, Dimensions, ProductInput, ProductUpdate, VariantInput};

struct Check(Vec<FieldError>);

impl Check {
    fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    fn done(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

pub const MAX_VARIANTS: usize = 100;
const MAX_PRICE: i64 = 1_000_000_000_000;

pub fn is_slug(text: &str) -> bool {
    (1..=80).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

/// A URL slug from a name: lowercase ASCII letters and digits joined by single hyphens.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            slug.push(ch.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 70 {
            break;
        }
    }
    slug.trim_end_matches('-').to_owned()
}

fn sku_ok(sku: &str) -> bool {
    (1..=64).contains(&sku.len())
        && sku
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn check_options(check: &mut Check, field: &str, options: &BTreeMap<String, String>) {
    if options.len() > 10 {
        check.fail(field, "at most 10 options");
    }
    for (key, value) in options {
        if !(1..=40).contains(&key.chars().count()) || !(1..=100).contains(&value.chars().count()) {
            check.fail(
                format!("{field}.{key}"),
                "option names are 1 to 40 characters, values 1 to 100",
            );
        }
    }
}

fn check_price(check: &mut Check, field: &str, price: i64, compare_at: Option<i64>) {
    if !(0..=MAX_PRICE).contains(&price) {
        check.fail(
            format!("{field}.price"),
            "must be zero or more (minor units)",
        );
    }
    if compare_at.is_some_and(|c| c <= price || c > MAX_PRICE) {
        check.fail(
            format!("{field}.compareAtPrice"),
            "must be greater than the price",
        );
    }
}

/// Validates variants to be added to a product priced in `currency` (None: not yet priced).
pub fn validate_variants(
    variants: &[VariantInput],
    currency: Option<Currency>,
    existing: usize,
    field: &str,
) -> Result<(), Vec<FieldError>> {
    let mut check = Check(Vec::new());
    if existing + variants.len() > MAX_VARIANTS {
        check.fail(
            field,
            format!("a product has at most {MAX_VARIANTS} variants"),
        );
    }
    let currency = currency.or_else(|| variants.first().map(|v| v.currency));
    let mut seen = std::collections::HashSet::new();
    for (i, v) in variants.iter().enumerate() {
        let at = format!("{field}[{i}]");
        if !sku_ok(&v.sku) {
            check.fail(
                format!("{at}.sku"),
                "must be 1 to 64 letters, digits, '-', '_' or '.'",
            );
        } else if !seen.insert(v.sku.as_str()) {
            check.fail(format!("{at}.sku"), "is repeated");
        }
        check_options(&mut check, &format!("{at}.options"), &v.options);
        check_price(&mut check, &at, v.price, v.compare_at_price);
        if Some(v.currency) != currency {
            check.fail(
                format!("{at}.currency"),
                "all variants of a product share one currency",
            );
        }
    }
    check.done()
}

pub fn validate_variant_change(
    options: Option<&BTreeMap<String, String>>,
    price: i64,
    compare_at: Option<i64>,
) -> Result<(), Vec<FieldError>> {
    let mut check = Check(Vec::new());
    if let Some(options) = options {
        check_options(&mut check, "options", options);
    }
    let mut inner = Check(Vec::new());
    check_price(&mut inner, "", price, compare_at);
    for e in inner.0 {
        check.fail(e.field.trim_start_matches('.'), e.message);
    }
    check.done()
}

fn check_physical(
    check: &mut Check,
    product_type: crate::api::ProductType,
    weight: Option<i32>,
    dimensions: Option<&Dimensions>,
) {
    match product_type {
        ProductType::Physical => {
            if !weight.is_some_and(|w| (1..=1_000_000).contains(&w)) {
                check.fail(
                    "weightGrams",
                    "physical goods need a weight of 1 to 1000000 g",
                );
            }
        }
        ProductType::Voucher => {
            if weight.is_some() || dimensions.is_some() {
                check.fail("weightGrams", "vouchers have no weight or dimensions");
            }
        }
    }
    if let Some(d) = dimensions {
        for (name, value) in [
            ("lengthMm", d.length_mm),
            ("widthMm", d.width_mm),
            ("heightMm", d.height_mm),
        ] {
            if !(1..=10_000).contains(&value) {
                check.fail(format!("dimensions.{name}"), "must be 1 to 10000 mm");
            }
        }
    }
}

/// Known attributes must have values of their kind; unknown keys are free-form.
fn check_attributes(
    check: &mut Check,
    attributes: &serde_json::Map<String, serde_json::Value>,
    definitions: &[Attribute],
) {
    if attributes.len() > 50
        || serde_json::to_string(attributes).map_or(true, |s| s.len() > 8 * 1024)
    {
        check.fail("attributes", "at most 50 keys and 8 KiB");
        return;
    }
    for (key, value) in attributes {
        let Some(def) = definitions.iter().find(|d| &d.code == key) else {
            continue;
        };
        let ok = match def.kind {
            AttributeKind::Text => value.as_str().is_some_and(|s| s.chars().count() <= 500),
            AttributeKind::Number => value.is_number(),
            AttributeKind::Boolean => value.is_boolean(),
            AttributeKind::Select => value
                .as_str()
                .is_some_and(|s| def.options.iter().any(|o| o == s)),
        };
        if !ok {
            check.fail(
                format!("attributes.{key}"),
                format!("must be a {} value", def.kind.as_str().to_lowercase()),
            );
        }
    }
}

fn check_texts(
    check: &mut Check,
    name: Option<&LocalizedText>,
    description: Option<&LocalizedText>,
    slug: Option<&str>,
) {
    if let Some(name) = name {
        name.check("name", true, 200, &mut check.0);
    }
    if let Some(description) = description {
        description.check("description", false, 10_000, &mut check.0);
    }
    if slug.is_some_and(|s| !is_slug(s)) {
        check.fail(
            "slug",
            "must be 1 to 80 lowercase letters, digits and inner hyphens",
        );
    }
}

pub fn validate_product(
    input: &ProductInput,
    definitions: &[Attribute],
) -> Result<(), Vec<FieldError>> {
    let mut check = Check(Vec::new());
    check_texts(
        &mut check,
        Some(&input.name),
        input.description.as_ref(),
        input.slug.as_deref(),
    );
    check_physical(
        &mut check,
        input.product_type,
        input.weight_grams,
        input.dimensions.as_ref(),
    );
    check_attributes(&mut check, &input.attributes, definitions);
    if let Err(errors) = validate_variants(&input.variants, None, 0, "variants") {
        check.0.extend(errors);
    }
    check.done()
}

pub fn validate_update(
    update: &ProductUpdate,
    product_type: ProductType,
    weight: Option<i32>,
    dimensions: Option<&Dimensions>,
    definitions: &[Attribute],
) -> Result<(), Vec<FieldError>> {
    let mut check = Check(Vec::new());
    check_texts(
        &mut check,
        update.name.as_ref(),
        update.description.as_ref(),
        update.slug.as_deref(),
    );
    check_physical(&mut check, product_type, weight, dimensions);
    if let Some(attributes) = &update.attributes {
        check_attributes(&mut check, attributes, definitions);
    }
    check.done()
}

pub fn validate_reason(reason: Option<&str>, required: bool) -> Result<(), Vec<FieldError>> {
    let mut check = Check(Vec::new());
    match reason.map(str::trim) {
        Some(r) if r.chars().count() > 1000 => check.fail("reason", "at most 1000 characters"),
        Some(r) if required && r.len() < 3 => check.fail("reason", "is required"),
        None if required => check.fail("reason", "is required"),
        _ => {}
    }
    check.done()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProductStatus::*;

    #[test]
    fn merchants_submit_and_moderators_decide() {
        assert_eq!(Draft.transition(PendingReview, Mover::Merchant), Ok(()));
        assert_eq!(PendingReview.transition(Active, Mover::Moderator), Ok(()));
        assert_eq!(
            PendingReview.transition(Active, Mover::Merchant),
            Err(TransitionError::NotYours)
        );
        assert_eq!(
            Draft.transition(Active, Mover::Merchant),
            Err(TransitionError::NotYours)
        );
        assert_eq!(
            Active.transition(PendingReview, Mover::Merchant),
            Err(TransitionError::Illegal {
                allowed: vec![Archived, Rejected]
            })
        );
        assert_eq!(
            Draft.transition(Rejected, Mover::Moderator),
            Err(TransitionError::Illegal {
                allowed: vec![PendingReview, Archived]
            })
        );
        assert_eq!(Active.transition(Rejected, Mover::Moderator), Ok(()));
        assert_eq!(Rejected.transition(PendingReview, Mover::Merchant), Ok(()));
        assert_eq!(Archived.transition(Draft, Mover::Merchant), Ok(()));
        assert!(!Archived.editable());
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("Kopi Susu — Es (Large)!"), "kopi-susu-es-large");
        assert_eq!(slugify("តែ"), "");
        assert!(is_slug("kopi-susu"));
        assert!(!is_slug("-kopi"));
        assert!(!is_slug("Kopi"));
    }

    fn variant(sku: &str, price: i64, currency: Currency) -> VariantInput {
        VariantInput {
            sku: sku.into(),
            options: BTreeMap::new(),
            price,
            compare_at_price: None,
            currency,
            position: None,
        }
    }

    #[test]
    fn variants_share_a_currency_and_have_sane_prices() {
        let ok = [
            variant("A-1", 100, Currency::Usd),
            variant("A-2", 0, Currency::Usd),
        ];
        assert!(validate_variants(&ok, None, 0, "variants").is_ok());
        let bad = [
            variant("A-1", -1, Currency::Usd),
            variant("A-1", 5, Currency::Khr),
            variant("bad sku", 5, Currency::Usd),
        ];
        let fields: Vec<String> = validate_variants(&bad, None, 0, "variants")
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            vec![
                "variants[0].price",
                "variants[1].sku",
                "variants[1].currency",
                "variants[2].sku"
            ]
        );
        let mut discounted = variant("A-3", 100, Currency::Usd);
        discounted.compare_at_price = Some(100);
        assert!(validate_variants(&[discounted], Some(Currency::Usd), 0, "v").is_err());
        assert!(validate_variants(&ok, Some(Currency::Idr), 0, "v").is_err());
    }
}
