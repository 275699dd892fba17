//! Password hashing on a fixed set of threads. argon2id needs 19 MiB per hash; on tokio's
//! elastic blocking pool every one of dozens of threads kept its own 19 MiB in its malloc arena
//! (672 MiB RSS after a login benchmark). A fixed pool bounds both concurrency and memory, and
//! each thread reuses one block of argon2 memory instead of allocating (and page-faulting)
//! 19 MiB per hash.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version, ARGON2ID_IDENT};
use tokio::sync::oneshot;

enum Work {
    Hash {
        password: String,
        reply: oneshot::Sender<Result<String, String>>,
    },
    /// Verifies against `hash`, or against a dummy hash when there is no account, so unknown
    /// accounts cost the same time as wrong passwords.
    Verify {
        password: String,
        hash: Option<String>,
        reply: oneshot::Sender<bool>,
    },
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing: {0}")]
pub struct HashError(String);

pub struct PasswordHashers {
    queue: SyncSender<Work>,
}

static DUMMY_HASH: OnceLock<String> = OnceLock::new();

impl PasswordHashers {
    /// Starts `threads` hashing threads; requests beyond what they can take wait in a short
    /// queue, then in async callers.
    pub fn start(threads: usize) -> Self {
        let (queue, receiver) = sync_channel::<Work>(threads * 4);
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..threads.max(1) {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || work(&receiver));
            if let Err(err) = spawned {
                tracing::error!(error = %err, "cannot start a password hashing thread");
            }
        }
        Self { queue }
    }

    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Work::Hash {
            password: password.to_owned(),
            reply,
        })
        .await?;
        answer
            .await
            .map_err(|_| HashError("hashing thread gone".into()))?
            .map_err(HashError)
    }

    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, HashError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Work::Verify {
            password: password.to_owned(),
            hash: hash.map(str::to_owned),
            reply,
        })
        .await?;
        answer
            .await
            .map_err(|_| HashError("hashing thread gone".into()))
    }

    async fn submit(&self, work: Work) -> Result<(), HashError> {
        let mut work = work;
        loop {
            match self.queue.try_send(work) {
                Ok(()) => return Ok(()),
                Err(std::sync::mpsc::TrySendError::Full(back)) => {
                    work = back;
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
                Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
                    return Err(HashError("no hashing threads".into()))
                }
            }
        }
    }
}

/// One hashing thread's state: its reusable argon2 memory.
struct Worker {
    params: Params,
    blocks: Vec<Block>,
}

impl Worker {
    /// The memory is taken at the first hash, so an idle process does not hold it.
    fn new() -> Self {
        Self {
            params: Params::default(),
            blocks: Vec::new(),
        }
    }

    fn blocks_for(&mut self, params: &Params) -> &mut [Block] {
        let needed = params.block_count();
        if self.blocks.len() < needed {
            self.blocks.resize(needed, Block::default());
        }
        &mut self.blocks[..needed]
    }

    /// A PHC string (`$argon2id$v=19$m=...`) of the default parameters, like
    /// `PasswordHasher::hash_password` produces.
    fn hash(&mut self, password: &[u8]) -> Result<String, String> {
        let params = self.params.clone();
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_buffer = [0u8; 64];
        let raw_salt = salt
            .decode_b64(&mut salt_buffer)
            .map_err(|e| e.to_string())?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        argon
            .hash_password_into_with_memory(password, raw_salt, &mut out, self.blocks_for(&params))
            .map_err(|e| e.to_string())?;
        let hash = PasswordHash {
            algorithm: ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
        };
        Ok(hash.to_string())
    }

    /// Checks a password against any argon2 PHC string (other parameters included).
    fn verify(&mut self, password: &[u8], phc: &str) -> bool {
        let Ok(hash) = PasswordHash::new(phc) else {
            return false;
        };
        let (Some(expected), Some(salt)) = (hash.hash, hash.salt) else {
            return false;
        };
        let (Ok(algorithm), Ok(params)) =
            (Algorithm::try_from(hash.algorithm), Params::try_from(&hash))
        else {
            return false;
        };
        let version = match hash.version.map(Version::try_from) {
            None => Version::V0x13,
            Some(Ok(version)) => version,
            Some(Err(_)) => return false,
        };
        let mut salt_buffer = [0u8; 64];
        let Ok(raw_salt) = salt.decode_b64(&mut salt_buffer) else {
            return false;
        };
        let argon = Argon2::new(algorithm, version, params.clone());
        let mut out = vec![0u8; expected.len()];
        if argon
            .hash_password_into_with_memory(password, raw_salt, &mut out, self.blocks_for(&params))
            .is_err()
        {
            return false;
        }
        // Output's equality is constant-time.
        Output::new(&out).is_ok_and(|computed| computed == expected)
    }
}

fn work(receiver: &Mutex<Receiver<Work>>) {
    let mut worker = Worker::new();
    loop {
        let next = match receiver.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => return,
        };
        let Ok(item) = next else { return };
        match item {
            Work::Hash { password, reply } => {
                let _ = reply.send(worker.hash(password.as_bytes()));
            }
            Work::Verify {
                password,
                hash,
                reply,
            } => {
                let matches = match &hash {
                    Some(stored) => worker.verify(password.as_bytes(), stored),
                    None => {
                        let dummy = DUMMY_HASH.get_or_init(|| {
                            worker
                                .hash(b"no account has this password")
                                .unwrap_or_default()
                        });
                        // The same work as a real check; the answer is no whatever it says.
                        let _ = worker.verify(password.as_bytes(), dummy);
                        false
                    }
                };
                let _ = reply.send(matches);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() {
        let hashers = PasswordHashers::start(2);
        let hash = hashers.hash("Str0ng!Pass").await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(hashers.verify("Str0ng!Pass", Some(&hash)).await.unwrap());
        assert!(!hashers.verify("wrong", Some(&hash)).await.unwrap());
        assert!(!hashers.verify("Str0ng!Pass", None).await.unwrap());
        let many =
            futures_util::future::join_all((0..20).map(|_| hashers.verify("x", Some(&hash)))).await;
        assert!(many.iter().all(|r| matches!(r, Ok(false))));
    }

    #[tokio::test]
    async fn compatible_with_the_standard_argon2_api() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let hashers = PasswordHashers::start(1);
        // Ours verifies with the crate's own verifier...
        let ours = hashers.hash("Str0ng!Pass").await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"Str0ng!Pass", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"Wrong!Pass1", &parsed)
            .is_err());
        // ...and hashes made elsewhere, with other parameters, verify with ours.
        let salt = SaltString::generate(&mut OsRng);
        let light = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8192, 3, 1, None).unwrap(),
        );
        let theirs = light
            .hash_password(b"Str0ng!Pass", &salt)
            .unwrap()
            .to_string();
        assert!(hashers.verify("Str0ng!Pass", Some(&theirs)).await.unwrap());
        assert!(!hashers.verify("Wrong!Pass1", Some(&theirs)).await.unwrap());
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::default())
            .hash_password(b"Str0ng!Pass", &salt)
            .unwrap()
            .to_string();
        assert!(hashers.verify("Str0ng!Pass", Some(&argon2i)).await.unwrap());
        assert!(!hashers
            .verify("Str0ng!Pass", Some("not a hash"))
            .await
            .unwrap());
    }
}
