//! Pure rules of merchants: the status machine, validation, masking, commission resolution.

pub use merchants_contract::{BusinessType, MerchantStatus, StatusAction, Weekday};

pub use kernel::contact::{normalize_email, normalize_phone};
use kernel::{FieldError, MerchantRole};
use uuid::Uuid;

use crate::api::{
    Address, BankAccountInput, GeoPoint, MerchantApplication, MerchantUpdate, OpeningHours,
    OutletInput,
};

struct Check(Vec<FieldError>);

impl Check {
    fn fail(&mut self, field: &str, message: &str) {
        self.0.push(FieldError {
            field: field.to_owned(),
            message: message.to_owned(),
        });
    }

    fn text(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let len = value.trim().chars().count();
        if len < min || value.chars().count() > max {
            self.fail(field, &format!("must be {min} to {max} characters"));
        }
    }

    fn email(&mut self, field: &str, value: &str) {
        if normalize_email(value).is_none() {
            self.fail(field, "must be an email address");
        }
    }

    fn phone(&mut self, field: &str, value: &str) {
        if normalize_phone(value).is_none() {
            self.fail(field, "must be an international number like +85512345678");
        }
    }

    fn address(&mut self, field: &str, address: &Address) {
        self.text(&format!("{field}.line1"), &address.line1, 1, 200);
        if let Some(line2) = &address.line2 {
            self.text(&format!("{field}.line2"), line2, 0, 200);
        }
        self.text(&format!("{field}.city"), &address.city, 1, 100);
        if let Some(province) = &address.province {
            self.text(&format!("{field}.province"), province, 0, 100);
        }
        if let Some(code) = &address.postal_code {
            self.text(&format!("{field}.postalCode"), code, 0, 20);
        }
        if !(address.country.len() == 2 && address.country.bytes().all(|b| b.is_ascii_uppercase()))
        {
            self.fail(
                &format!("{field}.country"),
                "must be an ISO 3166-1 alpha-2 code like KH",
            );
        }
    }

    fn location(&mut self, field: &str, point: &GeoPoint) {
        if !(-90.0..=90.0).contains(&point.latitude) {
            self.fail(&format!("{field}.latitude"), "must be between -90 and 90");
        }
        if !(-180.0..=180.0).contains(&point.longitude) {
            self.fail(
                &format!("{field}.longitude"),
                "must be between -180 and 180",
            );
        }
    }

    fn category(&mut self, value: &str) {
        let ok = (2..=60).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !ok {
            self.fail(
                "category",
                "must be 2 to 60 lowercase letters, digits, '-' or '_'",
            );
        }
    }

    fn documents(&mut self, documents: &[String]) {
        if documents.len() > 20 {
            self.fail("documents", "at most 20 documents");
        }
        for (i, doc) in documents.iter().enumerate() {
            self.text(&format!("documents[{i}]"), doc, 1, 200);
        }
    }

    fn done(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

pub fn validate_application(app: &MerchantApplication) -> Result<(), Vec<FieldError>> {
    let mut check = Check(Vec::new());
    check.text("businessName", &app.business_name, 2, 120);
    check.text("legalName", &app.legal_name, 2, 200);
    let tax_ok = (3..=40).contains(&app.tax_id.len())
        && app
            .tax_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'/');
    if !tax_ok {
        check.fail("taxId", "must be 3 to 40 letters, digits, '-', '.' or '/'");
    }
    check.email("contactEmail", &app.contact_email);
    check.phone("contactPhone", &app.contact_phone);
    if let Some(description) = &app.description {
        check.text("description", description, 0, 2000);
    }
    check.address("address", &app.address);
    check.location("location", &app.location);
    check.category(&app.category);
    check.documents(&app.documents);
    check.done()
}

pub fn validate_update(update: &MerchantUpdate) -> Result<(), Vec<FieldError>> {
    let mut check = Check(Vec::new());
    if let Some(name) = &update.business_name {
        check.text("businessName", name, 2, 120);
    }
    if let Some(description) = &update.description {
        check.text("description", description, 0, 2000);
    }
    if let Some(email) = &update.contact_email {
        check.email("contactEmail", email);
    }
    if let Some(phone) = &update.contact_phone {
        check.phone("contactPhone", phone);
    }
    if let Some(address) = &update.address {
        check.address("address", address);
    }
    if let Some(location) = &update.location {
        check.location("location", location);
    }
    if let Some(category) = &update.category {
        check.category(category);
    }
    if let Some(documents) = &update.documents {
        check.documents(documents);
    }
    check.done()
}

fn is_clock(text: &str) -> bool {
    let Some((h, m)) = text.split_once(':') else {
        return false;
    };
    h.len() == 2
        && m.len() == 2
        && h.parse::<u8>().is_ok_and(|h| h < 24)
        && m.parse::<u8>().is_ok_and(|m| m < 60)
}

pub fn validate_outlet(outlet: &OutletInput) -> Result<(), Vec<FieldError>> {
    let mut check = Check(Vec::new());
    check.text("name", &outlet.name, 2, 120);
    check.address("address", &outlet.address);
    check.location("location", &outlet.location);
    if let Some(phone) = &outlet.phone {
        check.phone("phone", phone);
    }
    if outlet.opening_hours.len() > 21 {
        check.fail("openingHours", "at most 21 periods");
    }
    for (i, OpeningHours { opens, closes, .. }) in outlet.opening_hours.iter().enumerate() {
        if !is_clock(opens) {
            check.fail(&format!("openingHours[{i}].opens"), "must be HH:MM");
        }
        if !is_clock(closes) || closes == opens {
            check.fail(
                &format!("openingHours[{i}].closes"),
                "must be HH:MM, not equal to opens",
            );
        }
    }
    check.done()
}

pub fn validate_bank_account(account: &BankAccountInput) -> Result<(), Vec<FieldError>> {
    let mut check = Check(Vec::new());
    check.text("bankName", &account.bank_name, 2, 100);
    check.text("accountName", &account.account_name, 2, 120);
    let number: String = account
        .account_number
        .chars()
        .filter(|c| *c != ' ')
        .collect();
    if !((6..=34).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_alphanumeric())) {
        check.fail("accountNumber", "must be 6 to 34 letters or digits");
    }
    check.done()
}

pub fn validate_reason(reason: &str) -> Result<(), Vec<FieldError>> {
    let mut check = Check(Vec::new());
    check.text("reason", reason, 3, 1000);
    check.done()
}

pub fn validate_rate(field: &str, rate_bps: u32) -> Result<(), Vec<FieldError>> {
    let mut check = Check(Vec::new());
    if rate_bps > 10_000 {
        check.fail(field, "must be between 0 and 10000 basis points");
    }
    check.done()
}

/// `••••1234`: enough for staff to recognise the account, not enough to use it.
pub fn mask_account_number(number: &str) -> String {
    let tail: String = number
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("••••{tail}")
}

/// The rate for a line: the override of the most specific category on the path (leaf first),
/// else the merchant's own rate, else the platform default.
pub fn commission_rate(
    category_path: &[Uuid],
    overrides: &[(Uuid, u32)],
    own_rate: Option<u32>,
    default_rate: u32,
) -> u32 {
    category_path
        .iter()
        .find_map(|c| overrides.iter().find(|(id, _)| id == c).map(|(_, r)| *r))
        .or(own_rate)
        .unwrap_or(default_rate)
}

/// Owners are made by applying, not by invitation.
pub fn invitable(role: MerchantRole) -> bool {
    role != MerchantRole::Owner
}

#[cfg(test)]
mod tests {
    use super::*;

    fn application() -> MerchantApplication {
        MerchantApplication {
            business_name: "Kopi Pagi".into(),
            legal_name: "PT Kopi Pagi".into(),
            business_type: BusinessType::Company,
            tax_id: "01.234.567.8-901".into(),
            contact_email: "owner@kopi.example".into(),
            contact_phone: "+6281234567890".into(),
            description: None,
            address: Address {
                line1: "Jl. Sudirman 1".into(),
                line2: None,
                city: "Jakarta".into(),
                province: None,
                postal_code: Some("10210".into()),
                country: "ID".into(),
            },
            location: GeoPoint {
                latitude: -6.2,
                longitude: 106.8,
            },
            category: "cafe".into(),
            documents: vec!["doc-1".into()],
        }
    }

    #[test]
    fn status_machine() {
        use MerchantStatus::*;
        assert_eq!(PendingReview.apply(StatusAction::Approve), Some(Active));
        assert_eq!(PendingReview.apply(StatusAction::Reject), Some(Rejected));
        assert_eq!(Active.apply(StatusAction::Suspend), Some(Suspended));
        assert_eq!(Suspended.apply(StatusAction::Reactivate), Some(Active));
        assert_eq!(Active.apply(StatusAction::Approve), None);
        assert_eq!(Rejected.apply(StatusAction::Close), None);
        assert_eq!(Closed.next_states(), vec![]);
        assert_eq!(Active.next_states(), vec![Suspended, Closed]);
    }

    #[test]
    fn applications_are_validated() {
        assert!(validate_application(&application()).is_ok());
        let mut bad = application();
        bad.contact_phone = "0812".into();
        bad.location.latitude = 91.0;
        bad.address.country = "Indonesia".into();
        bad.category = "Cafe & Bar".into();
        let fields: Vec<String> = validate_application(&bad)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            vec![
                "contactPhone",
                "address.country",
                "location.latitude",
                "category"
            ]
        );
    }

    #[test]
    fn opening_hours_must_be_clock_times() {
        let outlet = OutletInput {
            name: "Sudirman".into(),
            address: application().address,
            location: application().location,
            phone: None,
            opening_hours: vec![OpeningHours {
                day: Weekday::Mon,
                opens: "25:00".into(),
                closes: "22:00".into(),
            }],
        };
        let errors = validate_outlet(&outlet).unwrap_err();
        assert_eq!(errors[0].field, "openingHours[0].opens");
    }

    #[test]
    fn account_numbers_are_masked() {
        assert_eq!(mask_account_number("000123456789"), "••••6789");
        assert_eq!(mask_account_number("12"), "••••12");
    }

    #[test]
    fn most_specific_rate_wins() {
        let (leaf, parent) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(
            commission_rate(&[leaf, parent], &[(parent, 500)], Some(800), 1000),
            500
        );
        assert_eq!(
            commission_rate(&[leaf, parent], &[(parent, 500), (leaf, 300)], None, 1000),
            300
        );
        assert_eq!(commission_rate(&[leaf], &[], Some(800), 1000), 800);
        assert_eq!(commission_rate(&[], &[], None, 1000), 1000);
    }
}
