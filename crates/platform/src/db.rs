//! One code path over two databases: `Db::Sqlite | Db::Pg` over concrete sqlx pools.
//! Stores write runtime queries with `$1` placeholders and run them through [`on_db!`] or
//! [`on_tx!`], which expand the same query once per backend.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolOptions;
use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};
use sqlx::{Postgres, Sqlite, Transaction};
use tokio::sync::OwnedMutexGuard;

use crate::config::DatabaseConfig;

#[derive(Debug, Clone)]
pub enum Db {
    /// SQLite has one writer at a time; the lock queues this process's writers fairly (FIFO)
    /// instead of leaving them to SQLite's busy-wait backoff, which starves some under load.
    Sqlite(SqlitePool, Option<Arc<tokio::sync::Mutex<()>>>),
    Pg(PgPool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// An open transaction on either backend. Events and jobs are written through it so they commit
/// or vanish with the state change that caused them.
pub enum Tx {
    /// The transaction, and this process's writer slot until it ends.
    Sqlite(Transaction<'static, Sqlite>, Option<OwnedMutexGuard<()>>),
    Pg(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$conn` bound to the pool of whichever backend `$db` is.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $conn:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($conn, _) => $body,
            $crate::db::Db::Pg($conn) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the connection of the open transaction `$tx`.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(inner, _) => {
                let $conn = &mut **inner;
                $body
            }
            $crate::db::Tx::Pg(inner) => {
                let $conn = &mut **inner;
                $body
            }
        }
    };
}

/// Runs one write on its own in a transaction, so that on SQLite it takes its turn in the
/// writer queue rather than SQLite's busy wait (where it can starve for seconds under load).
/// Evaluates to `Result<T, sqlx::Error>`.
#[macro_export]
macro_rules! on_write {
    ($db:expr, $conn:ident => $body:expr) => {
        async {
            let mut tx = $db.begin().await?;
            let result = $crate::on_tx!(&mut tx, $conn => $body)?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(result)
        }
        .await
    };
}

impl Db {
    pub async fn connect(url: &str, config: &DatabaseConfig) -> Result<Self, sqlx::Error> {
        let acquire = Duration::from_secs(config.acquire_timeout_secs);
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // Idempotent DDL (`IF NOT EXISTS`) on every start makes the server send NOTICEs
            // that sqlx logs at INFO; warnings and errors still come through.
            let options = PgConnectOptions::from_str(url)?
                .application_name("pasar")
                .options([("client_min_messages", "warning")]);
            let pool = PoolOptions::<Postgres>::new()
                .max_connections(config.max_connections)
                .min_connections(1)
                .acquire_timeout(acquire)
                .connect_with(options)
                .await?;
            Ok(Db::Pg(pool))
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = PoolOptions::<Sqlite>::new()
                .max_connections(config.max_connections)
                .min_connections(1)
                .acquire_timeout(acquire)
                .connect_with(options)
                .await?;
            Ok(Db::Sqlite(
                pool,
                config.sqlite_writer_queue.then(Arc::default),
            ))
        }
    }

    /// A pool that opens nothing until used: for producing documents (OpenAPI) offline.
    pub fn offline() -> Self {
        let options = SqliteConnectOptions::new().in_memory(true);
        Db::Sqlite(
            PoolOptions::<Sqlite>::new().connect_lazy_with(options),
            None,
        )
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(..) => Dialect::Sqlite,
            Db::Pg(_) => Dialect::Postgres,
        }
    }

    /// Starts a transaction. On SQLite it first waits its turn in the writer queue, then takes
    /// the write lock up front (`BEGIN IMMEDIATE`) so it never fails on lock upgrade. The queue
    /// is not reentrant: never begin a transaction while holding one in the same task.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self {
            Db::Sqlite(pool, writer) => {
                let slot = match writer {
                    Some(writer) => Some(writer.clone().lock_owned().await),
                    None => None,
                };
                Ok(Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?, slot))
            }
            Db::Pg(pool) => Ok(Tx::Pg(pool.begin().await?)),
        }
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
    }

    pub async fn close(&self) {
        on_db!(self, pool => pool.close().await)
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx, _slot) => tx.commit().await,
            Tx::Pg(tx) => tx.commit().await,
        }
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx, _slot) => tx.rollback().await,
            Tx::Pg(tx) => tx.rollback().await,
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Tx::Sqlite(..) => Dialect::Sqlite,
            Tx::Pg(_) => Dialect::Postgres,
        }
    }
}

/// True when the error is a UNIQUE constraint violation (duplicates are domain conflicts).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|db_err| db_err.is_unique_violation())
}

/// True when the error is a CHECK constraint violation.
pub fn is_check_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|db_err| db_err.is_check_violation())
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::like_escape;

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(like_escape("a%b_c\\"), "a\\%b\\_c\\\\");
    }
}
