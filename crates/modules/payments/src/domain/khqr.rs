//! KHQR (Cambodia's Bakong QR): an EMVCo merchant-presented payload with Bakong's tags, closed
//! by a CRC-16/CCITT-FALSE over everything before it, tag and length included.

use kernel::{Currency, Timestamp};

/// The payee and the payment a KHQR asks for.
#[derive(Debug, Clone)]
pub struct KhqrRequest<'a> {
    /// Bakong account id, e.g. `pasar@aclb`.
    pub account_id: &'a str,
    pub merchant_name: &'a str,
    pub merchant_city: &'a str,
    pub amount_minor: i64,
    pub currency: Currency,
    /// Shown to the payer and returned by Bakong: the order group number.
    pub bill_number: &'a str,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KhqrError {
    /// KHQR pays in riel or US dollars only.
    UnsupportedCurrency(Currency),
    InvalidAmount,
}

/// One EMVCo TLV field: two-digit tag, two-digit length, value. Values are cut to what the tag
/// allows and to ASCII, so the length always counts bytes.
fn field(tag: &str, value: &str, max: usize) -> String {
    let value: String = value
        .chars()
        .filter(|c| c.is_ascii() && !c.is_ascii_control())
        .take(max)
        .collect();
    format!("{tag}{:02}{value}", value.len())
}

/// CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection, no final xor.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for byte in data {
        crc ^= u16::from(*byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn amount_text(amount_minor: i64, currency: Currency) -> Result<String, KhqrError> {
    if amount_minor <= 0 {
        return Err(KhqrError::InvalidAmount);
    }
    Ok(match currency.exponent() {
        0 => amount_minor.to_string(),
        e => {
            let unit = 10i64.pow(e);
            let (whole, fraction) = (amount_minor / unit, amount_minor % unit);
            if fraction == 0 {
                whole.to_string()
            } else {
                format!("{whole}.{fraction:0width$}", width = e as usize)
                    .trim_end_matches('0')
                    .to_owned()
            }
        }
    })
}

/// The dynamic (one payment, fixed amount) KHQR payload of an individual Bakong account.
pub fn payload(request: &KhqrRequest<'_>) -> Result<String, KhqrError> {
    let currency_code = match request.currency {
        Currency::Khr => "116",
        Currency::Usd => "840",
        other => return Err(KhqrError::UnsupportedCurrency(other)),
    };
    let account = field("00", request.account_id, 32);
    let additional = field("01", request.bill_number, 25);
    let timestamps = format!(
        "{}{}",
        field("00", &request.created_at.millis().to_string(), 13),
        field("01", &request.expires_at.millis().to_string(), 13)
    );
    let mut out = String::with_capacity(160);
    out.push_str(&field("00", "01", 2));
    // 12: dynamic, for one payment of a set amount.
    out.push_str(&field("01", "12", 2));
    out.push_str(&field("29", &account, 99));
    out.push_str(&field("52", "5999", 4));
    out.push_str(&field("53", currency_code, 3));
    out.push_str(&field(
        "54",
        &amount_text(request.amount_minor, request.currency)?,
        13,
    ));
    out.push_str(&field("58", "KH", 2));
    out.push_str(&field("59", request.merchant_name, 25));
    out.push_str(&field("60", request.merchant_city, 15));
    out.push_str(&field("62", &additional, 99));
    out.push_str(&field("99", &timestamps, 99));
    out.push_str("6304");
    let crc = crc16(out.as_bytes());
    out.push_str(&format!("{crc:04X}"));
    Ok(out)
}

/// Bakong looks payments up by the MD5 of the payload.
pub fn md5_hex(payload: &str) -> String {
    use md5::{Digest, Md5};
    Md5::digest(payload.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_ccitt_false_check_value() {
        // The catalogue check value of CRC-16/CCITT-FALSE.
        assert_eq!(crc16(b"123456789"), 0x29B1);
    }

    #[test]
    fn amounts_follow_the_currency() {
        assert_eq!(amount_text(1_050, Currency::Usd).unwrap(), "10.5");
        assert_eq!(amount_text(1_005, Currency::Usd).unwrap(), "10.05");
        assert_eq!(amount_text(100, Currency::Usd).unwrap(), "1");
        assert_eq!(amount_text(40_000, Currency::Khr).unwrap(), "40000");
        assert_eq!(amount_text(0, Currency::Khr), Err(KhqrError::InvalidAmount));
    }

    #[test]
    fn payload_has_the_khqr_tags_and_a_valid_crc() {
        let request = KhqrRequest {
            account_id: "pasar@devb",
            merchant_name: "Pasar Marketplace With A Very Long Name",
            merchant_city: "Phnom Penh",
            amount_minor: 2_550,
            currency: Currency::Usd,
            bill_number: "PSR-20261123-ABCDEFGH",
            created_at: Timestamp::from_millis(1_763_900_000_000),
            expires_at: Timestamp::from_millis(1_763_900_900_000),
        };
        let qr = payload(&request).unwrap();
        assert!(qr.starts_with("000201010212"));
        assert!(qr.contains("29140010pasar@devb"));
        assert!(qr.contains("5303840"));
        assert!(qr.contains("540425.5"));
        assert!(qr.contains("5802KH"));
        // Names are cut to the tag's maximum (25).
        assert!(qr.contains("5925Pasar Marketplace With A"));
        let (body, crc) = qr.split_at(qr.len() - 4);
        assert!(body.ends_with("6304"));
        assert_eq!(crc, format!("{:04X}", crc16(body.as_bytes())));
        assert_eq!(
            payload(&KhqrRequest {
                currency: Currency::Idr,
                ..request
            }),
            Err(KhqrError::UnsupportedCurrency(Currency::Idr))
        );
    }
}
