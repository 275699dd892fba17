//! identity's contract (DTOs, events, typed client, error codes) lives in `identity-contract`.

pub use identity_contract::*;

/// API keys for the edge of a process that does not run identity: asked of identity, cached
/// 30 s, dropped when identity says a key was revoked.
pub struct RemoteApiKeys {
    services: platform::services::Services,
    verified:
        std::sync::RwLock<std::collections::HashMap<String, (kernel::Actor, std::time::Instant)>>,
}

impl RemoteApiKeys {
    pub fn new(
        services: platform::services::Services,
        invalidations: &platform::cache::Invalidations,
    ) -> std::sync::Arc<Self> {
        let keys = std::sync::Arc::new(Self {
            services,
            verified: Default::default(),
        });
        let local = keys.clone();
        invalidations.subscribe(API_KEYS_TOPIC, move |digest| {
            crate::service::forget_key(&local.verified, digest)
        });
        keys
    }
}

#[async_trait::async_trait]
impl platform::http::auth::ApiKeyVerifier for RemoteApiKeys {
    async fn verify(&self, key: &str) -> Option<kernel::Actor> {
        let digest = crate::domain::hash_refresh_token(key);
        let cached = self.verified.read().ok().and_then(|verified| {
            verified
                .get(&digest)
                .filter(|(_, at)| at.elapsed() < crate::service::API_KEY_CACHE_TTL)
                .map(|(actor, _)| actor.clone())
        });
        if cached.is_some() {
            return cached;
        }
        let answer: Result<Option<VerifiedApiKey>, _> = self
            .services
            .call(
                "identity-edge",
                axum::http::Method::POST,
                "/internal/v1/identity/api-keys/verify",
                Some(&ApiKeyToVerify {
                    key: key.to_owned(),
                }),
            )
            .await;
        let actor = match answer {
            Ok(verified) => verified?.actor(),
            Err(err) => {
                // Failing closed: the request is treated as carrying an invalid key.
                tracing::error!(error = %err, "cannot verify an API key with identity");
                return None;
            }
        };
        if let Ok(mut verified) = self.verified.write() {
            if verified.len() > 10_000 {
                verified.clear();
            }
            verified.insert(digest, (actor.clone(), std::time::Instant::now()));
        }
        Some(actor)
    }
}
