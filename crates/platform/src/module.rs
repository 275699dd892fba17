//! Modules and the services they are given.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use kernel::{Actor, ActorKind, ApiError};
use utoipa_axum::router::OpenApiRouter;

use crate::bus::{BoxError, BusSignal, Subscription};
use crate::cache::Cache;
use crate::config::Config;
use crate::db::{Db, Tx};
use crate::http::{rate_limited, Authenticator, ClassPolicy};
use crate::jobs::JobSpec;
use crate::keyring::Keyring;
use crate::migrate::Migration;
use crate::ratelimit::RateLimiter;

/// The runtime services every module gets. Cheap to clone.
#[derive(Clone)]
pub struct Context {
    pub config: Arc<Config>,
    pub db: Db,
    pub keyring: Arc<Keyring>,
    /// Keys of offline-verifiable codes (voucher QR tokens); published in the same JWKS.
    pub code_keyring: Arc<Keyring>,
    pub authenticator: Arc<Authenticator>,
    pub cache: Arc<dyn Cache>,
    /// None when rate limiting is disabled by configuration.
    pub limiter: Option<Arc<dyn RateLimiter>>,
    pub bus: BusSignal,
    /// Typed clients of other modules call through this.
    pub services: crate::services::Services,
    /// The transport behind `services`, completed once the modules are assembled.
    pub mesh: crate::services::ServiceMesh,
    /// The listening address, known once the server is bound.
    pub bound_url: Arc<std::sync::OnceLock<String>>,
    /// The Redis connection when `cache.url` is set (shared caches, limits, readiness).
    pub redis: Option<redis::aio::ConnectionManager>,
    /// Tells other processes to drop what they cached of a change made here.
    pub invalidations: crate::cache::Invalidations,
    /// Live frames for other processes' connections (chat), on its own channel.
    pub fanout: crate::cache::Fanout,
    /// Seals secrets that events carry (one-time tokens a notification delivers).
    pub sealer: crate::secrets::Sealer,
}

impl Context {
    /// The base URL clients reach this server at: configured, or the bound address.
    pub fn public_url(&self) -> String {
        self.config
            .http
            .public_url
            .clone()
            .or_else(|| self.bound_url.get().cloned())
            .unwrap_or_else(|| format!("http://{}", self.config.http.addr))
            .trim_end_matches('/')
            .to_owned()
    }

    /// Commits and wakes the dispatcher, so events written in `tx` go out without waiting for
    /// the next poll.
    pub async fn commit(&self, tx: Tx) -> Result<(), sqlx::Error> {
        tx.commit().await?;
        self.bus.wake();
        Ok(())
    }

    /// Refuses `action` to a user whose email is not verified, when configuration says so
    /// (`auth.unverified_may_not`). Service clients and API keys are not gated here.
    pub fn require_verified(&self, actor: &Actor, action: &str) -> Result<(), ApiError> {
        let gated = self
            .config
            .auth
            .unverified_may_not
            .iter()
            .any(|a| a == action);
        if gated && actor.kind == ActorKind::User && !actor.email_verified {
            return Err(ApiError::forbidden("Verify your email address first")
                .with_code("verification_required"));
        }
        Ok(())
    }

    /// Counts every request of `router` against the rate limit of its class.
    pub fn rate_limited<S: Clone + Send + Sync + 'static>(
        &self,
        router: OpenApiRouter<S>,
        policy: ClassPolicy,
    ) -> OpenApiRouter<S> {
        rate_limited(router, self.limiter.clone(), policy)
    }
}

pub type StartHook = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;

/// What a module contributes once it is given its context.
#[derive(Default)]
pub struct ModuleParts {
    pub routes: OpenApiRouter,
    pub subscriptions: Vec<Subscription>,
    pub jobs: Vec<JobSpec>,
    /// Runs once at start, after migrations and before serving (e.g. warming caches).
    pub on_start: Option<StartHook>,
}

pub type BuildFn = Arc<dyn Fn(&Context) -> ModuleParts + Send + Sync>;
pub type RemoteHook = Arc<dyn Fn(&Context) + Send + Sync>;

/// A bounded context: its name (also its event consumer name and table prefix), its
/// migrations, and how to build its parts.
#[derive(Clone)]
pub struct Module {
    pub name: &'static str,
    pub migrations: &'static [Migration],
    pub build: BuildFn,
    /// Runs in processes where this module is not local: installs what the edge needs from it
    /// through its typed client (e.g. merchant memberships for every request).
    pub when_remote: Option<RemoteHook>,
    /// The events it publishes, from its contract (the event catalogue reads them).
    pub publishes: fn() -> Vec<kernel::EventSpec>,
    /// The problem codes it answers with, from its contract (the error catalogue reads them).
    pub answers: fn() -> Vec<kernel::call::CodeSpec>,
    /// Its section of the configuration, when it has one.
    pub config: Option<crate::config::SectionSpec>,
    /// When it signs codes verified offline: how long (seconds) a retired key must keep
    /// verifying them, read from the configuration.
    pub code_key_retention: Option<fn(&Config) -> i64>,
}

impl Module {
    pub fn new(
        name: &'static str,
        migrations: &'static [Migration],
        build: impl Fn(&Context) -> ModuleParts + Send + Sync + 'static,
    ) -> Self {
        Self {
            name,
            migrations,
            build: Arc::new(build),
            when_remote: None,
            publishes: Vec::new,
            answers: Vec::new,
            config: None,
            code_key_retention: None,
        }
    }

    pub fn publishes(mut self, events: fn() -> Vec<kernel::EventSpec>) -> Self {
        self.publishes = events;
        self
    }

    /// Declares the module's configuration section; start refuses a section that does not
    /// read as `T`.
    pub fn configured<T: crate::config::ModuleConfig>(mut self) -> Self {
        self.config = Some(crate::config::SectionSpec::of::<T>());
        self
    }

    pub fn signs_offline_codes(mut self, retention_secs: fn(&Config) -> i64) -> Self {
        self.code_key_retention = Some(retention_secs);
        self
    }

    pub fn answers(mut self, codes: fn() -> Vec<kernel::call::CodeSpec>) -> Self {
        self.answers = codes;
        self
    }

    pub fn when_remote(mut self, hook: impl Fn(&Context) + Send + Sync + 'static) -> Self {
        self.when_remote = Some(Arc::new(hook));
        self
    }
}
