//! Message templates per language (en, km, id; English when a translation is missing),
//! rendered with minijinja. Each template has a title (email subject, push title) and a body.
//! The recipient's `locale` is in every context, and `| localized` picks a multilingual text
//! (a product or offer title, an admin's scheduled message) in it.

mod account;
mod commerce;
mod operators;

use minijinja::Environment;
use serde::Serialize;

/// Every `(template, locale, title, body)`.
fn all() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str, &'static str)>
{
    account::TEMPLATES
        .iter()
        .chain(commerce::TEMPLATES)
        .chain(operators::TEMPLATES)
        .chain(SCHEDULED)
}

/// An admin's scheduled message, written in each language by the admin: one template per
/// locale so that the reader's locale reaches `localized`.
const SCHEDULED: &[(&str, &str, &str, &str)] = &[
    (
        "scheduled",
        "en",
        "{{ title | localized }}",
        "{{ body | localized }}",
    ),
    (
        "scheduled",
        "km",
        "{{ title | localized }}",
        "{{ body | localized }}",
    ),
    (
        "scheduled",
        "id",
        "{{ title | localized }}",
        "{{ body | localized }}",
    ),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub locale: String,
    pub title: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("no template named {0}")]
    Missing(String),
    #[error("rendering {name}: {source}")]
    Render {
        name: String,
        #[source]
        source: minijinja::Error,
    },
}

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn new() -> Self {
        let mut env = Environment::new();
        // Unknown variables are errors: a typo must not send "Hello ," to customers.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, locale, title, body) in all() {
            // The names are static and unique, so adding cannot fail on a well-formed table;
            // a malformed template is caught by the test below.
            let _ = env.add_template_owned(format!("{name}.{locale}.title"), *title);
            let _ = env.add_template_owned(format!("{name}.{locale}.body"), *body);
        }
        env.add_filter("localized", localized);
        Self { env }
    }

    /// Renders `name` in `locale`, falling back to English.
    pub fn render<C: Serialize>(
        &self,
        name: &str,
        locale: &str,
        context: &C,
    ) -> Result<Rendered, TemplateError> {
        let locale = if self
            .env
            .get_template(&format!("{name}.{locale}.title"))
            .is_ok()
        {
            locale
        } else {
            "en"
        };
        let part = |part: &str| {
            let key = format!("{name}.{locale}.{part}");
            let template = self
                .env
                .get_template(&key)
                .map_err(|_| TemplateError::Missing(key.clone()))?;
            template
                .render(minijinja::context! { locale => locale, ..minijinja::Value::from_serialize(context) })
                .map_err(|source| TemplateError::Render { name: key, source })
        };
        Ok(Rendered {
            title: part("title")?,
            body: part("body")?,
            locale: locale.to_owned(),
        })
    }
}

/// `{"en": .., "km": .., "id": ..}` in the recipient's locale, English when that one is
/// missing or blank; a plain string as it is.
fn localized(state: &minijinja::State, text: minijinja::Value) -> Result<String, minijinja::Error> {
    if let Some(plain) = text.as_str() {
        return Ok(plain.to_owned());
    }
    let locale = state.lookup("locale");
    let pick = |key: &str| {
        text.get_attr(key)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .filter(|t| !t.trim().is_empty())
    };
    locale
        .as_ref()
        .and_then(|l| l.as_str())
        .and_then(pick)
        .or_else(|| pick("en"))
        .ok_or_else(|| {
            minijinja::Error::new(
                minijinja::ErrorKind::UndefinedError,
                "a localized text without English",
            )
        })
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_template_renders_in_every_locale() {
        let templates = Templates::new();
        let context = json!({"first_name": "Dara", "code": "123456", "minutes": 10, "token": "t",
            "business_name": "Kopi Pagi", "role": "cashier", "expires_at": "2026-11-25T00:00:00Z",
            "reason": "missing licence", "sku": "TEA-1", "available": 3, "threshold": 5,
            "title": "Coffee card", "message": "Happy birthday", "balance": 2500, "currency": "USD",
            "tier": "Gold", "points": 250, "order_number": "ORD-1", "courier": "JNE",
            "tracking_number": "JNE00123456784", "total": "25.00 USD", "digital_only": false,
            "items": 2, "method": "simulator", "amount": "5.00 USD", "outlet": null,
            "redeemed_at": "2026-12-04 16:30 UTC", "balance_left": true, "period": "2026-W49",
            "rating": 4, "body": {"en": "Hello"}, "preview": "Is it in stock?", "verifications": 2,
            "refunds": 1, "oldest_since": "2026-12-04T10:00:00Z", "edition": "2026-12", "pages": 65,
            "vouchers": 512});
        for (name, locale, _, _) in all() {
            let rendered = templates.render(name, locale, &context).unwrap();
            assert_eq!(rendered.locale, *locale);
            assert!(!rendered.title.is_empty() && !rendered.body.is_empty());
        }
    }

    #[test]
    fn renders_per_language_and_falls_back_to_english() {
        let templates = Templates::new();
        let code = json!({"code": "482913", "minutes": 10});
        let km = templates.render("verification_code", "km", &code).unwrap();
        assert!(km.body.contains("482913") && km.body.contains("លេខកូដ"));
        let id = templates.render("verification_code", "id", &code).unwrap();
        assert!(id.body.starts_with("Kode verifikasi Anda adalah 482913"));
        let fallback = templates.render("verification_code", "fr", &code).unwrap();
        assert_eq!(fallback.locale, "en");
        assert!(fallback
            .body
            .starts_with("Your verification code is 482913"));
    }

    #[test]
    fn localized_texts_follow_the_reader_and_fall_back_to_english() {
        let templates = Templates::new();
        let text = json!({"title": {"en": "Sale", "km": "ការលក់", "id": " "},
            "body": {"en": "Half price"}});
        let km = templates.render("scheduled", "km", &text).unwrap();
        assert_eq!(
            (km.title.as_str(), km.body.as_str()),
            ("ការលក់", "Half price")
        );
        let id = templates.render("scheduled", "id", &text).unwrap();
        assert_eq!(id.title, "Sale", "a blank translation is missing");
        let bought = json!({"title": {"en": "Coffee card", "km": "កាតកាហ្វេ"},
            "expires_at": "2027-03-01 00:00 UTC"});
        let km = templates
            .render("voucher_purchased", "km", &bought)
            .unwrap();
        assert!(km.title.starts_with("កាតកាហ្វេ"), "{}", km.title);
        let no_english = json!({"title": {"km": "ការលក់"}, "body": "plain"});
        assert!(templates.render("scheduled", "en", &no_english).is_err());
    }

    #[test]
    fn missing_variables_and_templates_are_errors() {
        let templates = Templates::new();
        assert!(templates.render("welcome", "en", &json!({})).is_err());
        assert!(matches!(
            templates.render("nope", "en", &json!({})),
            Err(TemplateError::Missing(_))
        ));
    }
}
