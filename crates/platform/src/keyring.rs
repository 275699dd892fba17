//! ES256 signing keys: generated on first start, stored in the database with the private half
//! sealed (AES-256-GCM) under a master key, rotated by `pasar keys rotate`. Retired keys stay in
//! the JWKS until every token they signed has expired.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use kernel::Timestamp;
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::db::{Db, Dialect, Tx};
use crate::{on_db, on_tx};

pub const PURPOSE_ACCESS_TOKEN: &str = "access_token";
/// Keys of codes verified offline and on paper (voucher QR codes; the stored name stays).
pub const PURPOSE_OFFLINE_CODE: &str = "voucher_code";
const MASTER_KEY_FILE: &str = "master.key";

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("key store: {0}")]
    Database(#[from] sqlx::Error),
    #[error("master key: {0}")]
    MasterKey(String),
    #[error(
        "a stored private key could not be unsealed: wrong master key or corrupted row ({kid})"
    )]
    Unseal { kid: String },
    #[error("key material: {0}")]
    Crypto(String),
    #[error("no signing key is loaded")]
    NoSigningKey,
}

/// Why a token was refused. Callers answer 401 for all of them; the variant is for logs/tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token header has no key id")]
    MissingKid,
    #[error("token is signed by an unknown key")]
    UnknownKid,
    #[error("token is invalid: {0}")]
    Invalid(String),
}

/// The key that seals private keys at rest (and, derived from it, event fields).
pub struct MasterKey(LessSafeKey, crate::secrets::Sealer);

impl MasterKey {
    /// From configuration (base64 of 32 bytes), or else from `master.key` in the data dir,
    /// created with mode 0600 on first use.
    pub fn load(configured: Option<&str>, data_dir: &Path) -> Result<Self, KeyringError> {
        let encoded = match configured {
            Some(value) => value.trim().to_owned(),
            None => read_or_create_key_file(&data_dir.join(MASTER_KEY_FILE))?,
        };
        let bytes = STANDARD
            .decode(encoded.as_bytes())
            .map_err(|_| KeyringError::MasterKey("master key is not valid base64".into()))?;
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyringError> {
        let unbound = UnboundKey::new(&aead::AES_256_GCM, bytes)
            .map_err(|_| KeyringError::MasterKey("master key must be 32 bytes".into()))?;
        Ok(Self(
            LessSafeKey::new(unbound),
            crate::secrets::Sealer::new(bytes),
        ))
    }

    /// What seals secrets in event payloads, under a key derived from this one.
    pub fn sealer(&self) -> crate::secrets::Sealer {
        self.1.clone()
    }

    fn seal(&self, kid: &str, plaintext: &[u8]) -> Result<Vec<u8>, KeyringError> {
        let mut nonce = [0u8; 12];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| KeyringError::Crypto("no randomness".into()))?;
        let mut buffer = plaintext.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut buffer,
            )
            .map_err(|_| KeyringError::Crypto("sealing failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buffer);
        Ok(out)
    }

    fn open(&self, kid: &str, sealed: &[u8]) -> Result<Vec<u8>, KeyringError> {
        let unseal = || KeyringError::Unseal {
            kid: kid.to_owned(),
        };
        if sealed.len() < 12 {
            return Err(unseal());
        }
        let (nonce, ciphertext) = sealed.split_at(12);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| unseal())?;
        let mut buffer = ciphertext.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut buffer)
            .map_err(|_| unseal())?;
        Ok(plain.to_vec())
    }
}

fn read_or_create_key_file(path: &Path) -> Result<String, KeyringError> {
    match std::fs::read_to_string(path) {
        Ok(text) => return Ok(text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => {
            return Err(KeyringError::MasterKey(format!(
                "{}: {err}",
                path.display()
            )))
        }
    }
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| KeyringError::Crypto("no randomness".into()))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|err| KeyringError::MasterKey(format!("{}: {err}", parent.display())))?;
    }
    let encoded = STANDARD.encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(encoded.as_bytes())
                .and_then(|_| file.sync_all())
                .map_err(|err| KeyringError::MasterKey(format!("{}: {err}", path.display())))?;
            Ok(encoded)
        }
        // Another process created it between our read and create: use theirs.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::read_to_string(path)
                .map_err(|err| KeyringError::MasterKey(format!("{}: {err}", path.display())))
        }
        Err(err) => Err(KeyringError::MasterKey(format!(
            "{}: {err}",
            path.display()
        ))),
    }
}

struct SigningKey {
    kid: String,
    encoding: EncodingKey,
}

#[derive(Default)]
struct KeySet {
    signing: Option<SigningKey>,
    verifying: HashMap<String, DecodingKey>,
    jwks: serde_json::Value,
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    kid: String,
    public_x: String,
    public_y: String,
    private_key_sealed: Vec<u8>,
    retired_at: Option<i64>,
}

pub struct Keyring {
    db: Db,
    master: Option<MasterKey>,
    purpose: &'static str,
    /// How long a retired key still verifies: the longest lifetime of a token it signed.
    retention_secs: i64,
    keys: RwLock<KeySet>,
    last_reload: RwLock<Option<Instant>>,
}

impl Keyring {
    /// Loads the keys of `purpose`, generating the first one if none is active.
    pub async fn load(
        db: Db,
        master: MasterKey,
        purpose: &'static str,
        retention_secs: i64,
    ) -> Result<Self, KeyringError> {
        let keyring = Self {
            db,
            master: Some(master),
            purpose,
            retention_secs,
            keys: RwLock::new(KeySet::default()),
            last_reload: RwLock::new(None),
        };
        keyring.ensure_active_key().await?;
        keyring.reload().await?;
        Ok(keyring)
    }

    /// A keyring with no keys: documents can be produced, tokens cannot be signed.
    pub fn empty(db: Db) -> Self {
        Self {
            db,
            master: None,
            purpose: PURPOSE_ACCESS_TOKEN,
            retention_secs: 0,
            keys: RwLock::new(KeySet::default()),
            last_reload: RwLock::new(None),
        }
    }

    fn master(&self) -> Result<&MasterKey, KeyringError> {
        self.master
            .as_ref()
            .ok_or_else(|| KeyringError::MasterKey("keyring has no master key".into()))
    }

    async fn ensure_active_key(&self) -> Result<(), KeyringError> {
        let mut tx = self.db.begin().await?;
        lock_keys(&mut tx).await?;
        let active: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "SELECT COUNT(*) FROM platform_signing_keys WHERE purpose = $1 AND retired_at IS NULL"
        ).bind(self.purpose).fetch_one(conn).await)?;
        if active == 0 {
            self.insert_new_key(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn insert_new_key(&self, tx: &mut Tx) -> Result<String, KeyringError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| KeyringError::Crypto("key generation failed".into()))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| KeyringError::Crypto("generated key is unreadable".into()))?;
        // Uncompressed SEC1 point: 0x04 || x (32 bytes) || y (32 bytes).
        let point = pair.public_key().as_ref();
        let x = URL_SAFE_NO_PAD.encode(&point[1..33]);
        let y = URL_SAFE_NO_PAD.encode(&point[33..65]);
        let kid = kernel::new_id().simple().to_string();
        let sealed = self.master()?.seal(&kid, pkcs8.as_ref())?;
        on_tx!(tx, conn => sqlx::query(
            "INSERT INTO platform_signing_keys (kid, purpose, algorithm, public_x, public_y, private_key_sealed, created_at)
             VALUES ($1, $2, 'ES256', $3, $4, $5, $6)"
        )
        .bind(&kid)
        .bind(self.purpose)
        .bind(&x)
        .bind(&y)
        .bind(&sealed)
        .bind(Timestamp::now().millis())
        .execute(conn).await.map(|r| r.rows_affected()))?;
        Ok(kid)
    }

    /// Adds a new signing key and retires the current ones (they keep verifying until their
    /// tokens expire). Running processes switch at their next reload.
    pub async fn rotate(&self) -> Result<String, KeyringError> {
        let mut tx = self.db.begin().await?;
        lock_keys(&mut tx).await?;
        let kid = self.insert_new_key(&mut tx).await?;
        on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE platform_signing_keys SET retired_at = $1 WHERE purpose = $2 AND retired_at IS NULL AND kid <> $3"
        ).bind(Timestamp::now().millis()).bind(self.purpose).bind(&kid).execute(conn).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        self.reload().await?;
        Ok(kid)
    }

    /// Reads the keys again from the database.
    pub async fn reload(&self) -> Result<(), KeyringError> {
        let horizon = Timestamp::now().plus_seconds(-self.retention_secs).millis();
        let rows: Vec<KeyRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT kid, public_x, public_y, private_key_sealed, retired_at FROM platform_signing_keys
             WHERE purpose = $1 AND (retired_at IS NULL OR retired_at > $2) ORDER BY created_at DESC"
        ).bind(self.purpose).bind(horizon).fetch_all(pool).await)?;
        let mut set = KeySet::default();
        let mut jwks = Vec::new();
        for row in rows {
            let decoding = DecodingKey::from_ec_components(&row.public_x, &row.public_y)
                .map_err(|err| KeyringError::Crypto(err.to_string()))?;
            if set.signing.is_none() && row.retired_at.is_none() {
                let der = self.master()?.open(&row.kid, &row.private_key_sealed)?;
                set.signing = Some(SigningKey {
                    kid: row.kid.clone(),
                    encoding: EncodingKey::from_ec_der(&der),
                });
            }
            jwks.push(serde_json::json!({
                "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig",
                "kid": row.kid, "x": row.public_x, "y": row.public_y,
            }));
            set.verifying.insert(row.kid, decoding);
        }
        set.jwks = serde_json::json!({ "keys": jwks });
        if let Ok(mut keys) = self.keys.write() {
            *keys = set;
        }
        if let Ok(mut last) = self.last_reload.write() {
            *last = Some(Instant::now());
        }
        Ok(())
    }

    /// Reloads unless a reload happened within `min_interval` (a token with an unknown `kid`
    /// may come from a key another process just rotated in, but must not make us hammer the
    /// database).
    pub async fn reload_if_stale(&self, min_interval: Duration) -> Result<bool, KeyringError> {
        let fresh = self
            .last_reload
            .read()
            .ok()
            .and_then(|last| *last)
            .is_some_and(|at| at.elapsed() < min_interval);
        if fresh {
            return Ok(false);
        }
        self.reload().await?;
        Ok(true)
    }

    pub fn jwks(&self) -> serde_json::Value {
        self.keys
            .read()
            .map(|keys| keys.jwks.clone())
            .unwrap_or_else(|_| serde_json::json!({ "keys": [] }))
    }

    pub fn current_kid(&self) -> Option<String> {
        self.keys
            .read()
            .ok()?
            .signing
            .as_ref()
            .map(|k| k.kid.clone())
    }

    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, KeyringError> {
        let keys = self.keys.read().map_err(|_| KeyringError::NoSigningKey)?;
        let signing = keys.signing.as_ref().ok_or(KeyringError::NoSigningKey)?;
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(signing.kid.clone());
        jsonwebtoken::encode(&header, claims, &signing.encoding)
            .map_err(|err| KeyringError::Crypto(err.to_string()))
    }

    /// Verifies signature and claims. Only ES256 is accepted, whatever the header says.
    pub fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
        validation: &Validation,
    ) -> Result<C, TokenError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|err| TokenError::Invalid(err.to_string()))?;
        if header.alg != Algorithm::ES256 {
            return Err(TokenError::Invalid(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let kid = header.kid.ok_or(TokenError::MissingKid)?;
        let keys = self
            .keys
            .read()
            .map_err(|_| TokenError::Invalid("keyring unavailable".into()))?;
        let key = keys.verifying.get(&kid).ok_or(TokenError::UnknownKid)?;
        let mut validation = validation.clone();
        validation.algorithms = vec![Algorithm::ES256];
        jsonwebtoken::decode::<C>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(|err| TokenError::Invalid(err.to_string()))
    }
}

async fn lock_keys(tx: &mut Tx) -> Result<(), sqlx::Error> {
    if tx.dialect() == Dialect::Postgres {
        on_tx!(tx, conn => sqlx::query("SELECT pg_advisory_xact_lock(7236784413)").execute(conn).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_the_same_master_key_and_kid() {
        let master = MasterKey::from_bytes(&[7u8; 32]).unwrap();
        let sealed = master.seal("kid-1", b"secret").unwrap();
        assert_eq!(master.open("kid-1", &sealed).unwrap(), b"secret");
        assert!(master.open("kid-2", &sealed).is_err());
        let other = MasterKey::from_bytes(&[8u8; 32]).unwrap();
        assert!(other.open("kid-1", &sealed).is_err());
        assert!(MasterKey::from_bytes(&[1u8; 16]).is_err());
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = MasterKey::load(None, dir.path()).unwrap();
        let sealed = first.seal("k", b"x").unwrap();
        let second = MasterKey::load(None, dir.path()).unwrap();
        assert_eq!(second.open("k", &sealed).unwrap(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(MASTER_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
