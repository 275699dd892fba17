//! `pasar`: the one binary. Runs every module in one process by default, or a chosen set.

mod cli;
mod seed;

use anyhow::{bail, Context as _};
use clap::Parser;
use platform::config::{Config, ConfigSources};
use platform::Module;

use cli::{AdminCommand, Cli, Command, GatewayCommand, KeysCommand, SearchCommand, SeedCommand};

/// jemalloc returns freed memory to the system on a timer (glibc kept argon2's 19 MiB blocks per
/// thread arena: 230 MiB after a login benchmark) and allocates faster on the request path.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn all_modules() -> Vec<Module> {
    registry::modules()
}

/// Which route each module serves, from each module's own OpenAPI document; and those
/// documents as one, without internal routes.
fn route_table(config: &Config) -> anyhow::Result<(gateway::RouteTable, utoipa::openapi::OpenApi)> {
    let documents: Vec<(&str, utoipa::openapi::OpenApi)> = all_modules()
        .iter()
        .map(|module| {
            (
                module.name,
                platform::app::openapi(config.clone(), std::slice::from_ref(module)),
            )
        })
        .collect();
    let texts: Vec<(&str, String)> = documents
        .iter()
        .map(|(module, document)| (*module, document.to_json().unwrap_or_default()))
        .collect();
    let table = gateway::RouteTable::from_documents(texts.iter().map(|(m, d)| (*m, d.as_str())))
        .context("reading the modules' route documents")?;
    let public =
        gateway::RouteTable::public_document(documents.into_iter().map(|(_, document)| document));
    Ok((table, public))
}

/// The modules of this process (`all`, or a comma-separated list; `gateway` is the edge in
/// front of split processes), and the modules that run elsewhere.
fn select_modules(selection: &str, config: &Config) -> anyhow::Result<(Vec<Module>, Vec<Module>)> {
    let all = all_modules();
    if selection.trim() == "all" {
        return Ok((all, Vec::new()));
    }
    let mut chosen = Vec::new();
    for name in selection
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        if name == "gateway" {
            let (table, document) = route_table(config)?;
            chosen.push(gateway::module(table, document));
            continue;
        }
        match all.iter().find(|m| m.name == name) {
            Some(module) => chosen.push(module.clone()),
            None => bail!(
                "unknown module '{name}'; known: gateway, {}",
                all.iter().map(|m| m.name).collect::<Vec<_>>().join(", ")
            ),
        }
    }
    if chosen.is_empty() {
        bail!("--modules selected no module");
    }
    let gateway_only = chosen.iter().all(|m| m.name == "gateway");
    let elsewhere = all
        .into_iter()
        .filter(|m| !chosen.iter().any(|c| c.name == m.name))
        // The gateway checks credentials (API keys, with identity) but authorizes nothing, so
        // it needs no merchant memberships.
        .filter(|m| !gateway_only || m.name == "identity")
        .collect();
    Ok((chosen, elsewhere))
}

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let sections: Vec<_> = all_modules().iter().filter_map(|m| m.config).collect();
    Config::load(
        &ConfigSources {
            data_dir: cli.data_dir.clone(),
            config_file: cli.config.clone(),
        },
        &sections,
    )
    .context("reading configuration")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = load_config(&cli)?;
    let tracing = platform::telemetry::init_logging(&config.log, &config.tracing);
    let result = run(cli, config).await;
    if let Some(tracing) = tracing {
        tracing.shutdown();
    }
    result
}

async fn run(cli: Cli, mut config: Config) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            addr,
            modules,
            demo,
        } => {
            if let Some(addr) = addr {
                config.http.addr = addr;
            }
            if demo {
                // The demo's customers pay through the simulator's pages and ship through the
                // simulator courier.
                config
                    .edit_section::<payments::config::PaymentsConfig>(|p| {
                        p.simulator.enabled = true
                    })
                    .context("reading the payments section")?;
                config
                    .edit_section::<shipping::config::ShippingConfig>(|s| {
                        s.simulator.enabled = true
                    })
                    .context("reading the shipping section")?;
            }
            let (modules, elsewhere) = select_modules(&modules, &config)?;
            let app = platform::app::start_with(config, modules, elsewhere)
                .await
                .context("starting pasar")?;
            if demo {
                report(seed::demo(&app).await.context("seeding demo data")?);
            }
            shutdown_signal().await;
            tracing::info!("shutdown signal received; draining");
            app.shutdown().await;
        }
        Command::Seed {
            command: SeedCommand::Demo,
        } => {
            // A private port: the seed talks to this instance only.
            config.http.addr = "127.0.0.1:0".into();
            let app = platform::app::start(config, all_modules())
                .await
                .context("starting pasar")?;
            let summary = seed::demo(&app).await.context("seeding demo data");
            app.shutdown().await;
            report(summary?);
        }
        Command::Migrate => {
            let databases = platform::app::migrate(&config, &all_modules()).await?;
            databases.close().await;
            println!("migrations applied");
        }
        Command::Events => {
            let documents = platform::app::openapi_documents(config, &all_modules());
            if !documents.event_problems.is_empty() {
                bail!(
                    "the event catalogue is wrong:\n{}",
                    documents.event_problems.join("\n")
                );
            }
            println!("{}", serde_json::to_string_pretty(&documents.events)?);
        }
        Command::Openapi { internal } => {
            let documents = platform::app::openapi_documents(config, &all_modules());
            if !documents.problems.is_empty() {
                bail!(
                    "the OpenAPI document is wrong:\n{}",
                    documents.problems.join("\n")
                );
            }
            let document = if internal {
                documents.internal
            } else {
                documents.public
            };
            println!("{}", serde_json::to_string_pretty(&document)?);
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            let databases = platform::app::migrate(&config, &all_modules()).await?;
            let ctx = platform::app::context(config, databases.main.clone()).await?;
            let kid = ctx.keyring.rotate().await?;
            databases.close().await;
            println!(
                "new signing key {kid}; previous keys stay in the JWKS until their tokens expire"
            );
        }
        Command::Keys {
            command: KeysCommand::InternalToken { caller },
        } => {
            let modules = all_modules();
            if !modules.iter().any(|m| m.name == caller) {
                bail!(
                    "--as names a module: one of {}",
                    modules
                        .iter()
                        .map(|m| m.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            // Against the server's keys only: a wrong data dir must not mint keys of its own.
            if config.database.url.is_none() && !config.data_dir.join("pasar.db").exists() {
                bail!(
                    "no Pasar database in {}: point --data-dir (or database.url) at the server's",
                    config.data_dir.display()
                );
            }
            let databases = platform::app::migrate(&config, &modules).await?;
            let ctx = platform::app::context(config, databases.main.clone()).await?;
            let (token, ttl) = ctx.authenticator.issue_internal(&caller)?;
            databases.close().await;
            eprintln!("internal token as {caller}, valid {ttl} s: it opens every /internal route");
            println!("{token}");
        }
        Command::Search {
            command: SearchCommand::Reindex { urls },
        } => {
            search_reindex(config, urls).await?;
        }
        Command::Gateway {
            command: GatewayCommand::NginxConfig { listen },
        } => {
            let (table, _) = route_table(&config)?;
            let listen = listen.unwrap_or_else(|| config.http.addr.clone());
            print!(
                "{}",
                gateway::nginx::config(&gateway::nginx::NginxLayout {
                    table: &table,
                    remote: &config.remote,
                    listen: &listen,
                    per_minute: config.rate_limit.edge,
                    body_limit_bytes: config
                        .http
                        .upload_limit_bytes
                        .max(config.http.body_limit_bytes),
                })
            );
        }
        Command::Admin {
            command: AdminCommand::Create { email, password },
        } => {
            let databases = platform::app::migrate(&config, &all_modules()).await?;
            let ctx = platform::app::context(config, databases.main.clone()).await?;
            let identity = identity::Identity::new(platform::Context {
                db: databases.of("identity"),
                ..ctx
            });
            let (user, created) = identity
                .bootstrap_admin(&email, &password)
                .await
                .map_err(|err| anyhow::anyhow!("{}", kernel::ApiError::from(err).detail))?;
            databases.close().await;
            if created {
                println!("admin {} created ({})", user.email, user.id);
            } else {
                println!(
                    "{} already exists; it has the admin role ({})",
                    user.email, user.id
                );
            }
        }
    }
    Ok(())
}

fn report(summary: seed::Summary) {
    if !summary.created {
        println!("demo data is already there ({} exists)", seed::ADMIN_EMAIL);
        return;
    }
    println!(
        "demo marketplace ready: {} merchants, {} products.\n\
         sign in with password {} as {} (admin), kopi.owner@example.com, kopi.manager@example.com,\n\
         kopi.cashier@example.com (also batik.* and spa.*), or customer@example.com",
        summary.merchants,
        summary.products,
        seed::PASSWORD,
        seed::ADMIN_EMAIL
    );
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot listen for SIGTERM");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// Asks each search instance to rebuild its index, one after the other, with a token the
/// instances trust (minted from the data dir's keys, as `keys internal-token` does).
async fn search_reindex(config: Config, urls: Vec<String>) -> anyhow::Result<()> {
    let urls: Vec<String> = if !urls.is_empty() {
        urls
    } else if let Some(remote) = config.remote.get("search") {
        remote.split(',').map(|u| u.trim().to_owned()).collect()
    } else {
        vec![config
            .http
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", config.http.addr))]
    };
    if config.database.url.is_none() && !config.data_dir.join("pasar.db").exists() {
        bail!(
            "no Pasar database in {}: point --data-dir (or database.url) at the server's",
            config.data_dir.display()
        );
    }
    let databases = platform::app::migrate(&config, &all_modules()).await?;
    let ctx = platform::app::context(config, databases.main.clone()).await?;
    let client = reqwest::Client::new();
    let outcome = async {
        for url in urls {
            // A token per instance: the one before may take longer than a token lives.
            let (token, _) = ctx.authenticator.issue_internal("search")?;
            let url = format!("{}/internal/v1/search/reindex", url.trim_end_matches('/'));
            let response = client
                .post(&url)
                .bearer_auth(&token)
                .send()
                .await
                .with_context(|| format!("{url} did not answer"))?;
            let status = response.status();
            let mut body: serde_json::Value = response.json().await.unwrap_or_default();
            if status == reqwest::StatusCode::ACCEPTED {
                // Longer than a request may take: it runs on; ask until it is done.
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    let status: serde_json::Value = client
                        .get(&url)
                        .bearer_auth(&token)
                        .send()
                        .await
                        .with_context(|| format!("{url} did not answer"))?
                        .json()
                        .await?;
                    if status["running"] == false {
                        if let Some(error) = status["lastError"].as_str() {
                            bail!("{url}: the rebuild failed: {error}");
                        }
                        body = status["last"].clone();
                        break;
                    }
                }
            } else if !status.is_success() {
                bail!("{url} answered {status}: {body}");
            }
            println!(
                "{url}: {} documents in {} ms",
                body["documents"], body["millis"]
            );
        }
        anyhow::Ok(())
    }
    .await;
    databases.close().await;
    outcome
}
