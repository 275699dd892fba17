//! Tracking numbers the couriers' adapters generate (prefix, ten digits, a Luhn check digit)
//! and the signature of courier webhooks.

use ring::hmac;

/// The header a courier signs its webhooks in.
pub const SIGNATURE_HEADER: &str = "x-pasar-signature";

/// Longest tracking number kept (orders accepts as long).
pub const TRACKING_MAX: usize = 100;

/// The Luhn check digit of a string of ASCII digits.
fn luhn(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            // Counted from the right, the check digit will be position 0: double the odd ones.
            if i % 2 == 0 {
                let twice = d * 2;
                if twice > 9 {
                    twice - 9
                } else {
                    twice
                }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

/// `prefix` + ten digits of `random` + a check digit, e.g. `JNE00123456789` + `4`.
pub fn tracking_number(prefix: &str, random: u64) -> String {
    let digits = format!("{:010}", random % 10_000_000_000);
    let check = luhn(&digits);
    format!("{prefix}{digits}{check}")
}

/// Whether `number` is one [`tracking_number`] made with `prefix` (the check digit holds).
pub fn is_generated(prefix: &str, number: &str) -> bool {
    let Some(rest) = number.strip_prefix(prefix) else {
        return false;
    };
    if rest.len() != 11 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (digits, check) = rest.split_at(10);
    check.bytes().next().map(|b| u32::from(b - b'0')) == Some(luhn(digits))
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn key(secret: &str) -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes())
}

/// What is signed: the timestamp, a dot, the raw body. The timestamp is inside the MAC, so a
/// captured delivery cannot be replayed later under a fresh timestamp.
fn signed_bytes(timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut message = format!("{timestamp}.").into_bytes();
    message.extend_from_slice(body);
    message
}

/// The `X-Pasar-Signature` value of `body` sent at `timestamp` (unix seconds):
/// `t=<timestamp>,v1=<hex HMAC-SHA256>`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = hmac::sign(&key(secret), &signed_bytes(timestamp, body));
    format!("t={timestamp},v1={}", kernel::hex(tag.as_ref()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// Missing, malformed, or no `v1` verifies.
    Invalid,
    /// Verifies, but its timestamp is too far from now.
    Stale,
}

/// Checks a signature header against the raw body: some `v1` must verify (several may be
/// sent while a courier rotates its secret), then its timestamp must be within `tolerance`
/// seconds of `now`. The comparison is constant-time (ring).
pub fn verify_signature(
    secret: &str,
    header: Option<&str>,
    body: &[u8],
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Invalid)?;
    let mut timestamp = None;
    let mut tags = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => tags.extend(unhex(value)),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Invalid)?;
    let key = key(secret);
    let message = signed_bytes(timestamp, body);
    if !tags
        .iter()
        .any(|tag| hmac::verify(&key, &message, tag).is_ok())
    {
        return Err(SignatureError::Invalid);
    }
    if (now_secs - timestamp).abs() > tolerance_secs.max(0) {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_numbers_carry_their_check_digit() {
        let number = tracking_number("JNE", 123_456_789);
        assert_eq!(number.len(), 3 + 11);
        assert!(number.starts_with("JNE0123456789"));
        assert!(is_generated("JNE", &number));
        // A changed digit fails the check; another prefix is not this courier's.
        let mut typo = number.clone().into_bytes();
        typo[5] = if typo[5] == b'9' { b'8' } else { typo[5] + 1 };
        assert!(!is_generated("JNE", &String::from_utf8(typo).unwrap()));
        assert!(!is_generated("SIM", &number));
        assert!(!is_generated("JNE", "JNE123"));
        // The textbook Luhn example: 7992739871 has check digit 3.
        assert_eq!(luhn("7992739871"), 3);
    }

    #[test]
    fn signatures_verify_within_the_tolerance_only() {
        let body = br#"{"eventId":"e1"}"#;
        let header = signature("s3cret", 1_000, body);
        assert!(header.starts_with("t=1000,v1="));
        assert_eq!(
            verify_signature("s3cret", Some(&header), body, 1_100, 300),
            Ok(())
        );
        assert_eq!(
            verify_signature("s3cret", Some(&header), body, 1_400, 300),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify_signature("other", Some(&header), body, 1_000, 300),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            verify_signature("s3cret", Some(&header), b"{}", 1_000, 300),
            Err(SignatureError::Invalid)
        );
        // The timestamp is signed: moving it breaks the signature.
        let moved = header.replace("t=1000", "t=1300");
        assert_eq!(
            verify_signature("s3cret", Some(&moved), body, 1_300, 300),
            Err(SignatureError::Invalid)
        );
        // During a rotation either secret's tag verifies.
        let rotated = format!(
            "{},v1={}",
            signature("old", 1_000, body),
            &header[header.find("v1=").unwrap() + 3..]
        );
        assert_eq!(
            verify_signature("s3cret", Some(&rotated), body, 1_000, 300),
            Ok(())
        );
        assert_eq!(
            verify_signature("s3cret", None, body, 1_000, 300),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            verify_signature("s3cret", Some("t=x,v1=zz"), body, 1_000, 300),
            Err(SignatureError::Invalid)
        );
    }
}
