//! A consistent copy of a live SQLite database. Copying the file of a running database can
//! catch it between the database and its write-ahead log; `VACUUM INTO` instead writes one
//! transaction's snapshot to a new, compact file while the server goes on reading and
//! writing (readers never wait in WAL mode; the writer waits only for the snapshot's start).
//! PostgreSQL has its own tool for this, `pg_dump`.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// What was written, checked by opening the copy.
#[derive(Debug, Clone)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub users: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "the database is PostgreSQL: back it up with pg_dump (see the README, \"Backup and restore\")"
    )]
    Postgres,
    #[error("{0} already exists: choose a new file name (a backup never overwrites)")]
    Exists(PathBuf),
    #[error("the copy at {0} did not pass SQLite's integrity check: {1}")]
    Damaged(PathBuf, String),
    #[error("no database at {0} (settings `data_dir`, `database_url`)")]
    Missing(PathBuf),
    /// Not `#[from]`: sqlx's errors repeat their cause in their message already.
    #[error("database: {0}")]
    Database(sqlx::Error),
    #[error("{0}: {1}")]
    File(PathBuf, std::io::Error),
}

impl From<sqlx::Error> for BackupError {
    fn from(e: sqlx::Error) -> Self {
        BackupError::Database(e)
    }
}

/// Writes a consistent copy of the SQLite database at `url` to `target`, then opens the
/// copy and checks it.
pub async fn sqlite_backup(url: &str, target: &Path) -> Result<BackupReport, BackupError> {
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        return Err(BackupError::Postgres);
    }
    if target.exists() {
        return Err(BackupError::Exists(target.to_owned()));
    }
    let options = SqliteConnectOptions::from_str(url)?;
    if !options.get_filename().exists() {
        return Err(BackupError::Missing(options.get_filename().to_owned()));
    }
    let mut source = options
        .read_only(true)
        .busy_timeout(Duration::from_secs(30))
        .connect()
        .await?;
    let target_text = target.to_string_lossy().into_owned();
    sqlx::query("VACUUM INTO ?")
        .bind(&target_text)
        .execute(&mut source)
        .await?;
    source.close().await?;

    let mut copy = SqliteConnectOptions::new()
        .filename(target)
        .read_only(true)
        .connect()
        .await?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut copy)
        .await?;
    if integrity != "ok" {
        return Err(BackupError::Damaged(target.to_owned(), integrity));
    }
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut copy)
        .await?;
    copy.close().await?;
    let bytes = std::fs::metadata(target)
        .map_err(|e| BackupError::File(target.to_owned(), e))?
        .len();
    Ok(BackupReport {
        path: target.to_owned(),
        bytes,
        users,
    })
}
