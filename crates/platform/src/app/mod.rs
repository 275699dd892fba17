//! Composes modules into a running process: database, migrations, keyring, bus, jobs, and the
//! HTTP server with the edge stack; and shuts it all down gracefully.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use kernel::Timestamp;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApiBuilder};
use utoipa_axum::router::OpenApiRouter;

use crate::bus::{
    BoxError, BusError, BusSignal, Dispatcher, EmbeddedTransport, EventTransport, NatsBus,
    NatsTransport, Relay, Subscription,
};
use crate::cache::{connect_redis, Cache, MemoryCache, RedisCache};
use crate::config::Config;
use crate::db::Db;
use crate::http::{self, ops, Authenticator};
use crate::jobs::{JobHandler, JobRun, JobRunner, JobSpec};
use crate::keyring::{
    Keyring, KeyringError, MasterKey, PURPOSE_ACCESS_TOKEN, PURPOSE_OFFLINE_CODE,
};
use crate::migrate::{self, MigrateError, Migration};
use crate::module::{Context, Module, ModuleParts};
use crate::on_db;
use crate::ratelimit::{MemoryRateLimiter, RateLimiter, RedisRateLimiter};
use crate::telemetry;

mod documents;

use documents::{assemble_routes, Assembled};
pub use documents::{openapi, openapi_document, openapi_documents, Documents};

static PLATFORM_MIGRATIONS: [Migration; 3] = [
    crate::migration!(1, "0001_platform.sql"),
    crate::migration!(2, "0002_idempotency.sql"),
    crate::migration!(3, "0003_trace_parent.sql"),
];

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create data dir {path}: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error(transparent)]
    Jobs(#[from] crate::jobs::JobError),
    #[error("module {module} failed to start: {message}")]
    Module { module: String, message: String },
    #[error("configuration: {0}")]
    Config(String),
    #[error("cannot connect to the event bus: {0}")]
    Bus(#[source] BusError),
    #[error("cannot connect to the cache: {0}")]
    Cache(#[source] redis::RedisError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

/// The main database, and the databases of modules that own one (`database.modules`).
#[derive(Clone)]
pub struct Databases {
    pub main: Db,
    /// Module, its database URL, its pool.
    own: Vec<(&'static str, String, Db)>,
}

impl Databases {
    /// Where `module`'s tables are.
    pub fn of(&self, module: &str) -> Db {
        self.own
            .iter()
            .find(|(name, _, _)| *name == module)
            .map_or_else(|| self.main.clone(), |(_, _, db)| db.clone())
    }

    fn url_of(&self, module: &str) -> Option<&str> {
        self.own
            .iter()
            .find(|(name, _, _)| *name == module)
            .map(|(_, url, _)| url.as_str())
    }

    /// Each database once, with the modules (of `modules`) whose tables it holds; the main
    /// database first.
    fn groups<'m>(&self, modules: &'m [Module]) -> Vec<(Db, Vec<&'m Module>)> {
        let mut groups: Vec<(Option<&str>, Db, Vec<&Module>)> =
            vec![(None, self.main.clone(), Vec::new())];
        for module in modules {
            let url = self.url_of(module.name);
            match groups.iter_mut().find(|(u, _, _)| *u == url) {
                Some((_, _, members)) => members.push(module),
                None => groups.push((url, self.of(module.name), vec![module])),
            }
        }
        groups
            .into_iter()
            .map(|(_, db, members)| (db, members))
            .collect()
    }

    pub async fn close(&self) {
        self.main.close().await;
        for (_, _, db) in &self.own {
            db.close().await;
        }
    }
}

/// Opens the databases and applies the platform's and the modules' migrations, each module's in
/// its own database (which gets the platform's tables too: outbox, inbox, jobs).
pub async fn migrate(config: &Config, modules: &[Module]) -> Result<Databases, StartError> {
    if config.database.url.is_none() {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        })?;
    }
    let main = Db::connect(&config.database_url(), &config.database)
        .await
        .map_err(StartError::Connect)?;
    migrate::apply(&main, "platform", &PLATFORM_MIGRATIONS).await?;
    let mut own: Vec<(&'static str, String, Db)> = Vec::new();
    let mut opened: Vec<(String, Db)> = Vec::new();
    for module in modules {
        let Some(module_db) = config.database.modules.get(module.name) else {
            migrate::apply(&main, module.name, module.migrations).await?;
            continue;
        };
        if config.bus.url.is_none() {
            return Err(StartError::Config(format!(
                "module {} has its own database: that needs the NATS bus (bus.url)",
                module.name
            )));
        }
        let db = match opened.iter().find(|(url, _)| *url == module_db.url) {
            Some((_, db)) => db.clone(),
            None => {
                let db = Db::connect(&module_db.url, &config.database)
                    .await
                    .map_err(StartError::Connect)?;
                migrate::apply(&db, "platform", &PLATFORM_MIGRATIONS).await?;
                opened.push((module_db.url.clone(), db.clone()));
                db
            }
        };
        migrate::apply(&db, module.name, module.migrations).await?;
        own.push((module.name, module_db.url.clone(), db));
    }
    Ok(Databases { main, own })
}

/// Builds the services modules run with, on a migrated database.
pub async fn context(config: Config, db: Db) -> Result<Context, StartError> {
    context_with(config, db, 0).await
}

/// The services modules run with; retired keys of offline codes keep verifying for
/// `code_key_retention_secs` (the longest any module that signs such codes asks for).
pub async fn context_with(
    config: Config,
    db: Db,
    code_key_retention_secs: i64,
) -> Result<Context, StartError> {
    let master = MasterKey::load(config.keyring.master_key.as_deref(), &config.data_dir)?;
    let sealer = master.sealer();
    let retention = config.auth.access_token_ttl_secs + config.auth.leeway_secs as i64;
    let keyring =
        Arc::new(Keyring::load(db.clone(), master, PURPOSE_ACCESS_TOKEN, retention).await?);
    // Codes printed on paper verify as long as what they stand for.
    let code_master = MasterKey::load(config.keyring.master_key.as_deref(), &config.data_dir)?;
    let code_keyring = Arc::new(
        Keyring::load(
            db.clone(),
            code_master,
            PURPOSE_OFFLINE_CODE,
            code_key_retention_secs,
        )
        .await?,
    );
    let shared = match &config.cache.url {
        Some(url) => Some(connect_redis(url).await.map_err(StartError::Cache)?),
        None => None,
    };
    let (cache, limiter): (Arc<dyn Cache>, Option<Arc<dyn RateLimiter>>) = match &shared {
        Some(connection) => (
            Arc::new(RedisCache::new(connection.clone(), &config.cache.prefix)),
            config.rate_limit.enabled.then(|| {
                Arc::new(RedisRateLimiter::new(
                    connection.clone(),
                    &config.cache.prefix,
                    &config.rate_limit,
                )) as Arc<dyn RateLimiter>
            }),
        ),
        None => (
            Arc::new(MemoryCache::default()),
            config.rate_limit.enabled.then(|| {
                Arc::new(MemoryRateLimiter::new(&config.rate_limit)) as Arc<dyn RateLimiter>
            }),
        ),
    };
    let mut ctx = assemble(config, db, keyring, code_keyring, cache, limiter);
    ctx.redis = shared;
    ctx.sealer = sealer;
    Ok(ctx)
}

fn assemble(
    config: Config,
    db: Db,
    keyring: Arc<Keyring>,
    code_keyring: Arc<Keyring>,
    cache: Arc<dyn Cache>,
    limiter: Option<Arc<dyn RateLimiter>>,
) -> Context {
    let authenticator = Arc::new(Authenticator::new(
        keyring.clone(),
        cache.clone(),
        config.auth.clone(),
        config.http.trust_forwarded_for,
    ));
    let mesh = crate::services::ServiceMesh::default();
    Context {
        config: Arc::new(config),
        db,
        keyring,
        code_keyring,
        authenticator,
        cache,
        limiter,
        bus: BusSignal::default(),
        services: crate::services::Services::new(Arc::new(mesh.clone())),
        mesh,
        bound_url: Arc::default(),
        redis: None,
        invalidations: Default::default(),
        fanout: Default::default(),
        sealer: crate::secrets::Sealer::ephemeral(),
    }
}

/// A started process. Dropping it does not stop it: call [`RunningApp::shutdown`].
pub struct RunningApp {
    pub addr: SocketAddr,
    /// The admin listener of `/metrics`, when `http.metrics_addr` is set.
    pub metrics_addr: Option<SocketAddr>,
    pub context: Context,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    dispatchers: Vec<JoinHandle<()>>,
    background: Vec<JoinHandle<()>>,
    databases: Databases,
    grace: Duration,
}

impl RunningApp {
    /// Stops accepting, lets in-flight requests finish (within the grace period), delivers the
    /// events already committed, then closes the database.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        match tokio::time::timeout(self.grace, self.server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(err))) => tracing::error!(error = %err, "server ended with an error"),
            Ok(Err(err)) => tracing::error!(error = %err, "server task failed"),
            Err(_) => tracing::warn!("in-flight requests did not finish within the grace period"),
        }
        let flushed = futures_util::future::join_all(self.dispatchers);
        if tokio::time::timeout(self.grace, flushed).await.is_err() {
            tracing::warn!("event flush did not finish within the grace period");
        }
        for task in self.background {
            task.abort();
        }
        self.databases.close().await;
        tracing::info!("stopped");
    }
}

/// Starts every given module in this process and serves HTTP on `config.http.addr`.
pub async fn start(config: Config, modules: Vec<Module>) -> Result<RunningApp, StartError> {
    start_with(config, modules, Vec::new()).await
}

/// Starts `modules` in this process; `elsewhere` are the modules other processes run, reached
/// through `remote.<module>`.
pub async fn start_with(
    config: Config,
    modules: Vec<Module>,
    elsewhere: Vec<Module>,
) -> Result<RunningApp, StartError> {
    telemetry::install_metrics();
    let started = std::time::Instant::now();
    // A module's section that does not read as its type stops the start, before anything.
    for module in modules.iter().chain(&elsewhere) {
        if let Some(section) = &module.config {
            (section.check)(&config).map_err(StartError::Config)?;
        }
    }
    let code_key_retention = modules
        .iter()
        .chain(&elsewhere)
        .filter_map(|m| m.code_key_retention.map(|retention| retention(&config)))
        .max()
        .unwrap_or(0);
    let databases = migrate(&config, &modules).await?;
    let ctx = context_with(config, databases.main.clone(), code_key_retention).await?;
    // One group per database: its modules' events and jobs are handled against it, and its
    // commits wake its own dispatcher.
    let groups: Vec<(Db, BusSignal, Vec<&'static str>)> = databases
        .groups(&modules)
        .into_iter()
        .enumerate()
        .map(|(index, (db, members))| {
            let signal = if index == 0 {
                ctx.bus.clone()
            } else {
                BusSignal::default()
            };
            (db, signal, members.iter().map(|m| m.name).collect())
        })
        .collect();
    let group_of = |name: &str| {
        groups
            .iter()
            .position(|(_, _, members)| members.contains(&name))
            .unwrap_or(0)
    };
    let Assembled {
        router, parts, ops, ..
    } = assemble_routes(&ctx, &modules, &elsewhere, |module| {
        let (db, signal, _) = &groups[group_of(module.name)];
        Context {
            db: db.clone(),
            bus: signal.clone(),
            ..ctx.clone()
        }
    });
    ctx.mesh
        .set_local(router.clone(), modules.iter().map(|m| m.name).collect());
    ctx.mesh.set_remote(&ctx.config, ctx.authenticator.clone());
    for module in &elsewhere {
        if let Some(hook) = &module.when_remote {
            hook(&ctx);
        }
    }

    type GroupWork = (Vec<(String, Vec<Subscription>)>, Vec<JobSpec>);
    let mut work: Vec<GroupWork> = groups
        .iter()
        .map(|(db, _, _)| (Vec::new(), vec![prune_job(db.clone())]))
        .collect();
    for (name, mut part) in parts {
        if let Some(hook) = part.on_start.take() {
            hook.await.map_err(|err| StartError::Module {
                module: name.to_owned(),
                message: err.to_string(),
            })?;
        }
        let (subscriptions, jobs) = &mut work[group_of(name)];
        subscriptions.push((name.to_owned(), part.subscriptions));
        jobs.extend(part.jobs);
    }

    // Bound before anything runs in the background: a port already taken fails the start
    // with nothing left running.
    let listener = bind(&ctx.config.http.addr).await?;
    let metrics_listener = match &ctx.config.http.metrics_addr {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    if let (Some(connection), Some(url)) = (&ctx.redis, &ctx.config.cache.url) {
        let prefix = &ctx.config.cache.prefix;
        ctx.invalidations.start(
            url,
            format!("{prefix}:invalidate"),
            connection.clone(),
            shutdown_rx.clone(),
        );
        ctx.fanout.start(
            url,
            format!("{prefix}:fanout"),
            connection.clone(),
            shutdown_rx.clone(),
        );
    }
    let nats = match &ctx.config.bus.url {
        Some(url) => Some(
            NatsBus::connect(url, &ctx.config.bus)
                .await
                .map_err(StartError::Bus)?,
        ),
        None => None,
    };
    let _ = ops.dependencies.set(ops::Dependencies {
        bus: nats.clone(),
        cache: ctx.redis.clone(),
    });
    let mut dispatchers = Vec::new();
    let mut background = Vec::new();
    for ((db, signal, _), (subscriptions, jobs)) in groups.iter().zip(work) {
        let dispatcher = match &nats {
            None => Dispatcher::new(
                db.clone(),
                Arc::new(EmbeddedTransport::new(db.clone())),
                subscriptions,
                ctx.config.bus.clone(),
                signal.clone(),
            ),
            Some(bus) => {
                let consumers: Vec<String> = subscriptions
                    .iter()
                    .filter(|(_, subs)| !subs.is_empty())
                    .map(|(name, _)| name.clone())
                    .collect();
                let transport: Arc<dyn EventTransport> = Arc::new(NatsTransport::start(
                    bus.clone(),
                    db.clone(),
                    &consumers,
                    signal.clone(),
                    shutdown_rx.clone(),
                ));
                let dispatcher = Dispatcher::new(
                    db.clone(),
                    transport,
                    subscriptions,
                    ctx.config.bus.clone(),
                    signal.clone(),
                )
                .with_relay(Arc::new(Relay::new(db.clone(), bus.clone())));
                // SQLite has one writer: its batches cannot deadlock, and batching saves turns.
                match db.dialect() {
                    crate::db::Dialect::Postgres => dispatcher.with_transaction_per_event(),
                    crate::db::Dialect::Sqlite => dispatcher,
                }
            }
        };
        dispatchers.push(tokio::spawn(Arc::new(dispatcher).run(shutdown_rx.clone())));
        let runner = Arc::new(JobRunner::new(db.clone(), ctx.config.jobs.clone(), jobs)?);
        runner.register_schedules().await?;
        background.push(tokio::spawn(runner.run(shutdown_rx.clone())));
    }
    background.push(tokio::spawn(upkeep(ctx.clone(), shutdown_rx.clone())));

    let app = http::edge(router, &ctx.config.http, ctx.authenticator.clone());
    let local = local_addr(&listener, &ctx.config.http.addr)?;
    let _ = ctx.bound_url.set(format!("http://{local}"));
    let metrics_addr = match metrics_listener {
        Some(listener) => Some(serve_metrics(
            listener,
            shutdown_rx.clone(),
            &mut background,
        )?),
        None => None,
    };
    let mut server_shutdown = shutdown_rx.clone();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = server_shutdown.wait_for(|stop| *stop).await;
        })
        .await
    });
    tracing::info!(addr = %local, startup_ms = started.elapsed().as_millis() as u64, "ready");
    Ok(RunningApp {
        addr: local,
        metrics_addr,
        grace: Duration::from_secs(ctx.config.http.shutdown_grace_secs),
        context: ctx,
        shutdown: shutdown_tx,
        server,
        dispatchers,
        background,
        databases,
    })
}

async fn bind(addr: &str) -> Result<tokio::net::TcpListener, StartError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: addr.to_owned(),
            source,
        })
}

fn local_addr(listener: &tokio::net::TcpListener, addr: &str) -> Result<SocketAddr, StartError> {
    listener.local_addr().map_err(|source| StartError::Bind {
        addr: addr.to_owned(),
        source,
    })
}

/// `/metrics` alone on an admin listener: no API, no edge stack, so it is reachable only where
/// that address is.
fn serve_metrics(
    listener: tokio::net::TcpListener,
    mut shutdown: watch::Receiver<bool>,
    background: &mut Vec<JoinHandle<()>>,
) -> Result<SocketAddr, StartError> {
    let local = local_addr(&listener, "the metrics listener")?;
    let router = axum::Router::new().route("/metrics", axum::routing::get(ops::metrics));
    background.push(tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = shutdown.wait_for(|stop| *stop).await;
            })
            .await;
        if let Err(err) = served {
            tracing::error!(error = %err, "metrics listener failed");
        }
    }));
    tracing::info!(addr = %local, "metrics listener ready");
    Ok(local)
}

/// Periodic housekeeping of in-memory state: expired cache entries, idle rate-limit keys,
/// histogram upkeep, and picking up keys rotated by another process.
async fn upkeep(ctx: Context, mut shutdown: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(Duration::from_secs(30));
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = shutdown.changed() => return,
        }
        telemetry::metrics_upkeep();
        ctx.cache.purge_expired();
        if let Some(limiter) = &ctx.limiter {
            limiter.purge_idle();
        }
        if let Err(err) = ctx.keyring.reload_if_stale(Duration::from_secs(60)).await {
            tracing::warn!(error = %err, "keyring reload failed");
        }
    }
}

/// Retention of the event log: events and inbox rows older than a week that every consumer has
/// passed are deleted daily, and idempotency keys past their retention.
struct PruneEventLog {
    db: Db,
}

const EVENT_RETENTION_SECS: i64 = 7 * 24 * 3600;

#[async_trait]
impl JobHandler for PruneEventLog {
    async fn run(&self, _job: &JobRun) -> Result<(), BoxError> {
        let horizon = Timestamp::now()
            .plus_seconds(-EVENT_RETENTION_SECS)
            .millis();
        on_db!(&self.db, pool => {
            sqlx::query(
                "DELETE FROM platform_outbox WHERE occurred_at < $1 AND NOT EXISTS (
                   SELECT 1 FROM platform_consumer_positions p
                   WHERE (p.tx_id, p.seq) < (platform_outbox.tx_id, platform_outbox.seq))",
            )
            .bind(horizon)
            .execute(pool)
            .await?;
            sqlx::query("DELETE FROM platform_inbox WHERE processed_at < $1")
                .bind(horizon)
                .execute(pool)
                .await?;
        });
        crate::idempotency::prune(&self.db).await?;
        Ok(())
    }
}

fn prune_job(db: Db) -> JobSpec {
    JobSpec {
        name: "platform.prune_event_log",
        schedule: Some("0 30 3 * * *".into()),
        max_attempts: 3,
        handler: Arc::new(PruneEventLog { db }),
    }
}
