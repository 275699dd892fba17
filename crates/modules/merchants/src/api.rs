//! merchants' contract (DTOs, events, typed client, error codes) lives in `merchants-contract`.

pub use merchants_contract::*;

use std::collections::HashMap;

use kernel::{Membership, Services};
use uuid::Uuid;

/// Invalidation topic of cached memberships: a user id, or `*`.
pub const MEMBERSHIPS_TOPIC: &str = "memberships";

/// Memberships for the edge of a process that does not run merchants: asked of the merchants
/// process and cached as long as merchants caches them itself (`membership_cache_secs`).
pub struct RemoteMemberships {
    client: MerchantsClient,
    ttl: std::time::Duration,
    entries: std::sync::RwLock<HashMap<Uuid, (Vec<Membership>, std::time::Instant)>>,
}

impl RemoteMemberships {
    /// Cached until `ttl`, or until merchants says they changed (through `invalidations`).
    pub fn new(
        services: Services,
        ttl: std::time::Duration,
        invalidations: &platform::cache::Invalidations,
    ) -> std::sync::Arc<Self> {
        let memberships = std::sync::Arc::new(Self {
            client: MerchantsClient::new(services, "merchants-edge"),
            ttl,
            entries: std::sync::RwLock::default(),
        });
        let local = memberships.clone();
        invalidations.subscribe(MEMBERSHIPS_TOPIC, move |key| {
            if let Ok(mut entries) = local.entries.write() {
                match Uuid::parse_str(key) {
                    Ok(user_id) => {
                        entries.remove(&user_id);
                    }
                    Err(_) => entries.clear(),
                }
            }
        });
        memberships
    }
}

#[async_trait::async_trait]
impl platform::http::MembershipSource for RemoteMemberships {
    async fn memberships(&self, user_id: Uuid) -> Vec<Membership> {
        let cached = self.entries.read().ok().and_then(|entries| {
            entries
                .get(&user_id)
                .filter(|(_, at)| at.elapsed() < self.ttl)
                .map(|(memberships, _)| memberships.clone())
        });
        if let Some(memberships) = cached {
            return memberships;
        }
        match self.client.memberships(user_id).await {
            Ok(memberships) => {
                if let Ok(mut entries) = self.entries.write() {
                    if entries.len() > 100_000 {
                        entries.clear();
                    }
                    entries.insert(user_id, (memberships.clone(), std::time::Instant::now()));
                }
                memberships
            }
            Err(err) => {
                // Failing closed: without memberships the caller is treated as a customer.
                tracing::error!(error = %err, "cannot load merchant memberships from merchants");
                Vec::new()
            }
        }
    }
}
