//! Per-module migrations, one folder per dialect, tracked per module in `platform_migrations`.

use kernel::Timestamp;
use ring::digest;

use crate::db::{Db, Dialect};
use crate::on_tx;

/// One migration: a version unique within its module, and the SQL of each dialect.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

impl Migration {
    fn sql(&self, dialect: Dialect) -> &'static str {
        match dialect {
            Dialect::Sqlite => self.sqlite,
            Dialect::Postgres => self.postgres,
        }
    }
}

/// Declares a migration from `migrations/{sqlite,postgres}/<file>` of the calling crate.
#[macro_export]
macro_rules! migration {
    ($version:expr, $file:literal) => {
        $crate::migrate::Migration {
            version: $version,
            name: $file,
            sqlite: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/migrations/sqlite/",
                $file
            )),
            postgres: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/migrations/postgres/",
                $file
            )),
        }
    };
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("database error while migrating {module}: {source}")]
    Database {
        module: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("migration {module}/{version} was changed after it was applied (checksum differs)")]
    Changed { module: String, version: i64 },
}

const TRACKING_TABLE: &str = "CREATE TABLE IF NOT EXISTS platform_migrations (
    module TEXT NOT NULL,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at BIGINT NOT NULL,
    PRIMARY KEY (module, version)
)";

/// Applies the module's pending migrations, each in its own transaction with its tracking row.
/// On PostgreSQL an advisory lock serialises processes starting at the same time.
pub async fn apply(db: &Db, module: &str, migrations: &[Migration]) -> Result<usize, MigrateError> {
    let wrap = |source| MigrateError::Database {
        module: module.to_owned(),
        source,
    };
    let mut tx = db.begin().await.map_err(wrap)?;
    if tx.dialect() == Dialect::Postgres {
        on_tx!(&mut tx, conn => sqlx::query("SELECT pg_advisory_xact_lock(7236784412)").execute(conn).await.map(|r| r.rows_affected()))
            .map_err(wrap)?;
    }
    on_tx!(&mut tx, conn => sqlx::raw_sql(TRACKING_TABLE).execute(conn).await.map(|r| r.rows_affected())).map_err(wrap)?;
    let applied: Vec<(i64, String)> = on_tx!(&mut tx, conn => sqlx::query_as(
        "SELECT version, checksum FROM platform_migrations WHERE module = $1"
    ).bind(module).fetch_all(conn).await)
    .map_err(wrap)?;

    let dialect = tx.dialect();
    let mut count = 0;
    for migration in migrations {
        let sql = migration.sql(dialect);
        let checksum = checksum(sql);
        if let Some((_, existing)) = applied.iter().find(|(v, _)| *v == migration.version) {
            if *existing != checksum {
                return Err(MigrateError::Changed {
                    module: module.to_owned(),
                    version: migration.version,
                });
            }
            continue;
        }
        on_tx!(&mut tx, conn => sqlx::raw_sql(sql).execute(conn).await.map(|r| r.rows_affected()))
            .map_err(wrap)?;
        on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO platform_migrations (module, version, name, checksum, applied_at) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(module)
        .bind(migration.version)
        .bind(migration.name)
        .bind(&checksum)
        .bind(Timestamp::now().millis())
        .execute(conn).await.map(|r| r.rows_affected()))
        .map_err(wrap)?;
        count += 1;
    }
    tx.commit().await.map_err(wrap)?;
    Ok(count)
}

fn checksum(sql: &str) -> String {
    let hash = digest::digest(&digest::SHA256, sql.as_bytes());
    hash.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}
