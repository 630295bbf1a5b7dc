//! The embedded default: SQLite in WAL mode with synchronous=FULL (a committed change
//! survives a power cut; the throttle's, a login step's and a token rotation's writes are
//! the relaxed exception, see `relaxed_writer` in sql/mod.rs), foreign keys enforced, deleted rows
//! overwritten.

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

use super::sql::group_commit::RotationQueue;
use super::sql::sql_store;
use super::*;
use crate::domain::account::AccountState;
use crate::domain::audit_chain::{Anchor, ChainHash};
use crate::domain::login_method::LoginMethod;
use crate::domain::onboarding::InvitationFacts;
use crate::domain::passkey::{PasskeyPolicy, Purpose};
use crate::domain::password::CharacterClasses;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Clone)]
pub struct SqliteStore {
    /// The one writing connection. SQLite runs one writer at a time; with several writing
    /// connections the others wait in SQLite's busy handler, which sleeps in steps of up to
    /// 100 ms. Queued here instead, writers wait only as long as the writes before them.
    pool: SqlitePool,
    /// A second writing connection with synchronous=NORMAL, for the relaxed commits (see
    /// `relaxed_writer` in sql/mod.rs): used only while the durable writer above is held, so
    /// the two never write at once. Two connections rather than one switched back and forth:
    /// switching cost two statements on every relaxed write (a third of a refresh's).
    relaxed: SqlitePool,
    /// Readers, many at once (WAL: reads never wait for the writer).
    readers: SqlitePool,
    /// Refresh-token rotations waiting for the writer, committed in groups
    /// (`sql/group_commit.rs`).
    rotations: Arc<RotationQueue<SqliteRow>>,
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
        // The writer never checkpoints: a checkpoint inside a commit would stall every write
        // queued behind it. A background task checkpoints instead (below).
        // Local connections do not go stale: no test query before each use (sqlx's default
        // costs a round trip to the connection's thread on every acquire).
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(pool.acquire_timeout)
            .test_before_acquire(false)
            .connect_with(options.clone().pragma("wal_autocheckpoint", "0"))
            .await?;
        MIGRATOR.run(&writer).await?;
        let relaxed = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(pool.acquire_timeout)
            .test_before_acquire(false)
            .connect_with(
                options
                    .clone()
                    .synchronous(SqliteSynchronous::Normal)
                    .pragma("wal_autocheckpoint", "0"),
            )
            .await?;
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        tokio::spawn(checkpoint_regularly(checkpointer));
        let readers = SqlitePoolOptions::new()
            .max_connections(pool.max_connections)
            .acquire_timeout(pool.acquire_timeout)
            .test_before_acquire(false)
            // 512 KiB of pages each rather than SQLite's 2 MiB: eight readers filled 16 MiB
            // with copies of what the OS caches anyway (peak 42–47 → 37–40 MiB in `--oidc`,
            // no loss of reads; docs/performance.md).
            .connect_with(options.read_only(true).pragma("cache_size", "-512"))
            .await?;
        Ok(SqliteStore {
            pool: writer,
            relaxed,
            readers,
            rotations: Arc::default(),
        })
    }

    /// The relaxed writer's own connection (see `relaxed_writer` in sql/mod.rs).
    fn relaxed_pool(&self) -> Option<&SqlitePool> {
        Some(&self.relaxed)
    }

    /// Rotations are committed in groups: sqlx runs a query of several statements in one call
    /// to the connection's thread here.
    fn rotation_queue(&self) -> Option<&Arc<RotationQueue<SqliteRow>>> {
        Some(&self.rotations)
    }

    /// SQLite takes `?` placeholders as written.
    fn sql(text: &str) -> Cow<'_, str> {
        Cow::Borrowed(text)
    }

    /// SQLite runs one writer at a time, so a claim cannot collide; it has no SKIP LOCKED.
    const SKIP_LOCKED: &'static str = "";
    /// A single INSERT … SELECT is already serialised with every other writer.
    const LOCK_USER: Option<&'static str> = None;
    /// The conditional INSERT is one statement, serialised with every other writer.
    const LOCK_SIGNING_KEYS: Option<&'static str> = None;
    /// Relaxed commits run on their own connection (in WAL mode, synchronous=NORMAL skips the
    /// flush at commit), nothing to set per transaction.
    const RELAX_TRANSACTION: Option<&'static str> = None;
    /// A write of several statements runs as one query: one call to the connection's thread
    /// (`batch.rs`).
    const ONE_QUERY_BATCHES: bool = true;
    /// The pools the metrics report: (name, is the readers' pool).
    const POOLS: &'static [(&'static str, bool)] = &[("writer", false), ("readers", true)];
}

/// Copies the write-ahead log into the database every second, on a connection of its own.
/// PASSIVE never waits for readers or the writer, so requests do not wait for it either.
async fn checkpoint_regularly(connection: SqlitePool) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&connection)
            .await
        {
            tracing::warn!(error = %e, "SQLite checkpoint failed; will try again");
        }
    }
}

sql_store!(SqliteStore, Sqlite, SqliteRow);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::throttle::ThrottlePolicy;

    /// A store on a new database file in a folder of its own (kept while the folder lives).
    async fn fresh_store() -> (tempfile::TempDir, String, SqliteStore) {
        let folder = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", folder.path().display());
        let settings = PoolSettings {
            max_connections: 2,
            acquire_timeout: Duration::from_secs(5),
        };
        let store = SqliteStore::connect(&url, &settings).await.unwrap();
        (folder, url, store)
    }

    async fn synchronous(store: &SqliteStore) -> i64 {
        sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&store.pool)
            .await
            .unwrap()
    }

    /// Relaxed commits (the throttle, a login step, a rotation) run on their own connection:
    /// the durable writer stays durable for the writes after them, also when a relaxed
    /// transaction fails, and the relaxed one skips the flush.
    #[tokio::test]
    async fn the_writer_is_durable_again_after_a_relaxed_commit_even_a_failed_one() {
        let (_folder, _, store) = fresh_store().await;
        const FULL: i64 = 2;
        const NORMAL: i64 = 1;
        assert_eq!(synchronous(&store).await, FULL);
        let relaxed: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&store.relaxed)
            .await
            .unwrap();
        assert_eq!(relaxed, NORMAL);

        let policy = ThrottlePolicy::for_accounts(10, 15);
        let check = ThrottleCheck {
            subject: "account:jan".into(),
            policy: &policy,
        };
        let admission = store.reserve_attempt(&[check], None, 1000).await.unwrap();
        assert!(matches!(admission, Admission::Admitted { .. }));
        assert_eq!(synchronous(&store).await, FULL);

        // A code counted for a session that does not exist: refused.
        let check = ThrottleCheck {
            subject: "account:jan".into(),
            policy: &policy,
        };
        let missing = crate::domain::token::TokenHash([7; 32]);
        assert!(
            store
                .reserve_attempt(&[check], Some(&missing), 1000)
                .await
                .is_err()
        );
        assert_eq!(synchronous(&store).await, FULL);

        // A settlement whose statement fails half-way (a session for a user that does not
        // exist): the relaxed transaction fails, its connection is closed, and the next relaxed
        // write runs on a fresh one.
        let audit = crate::domain::audit::AuditRecord::new(
            1000,
            crate::domain::audit::AuditEvent::LoginPassword,
            crate::domain::audit::Outcome::Success,
        );
        let failing = Settlement {
            audit: vec![audit.clone()],
            session: Some((
                NewSession {
                    id_hash: crate::domain::token::TokenHash([8; 32]),
                    user_id: 404,
                    stage: crate::domain::account::LoginStage::SecondFactor,
                    method: None,
                    now: 1000,
                    expires_at: 2000,
                },
                None,
            )),
            now: 1000,
            ..Settlement::default()
        };
        assert!(store.settle_attempt(&failing).await.is_err());
        assert_eq!(synchronous(&store).await, FULL);
        let lines = || async {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log")
                .fetch_one(&store.readers)
                .await
                .unwrap()
        };
        assert_eq!(
            lines().await,
            0,
            "nothing of the failed settlement was kept"
        );
        store.record_audit(&[audit.clone(), audit]).await.unwrap();
        assert_eq!(lines().await, 2);
    }

    /// A login's write runs as one query of several statements, in a transaction sqlx does not
    /// know of. A request dropped while it waits for the database (here: another process
    /// holds the write lock) must not hand the connection back to the pool with that
    /// transaction open: the next write works, and the dropped attempt counted nothing.
    #[tokio::test]
    async fn a_write_dropped_while_it_waits_leaves_no_transaction_open() {
        let (_folder, url, store) = fresh_store().await;
        let policy = ThrottlePolicy::for_accounts(10, 15);
        let check = || ThrottleCheck {
            subject: "account:jan".into(),
            policy: &policy,
        };

        // Another process's writer holds the lock.
        let mut other = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut other)
            .await
            .unwrap();
        let dropped = tokio::time::timeout(
            Duration::from_millis(200),
            store.reserve_attempt(&[check()], None, 1000),
        )
        .await;
        assert!(dropped.is_err(), "the write should still be waiting");
        sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();

        let admission = store.reserve_attempt(&[check()], None, 1000).await.unwrap();
        let Admission::Admitted { numbers, .. } = admission else {
            panic!("not admitted");
        };
        assert_eq!(numbers, [1], "the dropped attempt was not counted");
    }

    /// The reservation as one query keeps the step-by-step rules: a subject that is waiting
    /// refuses the attempt with its own time, the subjects before it keep their count, and
    /// a code for a session that has gone is refused without counting anything.
    #[tokio::test]
    async fn a_waiting_account_refuses_after_the_address_counted_and_a_gone_session_counts_nothing()
    {
        let (_folder, _, store) = fresh_store().await;
        let addresses = ThrottlePolicy::for_addresses(1000, 15);
        let accounts = ThrottlePolicy::for_accounts(3, 15);
        let checks = || {
            [
                ThrottleCheck {
                    subject: "address:10.0.0.1".into(),
                    policy: &addresses,
                },
                ThrottleCheck {
                    subject: "account:jan".into(),
                    policy: &accounts,
                },
            ]
        };
        let now = 1000;
        // Reserved and never given back: each counts as a failure; after the second the account
        // waits a second.
        for expected in 1..=2 {
            let admission = store.reserve_attempt(&checks(), None, now).await.unwrap();
            let Admission::Admitted { numbers, .. } = admission else {
                panic!("attempt {expected} refused");
            };
            assert_eq!(numbers, [expected, expected]);
        }
        let locked_until: i64 =
            sqlx::query_scalar("SELECT blocked_until FROM throttle WHERE subject = 'account:jan'")
                .fetch_one(&store.readers)
                .await
                .unwrap();
        assert!(locked_until > now);
        let admission = store.reserve_attempt(&checks(), None, now).await.unwrap();
        assert!(
            matches!(admission, Admission::Blocked { until } if until == locked_until),
            "the account's own time"
        );
        let counts = || async {
            sqlx::query_scalar::<_, i64>("SELECT failures FROM throttle ORDER BY subject")
                .fetch_all(&store.readers)
                .await
                .unwrap()
        };
        assert_eq!(
            counts().await,
            [2, 3],
            "account, address: the address kept its count"
        );

        let gone = crate::domain::token::TokenHash([9; 32]);
        let refused = store.reserve_attempt(&checks(), Some(&gone), now).await;
        assert!(matches!(refused, Err(StoreError::NotFound("session"))));
        assert_eq!(
            counts().await,
            [2, 3],
            "nothing counted for a session that has gone"
        );
    }
}
