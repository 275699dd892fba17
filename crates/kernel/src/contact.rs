//! Shapes of contact details shared by every module that takes them (accounts, merchants).

/// Lower-cases and trims an email, if it has the shape of one (deliverability is what
/// verification is for).
pub fn normalize_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (local, domain) = email.split_once('@')?;
    let domain_ok = !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    (!local.is_empty() && local.len() <= 64 && domain_ok).then_some(email)
}

/// A phone number in E.164 (`+` and 8 to 15 digits), dropping spaces, dashes, dots and
/// parentheses; None when it is not one.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = compact.strip_prefix('+').unwrap_or("");
    let valid = (8..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    valid.then_some(compact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_are_normalized() {
        assert_eq!(
            normalize_email(" Dara@Example.COM ").as_deref(),
            Some("dara@example.com")
        );
        assert_eq!(normalize_email("a@b"), None);
        assert_eq!(normalize_email("a@@b.com"), None);
        assert_eq!(
            normalize_phone("+855 12-345 678").as_deref(),
            Some("+85512345678")
        );
        assert_eq!(normalize_phone("012345678"), None);
        assert_eq!(normalize_phone("+0123456789"), None);
    }
}
