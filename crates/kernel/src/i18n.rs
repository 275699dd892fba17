use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// Text in the platform's languages. English is required; Khmer and Indonesian are optional
/// and clients fall back to English when one is missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocalizedText {
    pub en: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub km: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl LocalizedText {
    /// Field errors for `field` when English is blank (if `required`) or any text is longer
    /// than `max_chars`.
    pub fn check(
        &self,
        field: &str,
        required: bool,
        max_chars: usize,
        errors: &mut Vec<FieldError>,
    ) {
        if required && self.en.trim().is_empty() {
            errors.push(FieldError {
                field: format!("{field}.en"),
                message: "must not be blank".into(),
            });
        }
        for (lang, text) in [
            ("en", Some(&self.en)),
            ("km", self.km.as_ref()),
            ("id", self.id.as_ref()),
        ] {
            if text.is_some_and(|t| t.chars().count() > max_chars) {
                errors.push(FieldError {
                    field: format!("{field}.{lang}"),
                    message: format!("must be at most {max_chars} characters"),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_is_required_and_lengths_are_bounded() {
        let mut errors = Vec::new();
        LocalizedText {
            en: " ".into(),
            km: Some("ក".repeat(11)),
            id: None,
        }
        .check("name", true, 10, &mut errors);
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].field, "name.en");
        assert_eq!(errors[1].field, "name.km");
        let mut errors = Vec::new();
        LocalizedText {
            en: "Kopi".into(),
            km: None,
            id: None,
        }
        .check("name", true, 10, &mut errors);
        assert!(errors.is_empty());
    }
}
