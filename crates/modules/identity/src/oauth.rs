//! Pure OAuth2 rules: PKCE, scopes, redirect URIs, grant types.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::digest;

pub const CODE_TTL_SECS: i64 = 60;
pub const GRANT_TYPES: [&str; 3] = ["authorization_code", "client_credentials", "refresh_token"];

/// `BASE64URL(SHA256(verifier))`, the S256 challenge of RFC 7636.
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref())
}

/// RFC 7636: 43 to 128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
pub fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
}

/// A challenge is the base64url of a SHA-256 digest: 43 characters.
pub fn valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

pub fn split(list: &str) -> Vec<&str> {
    list.split_whitespace().collect()
}

/// The scopes granted: what was asked, if the client may have all of it; the client's scopes
/// when nothing was asked. None when something asked is not allowed.
pub fn grant_scope(requested: Option<&str>, allowed: &str) -> Option<String> {
    let allowed = split(allowed);
    match requested.map(str::trim).filter(|r| !r.is_empty()) {
        None => Some(allowed.join(" ")),
        Some(requested) => {
            let asked = split(requested);
            asked
                .iter()
                .all(|s| allowed.contains(s))
                .then(|| asked.join(" "))
        }
    }
}

/// Redirect URIs match exactly: no prefix, wildcard or normalisation.
pub fn redirect_allowed(registered: &str, presented: &str) -> bool {
    split(registered).contains(&presented)
}

/// Absolute `https` URIs, or `http` on loopback for native apps and development (RFC 8252).
pub fn valid_redirect_uri(uri: &str) -> bool {
    let no_fragment = !uri.contains('#');
    let https = uri.starts_with("https://") && uri.len() > "https://".len();
    let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|prefix| {
            uri.strip_prefix(prefix).is_some_and(|rest| {
                rest.is_empty() || rest.starts_with(':') || rest.starts_with('/')
            })
        });
    no_fragment && !uri.contains(char::is_whitespace) && (https || loopback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_the_rfc_example() {
        // RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            s256_challenge(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(valid_verifier(verifier));
        assert!(valid_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!valid_verifier("short"));
        assert!(!valid_verifier(&format!("{}!", "a".repeat(50))));
    }

    #[test]
    fn scopes_are_a_subset_of_the_clients() {
        assert_eq!(
            grant_scope(None, "profile email").as_deref(),
            Some("profile email")
        );
        assert_eq!(
            grant_scope(Some("email"), "profile email").as_deref(),
            Some("email")
        );
        assert_eq!(grant_scope(Some("admin"), "profile email"), None);
        assert_eq!(
            grant_scope(Some("  "), "profile").as_deref(),
            Some("profile")
        );
    }

    #[test]
    fn redirects_match_exactly() {
        let registered = "https://app.example/cb http://127.0.0.1:8765/cb";
        assert!(redirect_allowed(registered, "https://app.example/cb"));
        assert!(!redirect_allowed(registered, "https://app.example/cb/"));
        assert!(!redirect_allowed(registered, "https://app.example/cb?x=1"));
        assert!(!redirect_allowed(registered, "https://app.example"));
        assert!(valid_redirect_uri("https://app.example/cb"));
        assert!(valid_redirect_uri("http://127.0.0.1:8765/cb"));
        assert!(!valid_redirect_uri("http://app.example/cb"));
        assert!(!valid_redirect_uri("https://app.example/cb#frag"));
        assert!(!valid_redirect_uri("http://localhost.evil.example/cb"));
    }
}
