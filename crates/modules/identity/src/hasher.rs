//! Password hashing on a fixed set of threads. argon2id needs 19 MiB per hash; on tokio's
//! elastic blocking pool every one of dozens of threads kept its own 19 MiB in its malloc arena
//! (672 MiB RSS after a login benchmark). A fixed pool bounds both concurrency and memory.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
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

fn work(receiver: &Mutex<Receiver<Work>>) {
    let argon = Argon2::default();
    loop {
        let next = match receiver.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => return,
        };
        let Ok(item) = next else { return };
        match item {
            Work::Hash { password, reply } => {
                let salt = SaltString::generate(&mut OsRng);
                let result = argon
                    .hash_password(password.as_bytes(), &salt)
                    .map(|hash| hash.to_string())
                    .map_err(|err| err.to_string());
                let _ = reply.send(result);
            }
            Work::Verify {
                password,
                hash,
                reply,
            } => {
                let stored = match &hash {
                    Some(hash) => hash.as_str(),
                    None => DUMMY_HASH.get_or_init(|| {
                        let salt = SaltString::generate(&mut OsRng);
                        argon
                            .hash_password(b"no account has this password", &salt)
                            .map(|h| h.to_string())
                            .unwrap_or_default()
                    }),
                };
                let matches = PasswordHash::new(stored)
                    .map(|parsed| argon.verify_password(password.as_bytes(), &parsed).is_ok())
                    .unwrap_or(false);
                let _ = reply.send(matches && hash.is_some());
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
}
