use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "pasar", version, about = "Pasar marketplace backend")]
pub struct Cli {
    /// Data directory (SQLite database, key file, pasar.toml). Default ./pasar-data.
    #[arg(long, global = true, env = "PASAR_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Configuration file (default: pasar.toml in the data dir).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server with the chosen modules.
    Serve {
        /// Listen address (default from config: 127.0.0.1:8080).
        #[arg(long)]
        addr: Option<String>,
        /// `all`, or a comma-separated list of modules.
        #[arg(long, default_value = "all")]
        modules: String,
        /// Seed demo data first (admin, three merchants with staff, outlets, products, stock),
        /// unless it is there already.
        #[arg(long)]
        demo: bool,
    },
    /// Fill the database with data.
    Seed {
        #[command(subcommand)]
        command: SeedCommand,
    },
    /// Apply pending database migrations of every module and exit.
    Migrate,
    /// Print the OpenAPI 3.1 document (public routes; `--internal`: the routes modules call
    /// on each other).
    Openapi {
        #[arg(long)]
        internal: bool,
    },
    /// Print the event catalogue: every event type, its producer and consumers, and the JSON
    /// Schema of its payload (AsyncAPI 3.0).
    Events,
    /// Signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The search index.
    Search {
        #[command(subcommand)]
        command: SearchCommand,
    },
    /// The edge in front of split processes.
    Gateway {
        #[command(subcommand)]
        command: GatewayCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum GatewayCommand {
    /// Print an nginx configuration routing each route to the instances in `remote.<module>`
    /// (the same layout `serve --modules gateway` serves).
    NginxConfig {
        /// Address nginx listens on (default: `http.addr`).
        #[arg(long)]
        listen: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// Rebuild the index of every running search instance online: each builds a new index
    /// aside from the modules' data and swaps it in, answering searches all along. The
    /// instances are `--url`s, else `remote.search`, else this configuration's server.
    Reindex {
        #[arg(long = "url")]
        urls: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a new access-token signing key; old keys verify until their tokens expire.
    Rotate,
    /// Print a short-lived token for the internal routes, as module `caller` would send it (for
    /// operators and benchmarks calling `/internal` routes by hand; needs the data dir's keys).
    InternalToken {
        #[arg(long = "as", value_name = "MODULE")]
        caller: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin account, or grant admin to an existing one (idempotent on email).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SeedCommand {
    /// A live demo marketplace (idempotent: does nothing when the demo admin exists).
    Demo,
}
