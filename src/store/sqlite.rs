//! The embedded default: SQLite in WAL mode with synchronous=FULL (a committed change
//! survives a power cut), foreign keys enforced, deleted rows overwritten.

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

use super::sql::sql_store;
use super::*;
use crate::domain::account::AccountState;
use crate::domain::password::CharacterClasses;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` and runs the embedded migrations.
    pub async fn connect(url: &str, pool: &PoolSettings) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Deleted rows (sent mail, used links) are overwritten, not left in free pages.
            .pragma("secure_delete", "ON")
            // Several processes (server and CLI) share the file: wait for a writer, don't fail.
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(pool.max_connections)
            .acquire_timeout(pool.acquire_timeout)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore { pool })
    }

    /// SQLite takes `?` placeholders as written.
    fn sql(text: &str) -> Cow<'_, str> {
        Cow::Borrowed(text)
    }

    /// SQLite runs one writer at a time, so a claim cannot collide; it has no SKIP LOCKED.
    const SKIP_LOCKED: &'static str = "";
    /// A single INSERT … SELECT is already serialised with every other writer.
    const LOCK_USER: Option<&'static str> = None;
}

sql_store!(SqliteStore, Sqlite, SqliteRow);
