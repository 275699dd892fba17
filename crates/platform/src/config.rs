//! Configuration: defaults, then `pasar.toml` (in the data dir, or `--config`), then `PASAR_*`
//! environment variables with `__` for nesting, then command-line flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
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
    pub notifications: NotificationsConfig,
    pub merchants: MerchantsConfig,
    pub catalog: CatalogConfig,
    pub inventory: InventoryConfig,
    pub cart: CartConfig,
    pub orders: OrdersConfig,
    pub payments: PaymentsConfig,
    pub vouchers: VouchersConfig,
    pub ledger: LedgerConfig,
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
            notifications: NotificationsConfig::default(),
            merchants: MerchantsConfig::default(),
            catalog: CatalogConfig::default(),
            inventory: InventoryConfig::default(),
            cart: CartConfig::default(),
            orders: OrdersConfig::default(),
            payments: PaymentsConfig::default(),
            vouchers: VouchersConfig::default(),
            ledger: LedgerConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MerchantsConfig {
    /// Platform commission in basis points for merchants without their own rate (1000 = 10%).
    pub default_commission_bps: u32,
    pub invitation_ttl_hours: i64,
    /// How long a user's merchant memberships are cached per process; removals made in this
    /// process take effect at once, elsewhere within this bound.
    pub membership_cache_secs: u64,
}

impl Default for MerchantsConfig {
    fn default() -> Self {
        Self {
            default_commission_bps: 1000,
            invitation_ttl_hours: 72,
            membership_cache_secs: 30,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CatalogConfig {
    /// Public product reads are served from a per-process cache invalidated on every change
    /// made here; changes made by another process are seen within this bound. 0 disables it.
    pub read_cache_secs: u64,
    pub read_cache_entries: usize,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        Self {
            read_cache_secs: 30,
            read_cache_entries: 20_000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct InventoryConfig {
    /// Reservations not confirmed within this time are released by a job.
    pub reservation_ttl_secs: i64,
}

impl Default for InventoryConfig {
    fn default() -> Self {
        Self {
            reservation_ttl_secs: 900,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CartConfig {
    /// Most units of one variant in a cart.
    pub max_quantity_per_line: i64,
    pub max_lines: usize,
    /// Carts untouched this long are deleted.
    pub ttl_days: i64,
}

impl Default for CartConfig {
    fn default() -> Self {
        Self {
            max_quantity_per_line: 99,
            max_lines: 100,
            ttl_days: 30,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct OrdersConfig {
    /// An order not paid within this time expires and its stock is released.
    pub payment_window_secs: i64,
    /// A checkout saga untouched this long is presumed abandoned (its process died) and is
    /// compensated by the recovery job.
    pub saga_timeout_secs: i64,
    /// Testing only: abort the process at this checkout step (`after_start`,
    /// `after_reserve`, `after_create`) to prove crash recovery.
    pub fail_point: Option<String>,
}

impl Default for OrdersConfig {
    fn default() -> Self {
        Self {
            payment_window_secs: 900,
            saga_timeout_secs: 60,
            fail_point: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct VouchersConfig {
    /// Seconds one on-screen QR code stays valid (it embeds the time step).
    pub qr_step_secs: i64,
    /// Retired QR signing keys keep verifying this long: printed codes live as long as their
    /// voucher, so keep it above the longest validity (730 days).
    pub code_key_retention_days: i64,
    /// Wrong PINs in a row after which a voucher is locked for counter redemption.
    pub pin_attempts: i32,
    /// An unused bought voucher can be refunded this long after purchase.
    pub refund_window_days: i64,
    /// `voucher.expiring` is published this long before a voucher expires.
    pub reminder_days: i64,
}

impl Default for VouchersConfig {
    fn default() -> Self {
        Self {
            qr_step_secs: 30,
            code_key_retention_days: 760,
            pin_attempts: 5,
            refund_window_days: 14,
            reminder_days: 7,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LedgerConfig {
    /// When the payout run starts: a cron expression with seconds (default Mondays 02:00 UTC).
    pub payout_schedule: String,
    /// Balances below this (minor units, per currency) wait for the next run.
    pub payout_minimum: i64,
    /// Physical goods are credited to the merchant this long after delivery (returns window).
    pub delivery_hold_days: i64,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        Self {
            payout_schedule: "0 0 2 * * Mon".into(),
            payout_minimum: 1,
            delivery_hold_days: 0,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PaymentsConfig {
    pub simulator: SimulatorConfig,
    pub khqr: KhqrConfig,
    pub midtrans: MidtransConfig,
    pub xendit: XenditConfig,
}

/// The development gateway. Disable it in production: whoever can reach its approve page can
/// mark payments paid.
/// Off by default: its approve route is anonymous by design (anyone may mark a payment paid).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SimulatorConfig {
    pub enabled: bool,
    /// HMAC-SHA256 key of its webhooks; random per process when unset (set it when several
    /// processes or a load generator must sign simulator webhooks).
    pub webhook_secret: Option<String>,
}

/// KHQR (Bakong): the payee account the QR pays into, and the API that confirms payments.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct KhqrConfig {
    pub enabled: bool,
    /// Bakong account id, e.g. `pasar@aclb`.
    pub account_id: String,
    pub merchant_name: String,
    pub merchant_city: String,
    /// Bakong Open API base URL; unset, the built-in simulator answers (development).
    pub api_url: Option<String>,
    pub api_token: Option<String>,
}

impl Default for KhqrConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            account_id: "pasar@devb".into(),
            merchant_name: "Pasar".into(),
            merchant_city: "Phnom Penh".into(),
            api_url: None,
            api_token: None,
        }
    }
}

/// Midtrans Snap: enabled by setting the server key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MidtransConfig {
    pub server_key: Option<String>,
    pub snap_url: String,
    pub api_url: String,
}

impl Default for MidtransConfig {
    fn default() -> Self {
        Self {
            server_key: None,
            snap_url: "https://app.sandbox.midtrans.com".into(),
            api_url: "https://api.sandbox.midtrans.com".into(),
        }
    }
}

/// Xendit invoices: enabled by setting the secret key and the callback token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct XenditConfig {
    pub secret_key: Option<String>,
    pub callback_token: Option<String>,
    pub api_url: String,
}

impl Default for XenditConfig {
    fn default() -> Self {
        Self {
            secret_key: None,
            callback_token: None,
            api_url: "https://api.xendit.co".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpConfig {
    pub addr: String,
    pub body_limit_bytes: usize,
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

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct NotificationsConfig {
    /// Delivery attempts per message before it is parked as failed.
    pub max_attempts: i32,
    pub email: EmailConfig,
    pub sms: HttpChannelConfig,
    pub push: HttpChannelConfig,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            email: EmailConfig::default(),
            sms: HttpChannelConfig {
                body_template: r#"{"to": {{ to }}, "text": {{ text }}}"#.into(),
                ..HttpChannelConfig::default()
            },
            push: HttpChannelConfig {
                body_template: r#"{"message": {"token": {{ to }}, "notification": {"title": {{ title }}, "body": {{ text }}}, "data": {{ data }}}}"#.into(),
                ..HttpChannelConfig::default()
            },
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct EmailConfig {
    /// `file` (development: `.eml` files under `<data_dir>/mail`) or `smtp`.
    pub transport: String,
    pub from: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `none` (local relay), `starttls` or `tls`.
    pub smtp_security: String,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    pub timeout_secs: u64,
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            transport: "file".into(),
            from: "Pasar <no-reply@pasar.local>".into(),
            smtp_host: "127.0.0.1".into(),
            smtp_port: 25,
            smtp_security: "none".into(),
            smtp_username: None,
            smtp_password: None,
            timeout_secs: 10,
        }
    }
}

/// An HTTP provider (SMS gateway, FCM-shaped push). Unset `url`: the channel is off.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpChannelConfig {
    pub url: Option<String>,
    /// Sent as the `Authorization` header, e.g. `Bearer <key>`.
    pub authorization: Option<String>,
    /// JSON body; `to`, `title`, `text` and `data` are inserted JSON-encoded.
    pub body_template: String,
    pub timeout_secs: Option<u64>,
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
    pub fn load(sources: &ConfigSources) -> Result<Self, Box<figment::Error>> {
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
            DEVELOPMENT => Config::development(),
            _ => Config::default(),
        };
        let mut config: Config = layered(defaults).extract().map_err(Box::new)?;
        if sources.data_dir.is_some() {
            config.data_dir = data_dir;
        }
        Ok(config)
    }

    /// The defaults of the development profile.
    pub fn development() -> Self {
        let mut config = Config {
            profile: DEVELOPMENT.into(),
            ..Config::default()
        };
        config.payments.simulator.enabled = true;
        config.auth.mock_oidc = true;
        config.log.format = "text".into();
        config
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
            let config = Config::load(&ConfigSources {
                data_dir: Some(PathBuf::from(".")),
                config_file: None,
            })
            .map_err(|e| *e)?;
            assert_eq!(config.rate_limit.auth, 7);
            assert_eq!(config.rate_limit.write, 11);
            assert_eq!(config.rate_limit.payment, 5);
            assert_eq!(config.http.addr, "0.0.0.0:9000");
            assert_eq!(config.database_url(), "postgres://x/y");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn the_simulator_is_off_unless_the_development_profile_or_a_setting_turns_it_on() {
        figment::Jail::expect_with(|jail| {
            let load = || {
                Config::load(&ConfigSources {
                    data_dir: Some(PathBuf::from(".")),
                    config_file: None,
                })
                .map_err(|e| *e)
            };
            let production = load()?;
            assert!(!production.payments.simulator.enabled);
            assert!(!production.auth.mock_oidc);
            jail.set_env("PASAR_PROFILE", "development");
            let development = load()?;
            assert!(development.payments.simulator.enabled);
            assert!(development.auth.mock_oidc);
            assert_eq!(development.log.format, "text");
            // An explicit setting still wins over the profile's defaults.
            jail.set_env("PASAR_PAYMENTS__SIMULATOR__ENABLED", "false");
            assert!(!load()?.payments.simulator.enabled);
            Ok(())
        });
    }

    #[test]
    fn default_database_is_sqlite_in_data_dir() {
        let config = Config::default();
        assert_eq!(config.database_url(), "sqlite://./pasar-data/pasar.db");
    }
}
