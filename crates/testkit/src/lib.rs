//! Starts the real Pasar app on a random port with a fresh SQLite file or a fresh PostgreSQL
//! database, and gives tests typed helpers to drive it over HTTP.

mod commerce;
mod marketplace;
mod probe;
mod s3;
mod sinks;
pub mod tools;
mod voucher_fixtures;

use std::sync::Arc;
use std::time::Duration;

use platform::app::RunningApp;
use platform::{Config, Context, Module};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use tokio::sync::OnceCell;
use uuid::Uuid;

pub use commerce::{uuid_of, SIMULATOR_SECRET};
pub use marketplace::{merchant_application, MerchantFixture};
pub use probe::{Pinged, Probe, ProbeBehaviour};
pub use s3::S3Server;
pub use sinks::{HttpReceiver, Mail, OtlpReceiver, Received, ReceivedSpan, SmtpSink};
pub use voucher_fixtures::OUTLET_LOCATION;

/// Runs an `async fn name(backend: Backend)` once on SQLite and once on PostgreSQL, as the
/// tests `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::Backend::Postgres).await
                }
            }
        )*
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the PostgreSQL server for tests is; databases are created and dropped on it.
fn postgres_admin_url() -> String {
    std::env::var("PASAR_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

const PG_PREFIX: &str = "pasar_test_";

static SWEPT: OnceCell<()> = OnceCell::const_new();

async fn pg_admin() -> sqlx::PgPool {
    tokio::task::spawn_blocking(tools::postgres)
        .await
        .expect("PostgreSQL set-up");
    let url = postgres_admin_url();
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(10))
        .connect(&url)
        .await
        .unwrap_or_else(|err| panic!("PostgreSQL is required for tests at {url}: {err}"))
}

/// Creates a fresh database; on first use, drops databases older runs left behind.
/// Creates a fresh PostgreSQL database for a test and returns its name.
pub async fn create_pg_database() -> String {
    let admin = pg_admin().await;
    SWEPT
        .get_or_init(|| async {
            let cutoff = kernel::Timestamp::now().plus_seconds(-3 * 3600).millis();
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT datname FROM pg_database WHERE datname LIKE 'pasar\\_test\\_%'",
            )
            .fetch_all(&admin)
            .await
            .unwrap_or_default();
            for name in names {
                let created: Option<i64> = name
                    .strip_prefix(PG_PREFIX)
                    .and_then(|rest| rest.split('_').next())
                    .and_then(|millis| millis.parse().ok());
                if created.is_some_and(|c| c < cutoff) {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&admin)
                            .await;
                }
            }
        })
        .await;
    let name = format!(
        "{PG_PREFIX}{}_{}",
        kernel::Timestamp::now().millis(),
        Uuid::new_v4().simple()
    );
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&admin)
        .await
        .expect("create test database");
    admin.close().await;
    name
}

pub async fn drop_pg_database(name: &str) {
    let admin = pg_admin().await;
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&admin)
        .await;
    admin.close().await;
}

/// The modules every test app runs, as the binary does.
pub fn default_modules() -> Vec<Module> {
    registry::modules()
}

/// Sends email to `smtp` and SMS and push to `http` (both real servers on loopback).
pub fn route_messages(config: &mut Config, smtp: &SmtpSink, http: &HttpReceiver) {
    config
        .edit_section(
            |channels: &mut notifications::config::NotificationsConfig| {
                route_channels(channels, smtp, http)
            },
        )
        .expect("the notifications section of a test config");
}

fn route_channels(
    channels: &mut notifications::config::NotificationsConfig,
    smtp: &SmtpSink,
    http: &HttpReceiver,
) {
    channels.email.transport = "smtp".into();
    channels.email.smtp_host = "127.0.0.1".into();
    channels.email.smtp_port = smtp.port;
    channels.email.smtp_security = "none".into();
    channels.email.timeout_secs = 2;
    channels.sms.url = Some(http.url.clone());
    channels.sms.authorization = Some("Bearer sms-key".into());
    channels.push.url = Some(http.url.clone());
    channels.push.authorization = Some("Bearer push-key".into());
    channels.max_attempts = 3;
}

/// The URL of a database on the test server.
pub fn pg_database_url(name: &str) -> String {
    let base = postgres_admin_url();
    let server = base.rsplit_once('/').map(|(s, _)| s).unwrap_or(&base);
    format!("{server}/{name}")
}

/// Configuration for tests: a random port, fast bus and job polling, rate limits off (tests
/// of rate limiting turn them on).
pub fn test_config(data_dir: &std::path::Path) -> Config {
    let mut config = Config {
        data_dir: data_dir.to_path_buf(),
        ..Config::default()
    };
    config.http.addr = "127.0.0.1:0".into();
    config.http.shutdown_grace_secs = 5;
    // Every order event now feeds notifications and analytics besides the checkout path: a
    // crowd at a flash sale starved five connections (a checkout waited past the acquire
    // timeout and failed).
    config.database.max_connections = 10;
    config.rate_limit.enabled = false;
    config.bus.poll_interval_ms = 50;
    config.bus.retry_base_ms = 50;
    config.jobs.poll_interval_ms = 50;
    config.jobs.retry_base_ms = 50;
    config
        .edit_section(|p: &mut payments::config::PaymentsConfig| {
            p.simulator.enabled = true;
            p.simulator.webhook_secret = Some(commerce::SIMULATOR_SECRET.into());
        })
        .expect("the payments section of a test config");
    // Physical goods ship through the simulator courier unless a test picks another.
    config
        .edit_section(|s: &mut shipping::config::ShippingConfig| s.simulator.enabled = true)
        .expect("the shipping section of a test config");
    config
}

fn init_logging() {
    let level = std::env::var("PASAR_TEST_LOG").unwrap_or_else(|_| "warn".into());
    // Spans are made (trace ids in log lines) but not exported from test processes.
    let _ = platform::telemetry::init_logging(
        &platform::config::LogConfig {
            level,
            format: "text".into(),
        },
        &platform::config::TracingConfig::default(),
    );
}

pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    pub config: Config,
    running: Option<RunningApp>,
    modules: Vec<Module>,
    pg_database: Option<String>,
    _data_dir: Arc<tempfile::TempDir>,
}

/// An HTTP answer with its JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The problem `code` of an error answer.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: Uuid,
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
}

pub const PASSWORD: &str = "Str0ng!Passw0rd";

impl Session {
    /// From a register or login answer carrying a token pair.
    fn from_tokens(user_id: Uuid, email: String, resp: &Resp) -> Self {
        let token = |name: &str| resp.body[name].as_str().expect(name).to_owned();
        Session {
            user_id,
            email,
            password: PASSWORD.to_owned(),
            access_token: token("accessToken"),
            refresh_token: token("refreshToken"),
        }
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}, Vec::new()).await
    }

    /// An app whose unpaid orders expire after `secs` (expiry tests).
    pub async fn spawn_with_payment_window(backend: Backend, secs: i64) -> Self {
        Self::spawn_with(
            backend,
            move |c| {
                c.edit_section(|o: &mut orders::config::OrdersConfig| o.payment_window_secs = secs)
                    .expect("orders section")
            },
            Vec::new(),
        )
        .await
    }

    /// Starts identity plus `extra` modules, with `configure` applied to the test config.
    pub async fn spawn_with(
        backend: Backend,
        configure: impl FnOnce(&mut Config),
        extra: Vec<Module>,
    ) -> Self {
        init_logging();
        let data_dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        let mut config = test_config(data_dir.path());
        let pg_database = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let name = create_pg_database().await;
                config.database.url = Some(pg_database_url(&name));
                Some(name)
            }
        };
        configure(&mut config);
        let mut modules = default_modules();
        modules.extend(extra);
        Self::launch(backend, config, modules, pg_database, data_dir).await
    }

    async fn launch(
        backend: Backend,
        config: Config,
        modules: Vec<Module>,
        pg_database: Option<String>,
        data_dir: Arc<tempfile::TempDir>,
    ) -> Self {
        let running = platform::app::start(config.clone(), modules.clone())
            .await
            .expect("app starts");
        Self {
            base_url: format!("http://{}", running.addr),
            client: reqwest::Client::new(),
            backend,
            config,
            running: Some(running),
            modules,
            pg_database,
            _data_dir: data_dir,
        }
    }

    /// Runs `modules` in this process against an existing database (`config.database.url`),
    /// e.g. beside the real binary's processes in a split layout. The database is left as it
    /// is when the app stops.
    pub async fn attach(backend: Backend, mut config: Config, modules: Vec<Module>) -> Self {
        init_logging();
        let data_dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        config.data_dir = data_dir.path().to_path_buf();
        Self::launch(backend, config, modules, None, data_dir).await
    }

    /// Starts the app with email going to a real SMTP sink and SMS/push to a real HTTP
    /// receiver, plus `extra` modules.
    pub async fn spawn_with_messaging(
        backend: Backend,
        extra: Vec<Module>,
    ) -> (Self, SmtpSink, HttpReceiver) {
        let smtp = SmtpSink::start();
        let http = HttpReceiver::start().await;
        let app = Self::spawn_with(backend, |c| route_messages(c, &smtp, &http), extra).await;
        (app, smtp, http)
    }

    pub fn ctx(&self) -> &Context {
        &self.running.as_ref().expect("app is running").context
    }

    /// Stops the app gracefully and starts it again on the same database and data dir.
    pub async fn restart(&mut self) {
        self.stop_running().await;
        let mut config = self.config.clone();
        config.http.addr = "127.0.0.1:0".into();
        let running = platform::app::start(config, self.modules.clone())
            .await
            .expect("app restarts");
        self.base_url = format!("http://{}", running.addr);
        self.running = Some(running);
    }

    /// Like [`TestApp::restart`], with a different module set.
    pub async fn restart_with(&mut self, modules: Vec<Module>) {
        self.modules = modules;
        self.restart().await;
    }

    async fn stop_running(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
    }

    /// Stops the app and drops its PostgreSQL database.
    pub async fn stop(mut self) {
        self.stop_running().await;
        if let Some(name) = self.pg_database.take() {
            drop_pg_database(&name).await;
        }
    }

    /// The admin listener of `/metrics`, when the config gives it one.
    pub fn metrics_url(&self) -> Option<String> {
        let running = self.running.as_ref().expect("app is running");
        running
            .metrics_addr
            .map(|addr| format!("http://{addr}/metrics"))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Resp {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body read");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
        }
    }

    fn authorized(
        &self,
        request: reqwest::RequestBuilder,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(self.authorized(self.client.get(self.url(path)), token))
            .await
    }

    pub async fn post(&self, path: &str, body: Value, token: Option<&str>) -> Resp {
        self.send(self.authorized(self.client.post(self.url(path)).json(&body), token))
            .await
    }

    pub async fn put(&self, path: &str, body: Value, token: Option<&str>) -> Resp {
        self.send(self.authorized(self.client.put(self.url(path)).json(&body), token))
            .await
    }

    pub async fn patch(&self, path: &str, body: Value, token: Option<&str>) -> Resp {
        self.send(self.authorized(self.client.patch(self.url(path)).json(&body), token))
            .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(self.authorized(self.client.delete(self.url(path)), token))
            .await
    }

    /// Registers a customer with a unique email derived from `name`, and returns its session.
    pub async fn register(&self, name: &str) -> Session {
        let email = format!("{name}.{}@example.com", Uuid::new_v4().simple());
        let resp = self
            .post(
                "/api/v1/auth/register",
                json!({"email": email, "password": PASSWORD, "firstName": name, "lastName": "Test"}),
                None,
            )
            .await;
        assert_eq!(resp.status, 201, "register failed: {:?}", resp.body);
        let user_id = resp.body["user"]["id"]
            .as_str()
            .and_then(|id| Uuid::parse_str(id).ok())
            .expect("user id");
        Session::from_tokens(user_id, email, &resp)
    }

    /// A registered customer whose email is verified (checkout and payment require it),
    /// signed in again so the token says so.
    pub async fn customer(&self, name: &str) -> Session {
        let session = self.register(name).await;
        identity::Identity::new(self.ctx().clone())
            .mark_email_verified(session.user_id)
            .await
            .expect("verify email");
        let resp = self.login(&session.email, PASSWORD).await;
        assert_eq!(resp.status, 200, "login failed: {:?}", resp.body);
        Session::from_tokens(session.user_id, session.email, &resp)
    }

    /// A signed-in customer without an account row, for crowds of buyers (thousands of
    /// registrations would be the test): its token is issued as sign-in would, email verified.
    pub fn crowd_customer(&self) -> Session {
        let user_id = Uuid::new_v4();
        let (access_token, _) = self
            .ctx()
            .authenticator
            .issue(user_id, &[kernel::Role::Customer], Uuid::new_v4(), true)
            .expect("issue a token");
        Session {
            user_id,
            email: format!("crowd.{}@example.com", user_id.simple()),
            password: PASSWORD.to_owned(),
            access_token,
            refresh_token: String::new(),
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> Resp {
        self.post(
            "/api/v1/auth/login",
            json!({"email": email, "password": password}),
            None,
        )
        .await
    }

    /// An admin, created the way `pasar admin create` does, then signed in.
    pub async fn admin(&self) -> Session {
        let email = format!("admin.{}@example.com", Uuid::new_v4().simple());
        let identity = identity::Identity::new(self.ctx().clone());
        let (user, created) = identity
            .bootstrap_admin(&email, PASSWORD)
            .await
            .expect("bootstrap admin");
        assert!(created);
        let resp = self.login(&email, PASSWORD).await;
        assert_eq!(resp.status, 200, "admin login failed: {:?}", resp.body);
        Session::from_tokens(user.id, email, &resp)
    }
}

impl TestApp {
    /// Opens a sealed event field (a token or code an event carries to its deliverer).
    pub fn unseal(&self, sealed: &Value) -> String {
        let sealed: kernel::Sealed =
            serde_json::from_value(sealed.clone()).expect("a sealed field");
        self.ctx().sealer.open(&sealed).expect("sealed by this app")
    }
}

/// Polls `check` until it returns `Some`, or panics after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
