//! One-time secrets handed to people (invitation links and the like): random, stored only as a
//! hash so a database leak does not leak usable tokens, and sealed when an event carries them
//! to the module that delivers them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use kernel::Sealed;
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};

/// 256 random bits, base64url without padding.
pub fn random_token() -> Result<String, ring::error::Unspecified> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// `n` random bytes from the system's secure generator.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, ring::error::Unspecified> {
    let mut bytes = vec![0u8; n];
    SystemRandom::new().fill(&mut bytes)?;
    Ok(bytes)
}

/// SHA-256 of a token, base64url: what is stored and looked up.
pub fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        token.as_bytes(),
    ))
}

/// What a sealed field's key is derived for: the master key seals nothing else this way.
const SEALED_FIELDS_INFO: &[u8] = b"pasar sealed event fields v1";
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("no randomness for a nonce")]
    Random,
    #[error("the sealed value is not one this master key sealed, or it was altered")]
    Open,
}

/// Seals and opens [`Sealed`] event fields (AES-256-GCM, random nonce, key derived from the
/// master key), so every process sharing the master key opens what another sealed.
#[derive(Clone)]
pub struct Sealer(LessSafeKey);

impl Sealer {
    /// The sealer of `master_key` (the 32 bytes every process of a deployment shares).
    pub fn new(master_key: &[u8]) -> Self {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"pasar").extract(master_key);
        let okm = prk
            .expand(&[SEALED_FIELDS_INFO], &aead::AES_256_GCM)
            .expect("an AES-256 key is a valid HKDF output length");
        Self(LessSafeKey::new(UnboundKey::from(okm)))
    }

    /// A sealer with a key of its own, for processes that never open anything (the OpenAPI
    /// document is built without the master key).
    pub fn ephemeral() -> Self {
        let mut key = [0u8; 32];
        let _ = SystemRandom::new().fill(&mut key);
        Self::new(&key)
    }

    pub fn seal(&self, secret: &str) -> Result<Sealed, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SealError::Random)?;
        let mut buffer = secret.as_bytes().to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(SEALED_FIELDS_INFO),
                &mut buffer,
            )
            .map_err(|_| SealError::Random)?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&buffer);
        Ok(Sealed(URL_SAFE_NO_PAD.encode(sealed)))
    }

    pub fn open(&self, sealed: &Sealed) -> Result<String, SealError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(sealed.0.as_bytes())
            .map_err(|_| SealError::Open)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Open);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Open)?;
        let mut buffer = ciphertext.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(SEALED_FIELDS_INFO), &mut buffer)
            .map_err(|_| SealError::Open)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SealError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_fields_open_only_under_the_same_master_key() {
        let sealer = Sealer::new(&[7u8; 32]);
        let sealed = sealer.seal("one-time-token").unwrap();
        assert!(!sealed.0.contains("one-time-token"));
        assert_ne!(
            sealer.seal("one-time-token").unwrap(),
            sealed,
            "nonces differ"
        );
        assert_eq!(
            Sealer::new(&[7u8; 32]).open(&sealed).unwrap(),
            "one-time-token"
        );
        assert!(Sealer::new(&[8u8; 32]).open(&sealed).is_err());
        let mut altered = sealed.0.clone();
        altered.replace_range(20..21, if &altered[20..21] == "A" { "B" } else { "A" });
        assert!(sealer.open(&Sealed(altered)).is_err());
    }

    #[test]
    fn tokens_are_distinct_and_hashes_stable() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
