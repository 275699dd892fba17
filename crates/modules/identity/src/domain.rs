//! Pure rules of identity: what a valid email, phone, name and password are, how identifiers
//! are normalized, and how refresh tokens are made and recognized. No I/O.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use kernel::{FieldError, Role};
use ring::digest;

pub const NAME_MAX_CHARS: usize = 100;
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Active,
    Suspended,
    /// Personal data erased; the row remains so references held elsewhere stay valid.
    Deleted,
}

impl UserStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "ACTIVE",
            UserStatus::Suspended => "SUSPENDED",
            UserStatus::Deleted => "DELETED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ACTIVE" => Some(UserStatus::Active),
            "SUSPENDED" => Some(UserStatus::Suspended),
            "DELETED" => Some(UserStatus::Deleted),
            _ => None,
        }
    }
}

/// How an account is named at login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginIdentifier {
    Email(String),
    Phone(String),
}

impl LoginIdentifier {
    /// The failed-login subject for an identifier that matches no account.
    pub fn anonymous_subject(&self) -> String {
        match self {
            LoginIdentifier::Email(email) => format!("id:email:{email}"),
            LoginIdentifier::Phone(phone) => format!("id:phone:{phone}"),
        }
    }
}

pub fn user_subject(user_id: uuid::Uuid) -> String {
    format!("user:{user_id}")
}

fn field(name: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: name.to_owned(),
        message: message.into(),
    }
}

/// Lower-cases and trims an email, and checks its shape (not its deliverability: that is what
/// verification by code is for).
pub fn normalize_email(raw: &str) -> Result<String, FieldError> {
    kernel::contact::normalize_email(raw)
        .ok_or_else(|| field("email", "is not a valid email address"))
}

/// Normalizes a phone number to E.164 (`+` and 8 to 15 digits), dropping spaces, dashes,
/// dots and parentheses.
pub fn normalize_phone(raw: &str) -> Result<String, FieldError> {
    kernel::contact::normalize_phone(raw)
        .ok_or_else(|| field("phone", "must be an international number like +85512345678"))
}

pub fn validate_name(field_name: &str, raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(field(field_name, "must not be empty"));
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(field(
            field_name,
            format!("must be at most {NAME_MAX_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(field(field_name, "must not contain control characters"));
    }
    Ok(name.to_owned())
}

/// The password policy: 8 to 128 characters with an upper-case letter, a lower-case letter, a
/// digit and a symbol. All unmet rules are reported at once.
pub fn check_password_policy(password: &str) -> Result<(), FieldError> {
    let length = password.chars().count();
    let mut unmet = Vec::new();
    if length < PASSWORD_MIN_CHARS {
        unmet.push(format!("at least {PASSWORD_MIN_CHARS} characters"));
    }
    if length > PASSWORD_MAX_CHARS {
        unmet.push(format!("at most {PASSWORD_MAX_CHARS} characters"));
    }
    if !password.chars().any(char::is_uppercase) {
        unmet.push("an upper-case letter".to_owned());
    }
    if !password.chars().any(char::is_lowercase) {
        unmet.push("a lower-case letter".to_owned());
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        unmet.push("a digit".to_owned());
    }
    if !password
        .chars()
        .any(|c| !c.is_alphanumeric() && !c.is_whitespace())
    {
        unmet.push("a symbol".to_owned());
    }
    if unmet.is_empty() {
        Ok(())
    } else {
        Err(field(
            "password",
            format!("must contain {}", unmet.join(", ")),
        ))
    }
}

pub fn roles_to_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn roles_from_text(text: &str) -> Vec<Role> {
    text.split(',').filter_map(Role::parse).collect()
}

/// A new opaque refresh token: 256 random bits, base64url.
pub fn new_refresh_token(random: &[u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(random)
}

/// Refresh tokens are stored as SHA-256 digests: high-entropy secrets need no slow hash, and a
/// leaked table reveals no usable token.
pub fn hash_refresh_token(token: &str) -> String {
    let hash = digest::digest(&digest::SHA256, token.as_bytes());
    URL_SAFE_NO_PAD.encode(hash.as_ref())
}

pub const CODE_TTL_MINUTES: i64 = 10;
pub const MAX_CODE_ATTEMPTS: i32 = 5;
pub const RESEND_COOLDOWN_SECS: i64 = 60;
pub const RESET_TTL_MINUTES: i64 = 60;
pub const RESET_REQUESTS_PER_HOUR: i64 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    VerifyEmail,
    VerifyPhone,
    ResetPassword,
}

impl CodePurpose {
    pub const fn as_str(self) -> &'static str {
        match self {
            CodePurpose::VerifyEmail => "verify_email",
            CodePurpose::VerifyPhone => "verify_phone",
            CodePurpose::ResetPassword => "reset_password",
        }
    }
}

/// Six digits from a random number, uniformly: the caller draws until it gets one below
/// 4_294_000_000 (a multiple of a million), so no code is likelier than another.
pub fn six_digit_code(uniform: u32) -> Option<String> {
    (uniform < 4_294_000_000).then(|| format!("{:06}", uniform % 1_000_000))
}

/// A code is hashed with its row id: equal codes of different rows hash differently.
pub fn hash_code(id: uuid::Uuid, code: &str) -> String {
    let mut input = id.as_bytes().to_vec();
    input.extend_from_slice(code.as_bytes());
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, &input).as_ref())
}

/// `sok***@example.com`, `+855****678`: enough for the user to recognise, little for others.
pub fn mask_destination(destination: &str) -> String {
    match destination.split_once('@') {
        Some((local, domain)) => {
            let shown: String = local.chars().take(3).collect();
            format!("{shown}***@{domain}")
        }
        None => {
            let chars: Vec<char> = destination.chars().collect();
            let head: String = chars.iter().take(4).collect();
            let tail: String = chars.iter().skip(chars.len().saturating_sub(3)).collect();
            format!("{head}****{tail}")
        }
    }
}

pub const MAX_ADDRESSES_PER_USER: i64 = 20;

/// An address that passed validation, with trimmed and normalized fields.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidAddress {
    pub label: Option<String>,
    pub recipient: String,
    pub phone: String,
    pub street: String,
    pub city: String,
    pub province: Option<String>,
    pub postal_code: Option<String>,
    pub country: String,
    pub coordinates: Option<(f64, f64)>,
    pub is_primary: bool,
}

fn required_text(field_name: &str, raw: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let text = raw.trim();
    if text.is_empty() {
        errors.push(field(field_name, "must not be empty"));
    } else if text.chars().count() > max {
        errors.push(field(
            field_name,
            format!("must be at most {max} characters"),
        ));
    } else if text.chars().any(char::is_control) {
        errors.push(field(field_name, "must not contain control characters"));
    }
    text.to_owned()
}

fn optional_text(
    field_name: &str,
    raw: Option<&str>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let text = raw.map(str::trim).filter(|t| !t.is_empty())?;
    Some(required_text(field_name, text, max, errors))
}

/// Checks every field of an address and reports all problems at once.
pub fn validate_address(
    request: &crate::api::AddressRequest,
) -> Result<ValidAddress, Vec<FieldError>> {
    let mut errors = Vec::new();
    let label = optional_text("label", request.label.as_deref(), 50, &mut errors);
    let recipient = required_text("recipient", &request.recipient, 100, &mut errors);
    let phone = normalize_phone(&request.phone).unwrap_or_else(|e| {
        errors.push(e);
        String::new()
    });
    let street = required_text("street", &request.street, 200, &mut errors);
    let city = required_text("city", &request.city, 100, &mut errors);
    let province = optional_text("province", request.province.as_deref(), 100, &mut errors);
    let postal_code = optional_text(
        "postalCode",
        request.postal_code.as_deref(),
        20,
        &mut errors,
    );
    if postal_code.as_deref().is_some_and(|c| {
        !c.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == ' ' || ch == '-')
    }) {
        errors.push(field(
            "postalCode",
            "may contain only letters, digits, spaces and dashes",
        ));
    }
    let country = request.country.trim().to_ascii_uppercase();
    if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
        errors.push(field(
            "country",
            "must be an ISO 3166-1 alpha-2 code such as KH or ID",
        ));
    }
    let coordinates = match (request.latitude, request.longitude) {
        (None, None) => None,
        (Some(lat), Some(lng)) => {
            if !(-90.0..=90.0).contains(&lat) || !lat.is_finite() {
                errors.push(field("latitude", "must be between -90 and 90"));
            }
            if !(-180.0..=180.0).contains(&lng) || !lng.is_finite() {
                errors.push(field("longitude", "must be between -180 and 180"));
            }
            Some((lat, lng))
        }
        (Some(_), None) => {
            errors.push(field("longitude", "is required with latitude"));
            None
        }
        (None, Some(_)) => {
            errors.push(field("latitude", "is required with longitude"));
            None
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidAddress {
        label,
        recipient,
        phone,
        street,
        city,
        province,
        postal_code,
        country,
        coordinates,
        is_primary: request.is_primary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address() -> crate::api::AddressRequest {
        crate::api::AddressRequest {
            label: Some(" Home ".into()),
            recipient: "Sok Dara".into(),
            phone: "+855 12 345 678".into(),
            street: "St. 271, #12".into(),
            city: "Phnom Penh".into(),
            province: None,
            postal_code: Some("12000".into()),
            country: "kh".into(),
            latitude: Some(11.55),
            longitude: Some(104.92),
            is_primary: false,
        }
    }

    #[test]
    fn codes_are_six_digits_and_hashed_per_row() {
        assert_eq!(six_digit_code(42).unwrap(), "000042");
        assert_eq!(six_digit_code(4_293_999_999).unwrap(), "999999");
        assert!(six_digit_code(4_294_000_000).is_none());
        let (a, b) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        assert_ne!(hash_code(a, "123456"), hash_code(b, "123456"));
        assert_eq!(hash_code(a, "123456"), hash_code(a, "123456"));
        assert_eq!(
            mask_destination("sokdara@example.com"),
            "sok***@example.com"
        );
        assert_eq!(mask_destination("+85512345678"), "+855****678");
    }

    #[test]
    fn addresses_are_normalized() {
        let valid = validate_address(&address()).unwrap();
        assert_eq!(valid.label.as_deref(), Some("Home"));
        assert_eq!(valid.phone, "+85512345678");
        assert_eq!(valid.country, "KH");
        assert_eq!(valid.coordinates, Some((11.55, 104.92)));
    }

    #[test]
    fn address_problems_are_all_reported() {
        let mut bad = address();
        bad.recipient = " ".into();
        bad.country = "Cambodia".into();
        bad.latitude = Some(123.0);
        bad.postal_code = Some("12$00".into());
        bad.longitude = None;
        let fields: Vec<String> = validate_address(&bad)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            vec!["recipient", "postalCode", "country", "longitude"]
        );
        let mut out_of_range = address();
        out_of_range.latitude = Some(91.0);
        out_of_range.longitude = Some(-181.0);
        let fields: Vec<String> = validate_address(&out_of_range)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["latitude", "longitude"]);
    }

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            normalize_email("  Alice.Smith@Example.COM ").unwrap(),
            "alice.smith@example.com"
        );
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "a@b",
            "a b@c.com",
            "a@b..com",
            "a@@b.com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn phones_are_e164() {
        assert_eq!(normalize_phone("+855 12-345-678").unwrap(), "+85512345678");
        assert_eq!(
            normalize_phone("+62 (812) 3456.7890").unwrap(),
            "+6281234567890"
        );
        for bad in [
            "012345678",
            "+0123456789",
            "+12",
            "+85512abc678",
            "+1234567890123456",
        ] {
            assert!(normalize_phone(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn password_policy_lists_every_unmet_rule() {
        assert!(check_password_policy("Str0ng!Pass").is_ok());
        let err = check_password_policy("short").unwrap_err();
        assert_eq!(err.field, "password");
        assert!(err.message.contains("at least 8 characters"));
        assert!(err.message.contains("upper-case"));
        assert!(err.message.contains("digit"));
        assert!(err.message.contains("symbol"));
        assert!(!err.message.contains("lower-case"));
        assert!(check_password_policy("alllowercase1!").is_err());
        assert!(check_password_policy(&format!("Aa1!{}", "x".repeat(130))).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(validate_name("firstName", "  Sok ").unwrap(), "Sok");
        assert!(validate_name("firstName", "   ").is_err());
        assert!(validate_name("lastName", &"x".repeat(101)).is_err());
        assert!(validate_name("lastName", "a\u{0}b").is_err());
    }

    #[test]
    fn roles_round_trip_through_text() {
        let roles = vec![Role::Customer, Role::Admin];
        assert_eq!(roles_to_text(&roles), "customer,admin");
        assert_eq!(roles_from_text("customer,admin,unknown"), roles);
    }

    #[test]
    fn refresh_token_hash_is_stable_and_distinct() {
        let a = new_refresh_token(&[1u8; 32]);
        let b = new_refresh_token(&[2u8; 32]);
        assert_ne!(a, b);
        assert_eq!(hash_refresh_token(&a), hash_refresh_token(&a));
        assert_ne!(hash_refresh_token(&a), hash_refresh_token(&b));
        assert_eq!(a.len(), 43);
    }

    #[test]
    fn anonymous_subjects_do_not_collide_with_users() {
        let subject = LoginIdentifier::Email("a@b.co".into()).anonymous_subject();
        assert!(subject.starts_with("id:email:"));
        assert!(user_subject(uuid::Uuid::nil()).starts_with("user:"));
    }
}
