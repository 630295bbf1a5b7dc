//! PostgreSQL: the store for several instances behind a load balancer. The same queries as
//! SQLite (see `sql.rs`); what must happen once is decided by row locks and conditional
//! updates in the database, never by state in one process.

use std::borrow::Cow;
use std::str::FromStr;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row, Transaction};

use super::sql::sql_store;
use super::*;
use crate::domain::account::AccountState;
use crate::domain::audit_chain::{Anchor, ChainHash};
use crate::domain::login_method::LoginMethod;
use crate::domain::onboarding::InvitationFacts;
use crate::domain::passkey::{PasskeyPolicy, Purpose};
use crate::domain::password::CharacterClasses;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The same pool: PostgreSQL runs writers side by side.
    readers: PgPool,
}

impl PgStore {
    /// Connects to `url` and runs the embedded migrations (in a transaction, under
    /// sqlx's advisory lock, so instances starting together migrate once).
    pub async fn connect(url: &str, pool: &PoolSettings) -> StoreResult<PgStore> {
        let options = PgConnectOptions::from_str(url)?;
        // One connection first: a pool that cannot connect only says "pool timed out"
        // after its timeout; the connection says why (refused, unknown host, password).
        use sqlx::Connection;
        let at = format!("{}:{}", options.get_host(), options.get_port());
        let first = sqlx::PgConnection::connect_with(&options);
        match tokio::time::timeout(pool.acquire_timeout, first).await {
            Err(_) => {
                let seconds = pool.acquire_timeout.as_secs();
                let why = format!("no answer from PostgreSQL at {at} within {seconds} s");
                return Err(StoreError::Unreachable(why));
            }
            Ok(Err(e)) => {
                let why = format!("cannot connect to PostgreSQL at {at}: {e}");
                return Err(StoreError::Unreachable(why));
            }
            Ok(Ok(connection)) => {
                let _ = connection.close().await;
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(pool.max_connections)
            .acquire_timeout(pool.acquire_timeout)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PgStore {
            readers: pool.clone(),
            pool,
        })
    }

    /// Relaxed commits are set per transaction (`RELAX_TRANSACTION`): no connection of their own.
    fn relaxed_pool(&self) -> Option<&PgPool> {
        None
    }

    /// The extended protocol takes one statement per query: each rotation is a transaction of
    /// its own, step by step (several writers run at once here).
    fn rotation_queue(
        &self,
    ) -> Option<&std::sync::Arc<super::sql::group_commit::RotationQueue<sqlx::postgres::PgRow>>>
    {
        None
    }

    /// `?` and `?N` placeholders become PostgreSQL's `$N`.
    fn sql(text: &str) -> Cow<'_, str> {
        Cow::Owned(numbered_placeholders(text))
    }

    /// Claims skip rows that another instance is claiming at this moment.
    const SKIP_LOCKED: &'static str = "FOR UPDATE SKIP LOCKED";
    /// Under READ COMMITTED two parallel INSERT … SELECT COUNT(*) could both pass the rate
    /// limit; locking the user's row first serialises them.
    const LOCK_USER: Option<&'static str> = Some("SELECT id FROM users WHERE id = ? FOR UPDATE");
    /// Instances starting together on an empty database: one at a time checks for a first
    /// signing key and makes it (the lock ends with the transaction; readers are not blocked).
    const LOCK_SIGNING_KEYS: Option<&'static str> =
        Some("LOCK TABLE oidc_signing_keys IN SHARE ROW EXCLUSIVE MODE");
    /// Relaxed commits (see `relaxed_writer` in sql/mod.rs): for this transaction only, the
    /// commit does not wait for the WAL flush.
    const RELAX_TRANSACTION: Option<&'static str> = Some("SET LOCAL synchronous_commit = off");
    /// The extended protocol takes one statement per query: a batch runs statement by
    /// statement.
    const ONE_QUERY_BATCHES: bool = false;
    /// The pools the metrics report: one, shared by readers and writers.
    const POOLS: &'static [(&'static str, bool)] = &[("main", false)];
}

/// Rewrites `?` (the next number) and `?N` (that number) to `$N`, outside string literals
/// (public for the benchmark's seeding, which writes its SQL once for both databases too).
pub fn numbered_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut next = 1;
    let mut in_literal = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_literal = !in_literal;
                out.push(c);
            }
            '?' if !in_literal => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    out.push_str(&format!("${next}"));
                    next += 1;
                } else {
                    out.push('$');
                    out.push_str(&digits);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

sql_store!(PgStore, Postgres, PgRow);

#[cfg(test)]
mod tests {
    use super::numbered_placeholders;

    #[test]
    fn placeholders_are_numbered() {
        assert_eq!(
            numbered_placeholders("SELECT a FROM t WHERE b = ? AND c = 'x?' AND d > ?"),
            "SELECT a FROM t WHERE b = $1 AND c = 'x?' AND d > $2"
        );
        assert_eq!(
            numbered_placeholders("INSERT INTO t SELECT ?1, ?2 WHERE x = ?1"),
            "INSERT INTO t SELECT $1, $2 WHERE x = $1"
        );
    }
}
