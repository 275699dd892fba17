//! API keys: created by admins for a user (merchant owners, once merchants exist), scoped,
//! stored as digests, shown once, revocable, with a last-used time.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use kernel::{Actor, ActorKind, Timestamp};
use platform::http::auth::ApiKeyVerifier;
use uuid::Uuid;

use super::{Identity, IdentityError, Result};
use crate::api::*;
use crate::domain;
use crate::store::{self, ApiKeyRow};

/// How long a verified key is trusted without asking the database again; a revocation in
/// another process takes effect within this time (at once in this one).
pub const API_KEY_CACHE_TTL: Duration = Duration::from_secs(30);

fn view(row: ApiKeyRow) -> ApiKeyView {
    ApiKeyView {
        id: row.id,
        owner_id: row.owner_id,
        name: row.name,
        prefix: row.prefix,
        scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
        created_at: Timestamp::from_millis(row.created_at),
        last_used_at: row.last_used_at.map(Timestamp::from_millis),
        revoked_at: row.revoked_at.map(Timestamp::from_millis),
    }
}

impl Identity {
    pub async fn create_api_key(
        &self,
        admin: &Actor,
        request: CreateApiKeyRequest,
    ) -> Result<CreatedApiKey> {
        let name = domain::validate_name("name", &request.name)
            .map_err(|e| IdentityError::Invalid(vec![e]))?;
        if request.scopes.is_empty()
            || request
                .scopes
                .iter()
                .any(|s| s.is_empty() || s.contains(char::is_whitespace) || s.len() > 64)
        {
            return Err(IdentityError::Invalid(vec![kernel::FieldError {
                field: "scopes".into(),
                message: "must be one or more scope names without spaces".into(),
            }]));
        }
        store::user_by_id(&self.ctx.db, request.owner_id)
            .await?
            .filter(|u| u.status == "ACTIVE")
            .ok_or(IdentityError::UserNotFound)?;
        let key = format!("pk_{}", self.new_refresh_token()?);
        let row = store::insert_api_key(
            &self.ctx.db,
            &store::NewApiKey {
                id: kernel::new_id(),
                owner_id: request.owner_id,
                name: &name,
                prefix: &key[..10],
                key_hash: &domain::hash_refresh_token(&key),
                scopes: &request.scopes.join(" "),
                created_by: admin.user_id,
                now: Timestamp::now(),
            },
        )
        .await?;
        Ok(CreatedApiKey {
            view: view(row),
            key,
        })
    }

    pub async fn api_keys(&self, owner: Option<Uuid>) -> Result<Vec<ApiKeyView>> {
        Ok(store::api_keys(&self.ctx.db, owner)
            .await?
            .into_iter()
            .map(view)
            .collect())
    }
}

impl Identity {
    pub async fn revoke_api_key(&self, id: Uuid) -> Result<()> {
        let hash = store::revoke_api_key(&self.ctx.db, id, Timestamp::now())
            .await?
            .ok_or(IdentityError::ApiKeyNotFound)?;
        if let Ok(mut cache) = self.api_key_cache.write() {
            cache.remove(&hash);
        }
        // Other processes cache verified keys too (identity's other instances, and the edge of
        // processes without identity).
        self.ctx.invalidations.publish(API_KEYS_TOPIC, &hash);
        Ok(())
    }

    /// Drops keys revoked by other processes from this one's cache.
    pub fn follow_revocations(&self) {
        let cache = self.api_key_cache.clone();
        self.ctx
            .invalidations
            .subscribe(API_KEYS_TOPIC, move |digest| forget_key(&cache, digest));
    }

    /// A key as the edge of another process needs it (internal route).
    pub async fn verified_api_key(&self, key: &str) -> Option<VerifiedApiKey> {
        let actor = self.verify_api_key(key).await?;
        Some(VerifiedApiKey {
            key_id: actor.token_id.parse().ok()?,
            owner_id: actor.user_id,
            roles: actor.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            scopes: actor.scopes,
        })
    }

    async fn lookup_api_key(&self, hash: &str) -> Option<Actor> {
        let db = &self.ctx.db;
        let key = store::live_api_key(db, hash).await.ok().flatten()?;
        if key.status != "ACTIVE" {
            return None;
        }
        if let Err(err) = store::touch_api_key(db, key.id, Timestamp::now()).await {
            tracing::warn!(error = %err, "could not record API key use");
        }
        Some(Actor {
            kind: ActorKind::ApiKey,
            user_id: key.owner_id,
            roles: domain::roles_from_text(&key.roles),
            session_id: None,
            token_id: key.id.to_string(),
            token_expires_at: i64::MAX,
            client_id: Some(format!("key:{}", key.id)),
            scopes: key.scopes.split_whitespace().map(str::to_owned).collect(),
            email_verified: false,
            memberships: Vec::new(),
        })
    }

    async fn verify_api_key(&self, key: &str) -> Option<Actor> {
        if !key.starts_with("pk_") || key.len() > 128 {
            return None;
        }
        let hash = domain::hash_refresh_token(key);
        let cached = self.api_key_cache.read().ok().and_then(|cache| {
            cache
                .get(&hash)
                .filter(|(_, at)| at.elapsed() < API_KEY_CACHE_TTL)
                .map(|(actor, _)| actor.clone())
        });
        if cached.is_some() {
            return cached;
        }
        let actor = self.lookup_api_key(&hash).await?;
        if let Ok(mut cache) = self.api_key_cache.write() {
            if cache.len() > 10_000 {
                cache.retain(|_, (_, at)| at.elapsed() < API_KEY_CACHE_TTL);
            }
            cache.insert(hash, (actor.clone(), Instant::now()));
        }
        Some(actor)
    }
}

/// Drops `digest` (or everything, for `*`) from a cache of verified keys.
pub fn forget_key<T>(cache: &RwLock<HashMap<String, T>>, digest: &str) {
    if let Ok(mut cache) = cache.write() {
        if digest == "*" {
            cache.clear();
        } else {
            cache.remove(digest);
        }
    }
}

/// Recently verified keys: digest → (actor, when verified).
pub type ApiKeyCache = RwLock<HashMap<String, (Actor, Instant)>>;

/// The edge's view of API keys.
pub struct ApiKeyCheck(pub Arc<Identity>);

#[async_trait]
impl ApiKeyVerifier for ApiKeyCheck {
    async fn verify(&self, key: &str) -> Option<Actor> {
        self.0.verify_api_key(key).await
    }
}
