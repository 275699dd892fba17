//! Configuration: defaults, then `pasar.toml` (in the data dir, or `--config`), then `PASAR_*`
//! environment variables with `__` for nesting, then command-line flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub const PRODUCTION: &str = "production";
pub const DEVELOPMENT: &str = "development";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `production` (the default) or `development`: the development profile starts from
    /// defaults meant for a laptop (the payment simulator and the mock OIDC provider on, text
    /// logs); anything set explicitly still wins.
    pub profile: String,
    pub data_dir: PathBuf,
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub keyring: KeyringConfig,
    pub rate_limit: RateLimitConfig,
    pub bus: BusConfig,
    pub cache: CacheConfig,
    /// Where modules that do not run in this process are: module name → base URL, or several
    /// comma-separated URLs of instances taken in turn (`PASAR_REMOTE__ORDERS=http://...`).
    pub remote: BTreeMap<String, String>,
    pub services: ServicesConfig,
    pub gateway: GatewayConfig,
    pub jobs: JobsConfig,
    pub log: LogConfig,
    pub tracing: TracingConfig,
    /// Every other top-level section belongs to the module of that name, which declares its
    /// type ([`ModuleConfig`]) and reads it with [`Config::section`].
    #[serde(flatten)]
    pub modules: BTreeMap<String, figment::value::Value>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            profile: PRODUCTION.into(),
            data_dir: PathBuf::from("./pasar-data"),
            http: HttpConfig::default(),
            database: DatabaseConfig::default(),
            auth: AuthConfig::default(),
            keyring: KeyringConfig::default(),
            rate_limit: RateLimitConfig::default(),
            bus: BusConfig::default(),
            cache: CacheConfig::default(),
            remote: BTreeMap::new(),
            services: ServicesConfig::default(),
            gateway: GatewayConfig::default(),
            jobs: JobsConfig::default(),
            log: LogConfig::default(),
            tracing: TracingConfig::default(),
            modules: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpConfig {
    pub addr: String,
    pub body_limit_bytes: usize,
    /// The largest body of a route that takes files (media uploads); every other route keeps
    /// `body_limit_bytes`.
    pub upload_limit_bytes: usize,
    pub request_timeout_secs: u64,
    /// Origins allowed by CORS. Empty: no cross-origin access.
    pub cors_allowed_origins: Vec<String>,
    /// Take the client IP from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub shutdown_grace_secs: u64,
    /// The base URL clients reach this server at (redirects, OIDC callbacks). Unset: the
    /// address the server listens on.
    pub public_url: Option<String>,
    /// Serve `/metrics` on this address only (an admin listener, e.g. `127.0.0.1:9100`), not on
    /// `addr`. Unset: `/metrics` is on `addr` with the API, so keep it from the public at the
    /// proxy in front.
    pub metrics_addr: Option<String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8080".into(),
            body_limit_bytes: 1024 * 1024,
            upload_limit_bytes: 16 * 1024 * 1024,
            request_timeout_secs: 30,
            cors_allowed_origins: Vec::new(),
            trust_forwarded_for: false,
            shutdown_grace_secs: 20,
            public_url: None,
            metrics_addr: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseConfig {
    /// `sqlite://path` or `postgres://...`. Unset: `pasar.db` in the data dir.
    pub url: Option<String>,
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
    /// SQLite: queue this process's writers in a fair in-process lock before `BEGIN IMMEDIATE`.
    pub sqlite_writer_queue: bool,
    /// Modules that own a database of their own (`PASAR_DATABASE__MODULES__ORDERS__URL`): their
    /// tables, outbox, inbox and jobs live there. Needs the NATS bus.
    pub modules: BTreeMap<String, ModuleDatabaseConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModuleDatabaseConfig {
    pub url: String,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 16,
            acquire_timeout_secs: 5,
            sqlite_writer_queue: true,
            modules: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    /// Clock skew tolerated when checking `exp`/`iat`.
    pub leeway_secs: u64,
    pub lockout_threshold: i64,
    pub lockout_window_secs: i64,
    pub lockout_duration_secs: i64,
    /// Actions an account may not take until its email is verified (checked by the modules
    /// that own them, e.g. `checkout`).
    pub unverified_may_not: Vec<String>,
    /// Social login providers (OpenID Connect).
    pub oidc_providers: Vec<OidcProviderConfig>,
    /// Serves a mock OIDC provider named `mock` under `/dev/oidc` (development and tests only).
    pub mock_oidc: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OidcProviderConfig {
    /// The name in `/api/v1/auth/oidc/{name}/...`, e.g. `google`.
    pub name: String,
    /// Discovery happens at `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            issuer: "https://pasar.local".into(),
            audience: "pasar-api".into(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 7 * 24 * 3600,
            leeway_secs: 30,
            lockout_threshold: 5,
            lockout_window_secs: 15 * 60,
            lockout_duration_secs: 15 * 60,
            unverified_may_not: vec!["checkout".into(), "payment".into()],
            oidc_providers: Vec::new(),
            mock_oidc: false,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct KeyringConfig {
    /// Base64 of 32 random bytes encrypting private signing keys at rest. Unset: a key file
    /// `master.key` (mode 0600) is created in the data dir. Set it when several processes share
    /// one database.
    pub master_key: Option<String>,
}

/// Requests per minute per route class, per user (authenticated) or client IP.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimitConfig {
    pub enabled: bool,
    pub auth: u32,
    pub public_read: u32,
    pub authenticated: u32,
    pub write: u32,
    pub checkout: u32,
    pub payment: u32,
    /// Every request through the gateway, whatever its class: a ceiling per client in front of
    /// the per-class limits the modules apply.
    pub edge: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            auth: 30,
            public_read: 500,
            authenticated: 200,
            write: 60,
            checkout: 10,
            payment: 5,
            edge: 1200,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct BusConfig {
    /// `nats://host:port`: events travel through NATS JetStream. Unset: the embedded bus (the
    /// outbox table is the log), which needs every process on one database.
    pub url: Option<String>,
    /// Prefix of NATS subjects (`<namespace>.<module>.<event>`) and streams
    /// (`<NAMESPACE>_<MODULE>`), so several deployments can share one NATS server.
    pub namespace: String,
    /// A delivered event not acknowledged within this time is delivered again (the process
    /// handling it died).
    pub ack_wait_secs: u64,
    /// How often consumers look for events committed by other processes.
    pub poll_interval_ms: u64,
    pub batch_size: i64,
    /// Attempts before a failing event is parked as a dead letter.
    pub max_attempts: i32,
    /// First retry delay; doubles with each attempt.
    pub retry_base_ms: i64,
}

impl Default for BusConfig {
    fn default() -> Self {
        Self {
            url: None,
            namespace: "pasar".into(),
            ack_wait_secs: 30,
            poll_interval_ms: 500,
            batch_size: 200,
            max_attempts: 8,
            retry_base_ms: 1000,
        }
    }
}

/// Shared state of several processes: rate-limit counters, the access-token denylist, read
/// caches. Unset: in memory, per process.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CacheConfig {
    /// `redis://host:port/db`.
    pub url: Option<String>,
    /// Prefix of every key, so several deployments can share one Redis.
    pub prefix: String,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            url: None,
            prefix: "pasar".into(),
        }
    }
}

/// Calls between modules in different processes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ServicesConfig {
    /// Each attempt of a call gives up after this long.
    pub timeout_ms: u64,
    /// Further attempts of a call that is safe to repeat (GET, PUT, DELETE; any call that never
    /// reached the other side).
    pub retries: u32,
    /// Failures in a row after which an instance is not called for `breaker_open_secs`.
    pub breaker_failures: u32,
    pub breaker_open_secs: u64,
}

impl Default for ServicesConfig {
    fn default() -> Self {
        Self {
            timeout_ms: 5_000,
            retries: 2,
            breaker_failures: 5,
            breaker_open_secs: 10,
        }
    }
}

/// The `gateway` module: the edge in front of split processes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct GatewayConfig {
    /// How often each instance's `/health/ready` is asked.
    pub health_interval_ms: u64,
    /// A proxied request gives up after this long (504).
    pub upstream_timeout_secs: u64,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            health_interval_ms: 2_000,
            upstream_timeout_secs: 30,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct JobsConfig {
    pub poll_interval_ms: u64,
    /// A claimed job not finished within this time is taken again by another runner.
    pub lease_secs: i64,
    pub retry_base_ms: i64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            poll_interval_ms: 1000,
            lease_secs: 300,
            retry_base_ms: 5000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LogConfig {
    /// `tracing` filter, e.g. `info` or `pasar=debug,sqlx=warn`.
    pub level: String,
    /// `json` (default) or `text`.
    pub format: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: "json".into(),
        }
    }
}

/// Distributed tracing (see `platform::trace`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TracingConfig {
    /// OTLP/HTTP collector base URL, e.g. `http://127.0.0.1:4318` (spans go to
    /// `<endpoint>/v1/traces`). Unset: nothing is exported; trace ids still reach the logs.
    pub otlp_endpoint: Option<String>,
    /// `service.name` of this process's spans: name each process of a split layout.
    pub service_name: String,
    /// Share of new traces recorded (0.0 to 1.0); a trace begun elsewhere follows its caller.
    pub sample_ratio: f64,
}

impl Default for TracingConfig {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            service_name: "pasar".into(),
            sample_ratio: 1.0,
        }
    }
}

/// A module's own section of the configuration: `[<SECTION>]` in `pasar.toml`,
/// `PASAR_<SECTION>__...` in the environment.
pub trait ModuleConfig: Serialize + DeserializeOwned + Default + Send + Sync + 'static {
    const SECTION: &'static str;

    /// The section's defaults under the development profile (`profile = "development"`).
    fn development() -> Self {
        Self::default()
    }
}

/// What the platform knows of a module's section without naming its type: how to check it,
/// its defaults (for the docs test) and its development defaults.
#[derive(Clone, Copy)]
pub struct SectionSpec {
    pub name: &'static str,
    pub check: fn(&Config) -> Result<(), String>,
    pub defaults: fn() -> serde_json::Value,
    pub development: fn() -> figment::value::Value,
}

impl SectionSpec {
    pub fn of<T: ModuleConfig>() -> Self {
        fn check<T: ModuleConfig>(config: &Config) -> Result<(), String> {
            config
                .section::<T>()
                .map(|_| ())
                .map_err(|e| format!("[{}] {e}", T::SECTION))
        }
        fn defaults<T: ModuleConfig>() -> serde_json::Value {
            serde_json::to_value(T::default()).unwrap_or_default()
        }
        fn development<T: ModuleConfig>() -> figment::value::Value {
            figment::value::Value::serialize(T::development())
                .unwrap_or_else(|_| figment::value::Dict::new().into())
        }
        Self {
            name: T::SECTION,
            check: check::<T>,
            defaults: defaults::<T>,
            development: development::<T>,
        }
    }
}

/// Where configuration comes from, before command-line overrides.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    pub data_dir: Option<PathBuf>,
    pub config_file: Option<PathBuf>,
}

impl Config {
    /// Layers defaults, the TOML file and the environment. The data dir decides where the TOML
    /// file is looked for, so it is resolved first (flag, then `PASAR_DATA_DIR`, then default).
    /// `sections`: the modules' sections, whose development defaults the development profile
    /// starts from.
    pub fn load(
        sources: &ConfigSources,
        sections: &[SectionSpec],
    ) -> Result<Self, Box<figment::Error>> {
        let data_dir = sources
            .data_dir
            .clone()
            .or_else(|| std::env::var_os("PASAR_DATA_DIR").map(PathBuf::from))
            .unwrap_or_else(|| Config::default().data_dir);
        let toml_path = sources
            .config_file
            .clone()
            .unwrap_or_else(|| data_dir.join("pasar.toml"));
        let layered = |defaults: Config| {
            Figment::from(Serialized::defaults(defaults))
                .merge(Toml::file(&toml_path))
                .merge(Env::prefixed("PASAR_").split("__"))
        };
        // The profile picks the defaults the other layers go over.
        let profile: String = layered(Config::default())
            .extract_inner("profile")
            .map_err(Box::new)?;
        let defaults = match profile.as_str() {
            DEVELOPMENT => {
                let mut config = Config::development();
                for section in sections {
                    config
                        .modules
                        .insert(section.name.to_owned(), (section.development)());
                }
                config
            }
            _ => Config::default(),
        };
        let mut config: Config = layered(defaults).extract().map_err(Box::new)?;
        if sources.data_dir.is_some() {
            config.data_dir = data_dir;
        }
        // Every command refuses a module's section that does not read as its type.
        for section in sections {
            (section.check)(&config).map_err(|e| Box::new(figment::Error::from(e)))?;
        }
        Ok(config)
    }

    /// The defaults of the development profile.
    pub fn development() -> Self {
        let mut config = Config {
            profile: DEVELOPMENT.into(),
            ..Config::default()
        };
        config.auth.mock_oidc = true;
        config.log.format = "text".into();
        config
    }

    /// A module's section: its defaults, overridden by what the layers set. Start checks every
    /// section of the modules it runs, so a module may read its own with
    /// [`Config::section_or_default`] once running.
    pub fn section<T: ModuleConfig>(&self) -> Result<T, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(T::default()));
        if let Some(value) = self.modules.get(T::SECTION) {
            figment = figment.merge(Serialized::defaults(value));
        }
        figment.extract().map_err(Box::new)
    }

    /// The section, after start has checked it (defaults only where nothing was checked, e.g.
    /// when documents are generated offline).
    pub fn section_or_default<T: ModuleConfig>(&self) -> T {
        self.section().unwrap_or_default()
    }

    /// Changes a module's section (tests, tools): the section as read, edited, written back.
    pub fn edit_section<T: ModuleConfig>(
        &mut self,
        edit: impl FnOnce(&mut T),
    ) -> Result<(), Box<figment::Error>> {
        let mut section = self.section::<T>()?;
        edit(&mut section);
        let value = figment::value::Value::serialize(&section).map_err(Box::new)?;
        self.modules.insert(T::SECTION.to_owned(), value);
        Ok(())
    }

    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("pasar.db").display()),
        }
    }

    pub fn data_path(&self, file: &str) -> PathBuf {
        Path::new(&self.data_dir).join(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API fixes the closure's error type
    fn toml_overrides_defaults_and_env_overrides_toml() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "pasar.toml",
                "[rate_limit]\nauth = 7\nwrite = 9\n[http]\naddr = \"0.0.0.0:9000\"\n",
            )?;
            jail.set_env("PASAR_RATE_LIMIT__WRITE", "11");
            jail.set_env("PASAR_DATABASE__URL", "postgres://x/y");
            let config = Config::load(
                &ConfigSources {
                    data_dir: Some(PathBuf::from(".")),
                    config_file: None,
                },
                &[],
            )
            .map_err(|e| *e)?;
            assert_eq!(config.rate_limit.auth, 7);
            assert_eq!(config.rate_limit.write, 11);
            assert_eq!(config.rate_limit.payment, 5);
            assert_eq!(config.http.addr, "0.0.0.0:9000");
            assert_eq!(config.database_url(), "postgres://x/y");
            Ok(())
        });
    }

    /// A module's section as a module declares it.
    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(default)]
    struct Shop {
        simulator: Simulator,
        name: String,
    }

    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(default)]
    struct Simulator {
        enabled: bool,
        window_secs: i64,
    }

    impl ModuleConfig for Shop {
        const SECTION: &'static str = "shop";
        fn development() -> Self {
            Shop {
                simulator: Simulator {
                    enabled: true,
                    window_secs: 0,
                },
                ..Shop::default()
            }
        }
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn module_sections_layer_like_the_rest_and_start_from_their_development_defaults() {
        figment::Jail::expect_with(|jail| {
            let load = || {
                Config::load(
                    &ConfigSources {
                        data_dir: Some(PathBuf::from(".")),
                        config_file: None,
                    },
                    &[SectionSpec::of::<Shop>()],
                )
                .map_err(|e| *e)
            };
            let production = load()?;
            let shop: Shop = production.section().map_err(|e| *e)?;
            assert!(!shop.simulator.enabled);
            assert!(!production.auth.mock_oidc);
            jail.create_file("pasar.toml", "[shop]\nname = \"Toko\"\n")?;
            jail.set_env("PASAR_SHOP__SIMULATOR__WINDOW_SECS", "90");
            jail.set_env("PASAR_PROFILE", "development");
            let development = load()?;
            let shop: Shop = development.section().map_err(|e| *e)?;
            assert!(shop.simulator.enabled);
            assert_eq!(shop.simulator.window_secs, 90);
            assert_eq!(shop.name, "Toko");
            assert!(development.auth.mock_oidc);
            assert_eq!(development.log.format, "text");
            // An explicit setting still wins over the profile's defaults.
            jail.set_env("PASAR_SHOP__SIMULATOR__ENABLED", "false");
            let shop: Shop = load()?.section().map_err(|e| *e)?;
            assert!(!shop.simulator.enabled);
            // A section of the wrong shape is an error, not a default.
            jail.set_env("PASAR_SHOP__SIMULATOR__WINDOW_SECS", "soon");
            let refused = load().expect_err("a malformed section is refused");
            assert!(refused.to_string().contains("[shop]"), "{refused}");
            Ok(())
        });
    }

    #[test]
    fn edited_sections_keep_what_was_set() {
        let mut config = Config::default();
        config
            .edit_section::<Shop>(|s| s.name = "Toko".into())
            .expect("edit");
        config
            .edit_section::<Shop>(|s| s.simulator.enabled = true)
            .expect("edit");
        let shop: Shop = config.section().expect("section");
        assert_eq!(shop.name, "Toko");
        assert!(shop.simulator.enabled);
    }

    #[test]
    fn default_database_is_sqlite_in_data_dir() {
        let config = Config::default();
        assert_eq!(config.database_url(), "sqlite://./pasar-data/pasar.db");
    }
}
