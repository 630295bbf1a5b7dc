//! One implementation of [`Store`](super::Store) in SQL, compiled once per database.
//!
//! The queries are written once, with `?` placeholders, in SQL that SQLite and PostgreSQL
//! both run; each store type supplies its dialect (`sql()` rewrites placeholders where
//! needed, `SKIP_LOCKED`, `LOCK_USER`). Macros rather than generic code, because sqlx's
//! trait bounds for "any database that can encode and decode these types" would be longer
//! than the code itself; the macros instantiate the same text for two concrete types.
//!
//! One file per part of the store (one trait each); this one holds what they share: row
//! mapping, the outbox and audit inserts, and the throttle statement.

pub mod access;
pub mod accounts;
pub mod admin;
pub mod batch;
pub mod clients;
pub mod devices;
pub mod evidence;
pub mod grants;
pub mod group_commit;
pub mod looks;
pub mod mail;
pub mod monitor;
pub mod passkeys;
pub mod recovery;
pub mod security;
pub mod sessions;
pub mod two_step;

/// The connection a relaxed write runs on (see `relaxed_writer`), and — where that is a
/// connection of its own — the durable writer, held until the write is done.
pub struct RelaxedWriter<DB: sqlx::Database> {
    pub conn: sqlx::pool::PoolConnection<DB>,
    pub _exclusive: Option<sqlx::pool::PoolConnection<DB>>,
}

macro_rules! sql_common {
    ($store:ty, $db:ty, $row:ty) => {
        const ORG_COLUMNS: &str = "o.id AS org_id, o.slug, o.name AS org_name, o.language, o.min_length, \
            o.max_length, o.require_lowercase, o.require_uppercase, o.require_digit, o.require_symbol, \
            o.self_service_reset, o.remember_device_days, o.passkey_login, o.passkey_required_from, \
            (SELECT l.accent FROM org_looks l WHERE l.org_id = o.id) AS look_accent, \
            (SELECT l.sender_name FROM org_looks l WHERE l.org_id = o.id) AS look_sender_name, \
            (SELECT l.logo_hash FROM org_looks l WHERE l.org_id = o.id) AS look_logo_hash";
        const USER_COLUMNS: &str =
            "u.id AS user_id, u.org_id AS user_org_id, u.username, u.email, u.display_name, u.state, \
             u.disabled_at";

        fn org_from_row(row: &$row) -> StoreResult<Organization> {
            let lang: String = row.try_get("language")?;
            let classes = CharacterClasses {
                lowercase: row.try_get("require_lowercase")?,
                uppercase: row.try_get("require_uppercase")?,
                digit: row.try_get("require_digit")?,
                symbol: row.try_get("require_symbol")?,
            };
            let policy = PasswordPolicy::new(
                u16::try_from(row.try_get::<i32, _>("min_length")?).unwrap_or(0),
                u16::try_from(row.try_get::<i32, _>("max_length")?).unwrap_or(0),
                classes,
            )
            .map_err(|e| StoreError::Corrupt(format!("password policy: {e}")))?;
            Ok(Organization {
                id: row.try_get("org_id")?,
                slug: row.try_get("slug")?,
                name: row.try_get("org_name")?,
                lang: lang
                    .parse()
                    .map_err(|e| StoreError::Corrupt(format!("{e}")))?,
                policy,
                self_service: SelfService {
                    reset: row.try_get("self_service_reset")?,
                    remember_device_days: u8::try_from(row.try_get::<i32, _>("remember_device_days")?)
                        .map_err(|_| StoreError::Corrupt("remember_device_days".into()))?,
                },
                passkeys: PasskeyPolicy {
                    login: row.try_get("passkey_login")?,
                    required_from: row.try_get("passkey_required_from")?,
                },
                look: crate::store::OrgLook {
                    accent: row.try_get("look_accent")?,
                    sender_name: row.try_get("look_sender_name")?,
                    logo_hash: row.try_get("look_logo_hash")?,
                },
            })
        }

        fn user_from_row(row: &$row) -> StoreResult<User> {
            let state: String = row.try_get("state")?;
            let disabled = row.try_get::<Option<i64>, _>("disabled_at")?.is_some();
            Ok(User {
                id: row.try_get("user_id")?,
                org_id: row.try_get("user_org_id")?,
                username: row.try_get("username")?,
                email: row.try_get("email")?,
                display_name: row.try_get("display_name")?,
                state: if disabled {
                    AccountState::Disabled
                } else {
                    AccountState::from_db(&state)
                        .ok_or_else(|| StoreError::Corrupt(format!("account state {state:?}")))?
                },
            })
        }

        fn is_unique_violation(error: &sqlx::Error) -> bool {
            matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
        }

        async fn insert_mail(
            tx: &mut Transaction<'_, $db>,
            mail: &OutgoingMail,
            now: i64,
        ) -> StoreResult<i64> {
            let sql = format!("{} RETURNING id", crate::store::sql::batch::INSERT_MAIL);
            let values = crate::store::sql::batch::mail_values(mail, now);
            Ok(bound(&<$store>::sql(&sql), &values).fetch_one(&mut **tx).await?.try_get(0)?)
        }

        async fn insert_audit(tx: &mut Transaction<'_, $db>, record: &AuditRecord) -> StoreResult<()> {
            insert_audit_on(&mut **tx, record).await
        }

        /// The audit line alone, on a connection (in a transaction or committing by itself).
        async fn insert_audit_on(
            conn: &mut <$db as sqlx::Database>::Connection,
            record: &AuditRecord,
        ) -> StoreResult<()> {
            let values = crate::store::sql::batch::audit_values(record);
            bound(&<$store>::sql(crate::store::sql::batch::INSERT_AUDIT), &values)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        /// `sql` with `values` bound in order.
        fn bound<'q>(
            sql: &'q str,
            values: impl IntoIterator<Item = &'q crate::store::sql::batch::Value<'q>>,
        ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>> {
            use crate::store::sql::batch::Value;
            let mut query = sqlx::query(sql);
            for value in values {
                query = match *value {
                    Value::Int(v) => query.bind(v),
                    Value::MaybeInt(v) => query.bind(v),
                    Value::Int32(v) => query.bind(v),
                    Value::Text(v) => query.bind(v),
                    Value::MaybeText(v) => query.bind(v),
                    Value::Bytes(v) => query.bind(v),
                };
            }
            query
        }

        /// Runs `batch` statement by statement inside `tx`.
        async fn run_in(
            tx: &mut Transaction<'_, $db>,
            batch: &crate::store::sql::batch::Batch<'_>,
        ) -> StoreResult<()> {
            for statement in &batch.statements {
                let sql = <$store>::sql(&statement.sql);
                bound(&sql, &statement.values).execute(&mut **tx).await?;
            }
            Ok(())
        }

        /// Runs `batch` as a relaxed transaction of its own (see `relaxed_writer`): where the
        /// store can, as one query between BEGIN and COMMIT (one call to the connection's
        /// thread), else statement by statement.
        async fn run_relaxed(store: &$store, batch: &crate::store::sql::batch::Batch<'_>) -> StoreResult<()> {
            let mut writer = relaxed_writer(store).await?;
            if <$store>::ONE_QUERY_BATCHES {
                let sql = batch.joined("BEGIN IMMEDIATE; ", "COMMIT");
                let mut unfinished = crate::store::sql::batch::Unfinished::new(&mut writer.conn);
                // `fetch_all`: every statement up to the COMMIT must run.
                bound(&sql, batch.values()).fetch_all(unfinished.conn()).await?;
                unfinished.finish();
            } else {
                let mut tx = begin_relaxed(&mut writer.conn).await?;
                run_in(&mut tx, batch).await?;
                tx.commit().await?;
            }
            drop(writer);
            Ok(())
        }

        /// Ends every session of `user` inside `tx`, and forgets the browsers that could skip
        /// the code step (whatever ends all sessions ends those too: a password change or
        /// reset, OVERAL UITLOGGEN, disabling, a reset of two-step verification); how many
        /// sessions there were.
        async fn end_sessions_and_devices_of(tx: &mut Transaction<'_, $db>, user: UserId) -> StoreResult<u64> {
            let ended = sqlx::query(&<$store>::sql("DELETE FROM sessions WHERE user_id = ?"))
                .bind(user)
                .execute(&mut **tx)
                .await?;
            sqlx::query(&<$store>::sql("DELETE FROM remembered_devices WHERE user_id = ?"))
                .bind(user)
                .execute(&mut **tx)
                .await?;
            Ok(ended.rows_affected())
        }

        /// The connection for commits that need not reach the disk at once: the throttle's
        /// counts, a login step's new session and audit lines, a code redeemed, a refresh
        /// token rotated. A power cut may lose the last moment's worth of them (never half of
        /// one transaction); the next durable commit or the checkpoint a second later flushes
        /// them. The login path then waits for no disk flush, and the code step's own durable
        /// commit does not queue behind a flood of logins' flushes (README, Performance).
        /// Where the store keeps a relaxed connection of its own (SQLite), the durable writer
        /// is held meanwhile, so that one write runs at a time as before.
        async fn relaxed_writer(store: &$store) -> StoreResult<crate::store::sql::RelaxedWriter<$db>> {
            let exclusive = store.pool.acquire().await?;
            Ok(match store.relaxed_pool() {
                Some(relaxed) => crate::store::sql::RelaxedWriter {
                    conn: relaxed.acquire().await?,
                    _exclusive: Some(exclusive),
                },
                None => crate::store::sql::RelaxedWriter {
                    conn: exclusive,
                    _exclusive: None,
                },
            })
        }

        async fn begin_relaxed(
            conn: &mut sqlx::pool::PoolConnection<$db>,
        ) -> StoreResult<Transaction<'_, $db>> {
            let mut tx = sqlx::Connection::begin(&mut **conn).await?;
            if let Some(sql) = <$store>::RELAX_TRANSACTION {
                sqlx::query(sql).execute(&mut *tx).await?;
            }
            Ok(tx)
        }

        /// Starts `session`, ending the one it replaces (new sessions are made only after a
        /// login step, with its settlement).
        async fn insert_session(
            tx: &mut Transaction<'_, $db>,
            session: &NewSession,
            replacing: Option<&TokenHash>,
        ) -> StoreResult<()> {
            let mut batch = crate::store::sql::batch::Batch::default();
            crate::store::sql::batch::push_session(&mut batch, session, replacing.map(|r| &r.0[..]));
            run_in(tx, &batch).await
        }

        /// What follows a checked attempt (see [`Settlement`]), inside `tx`.
        async fn apply_settlement(
            tx: &mut Transaction<'_, $db>,
            settlement: &Settlement<'_>,
        ) -> StoreResult<()> {
            run_in(tx, &crate::store::sql::batch::settlement(settlement)).await
        }

        /// Records `audit` with the change in `tx`, commits both, and logs the record.
        async fn commit_with_audit(mut tx: Transaction<'_, $db>, audit: &AuditRecord) -> StoreResult<()> {
            insert_audit(&mut tx, audit).await?;
            tx.commit().await?;
            trace_audit(audit);
            Ok(())
        }

        /// The upsert that counts one attempt against a subject unless it is waiting, its row
        /// named `slot`. The failure number restarts at 1 when the subject was quiet long
        /// enough; the wait that follows a failure is looked up from the policy's schedule in
        /// the same statement. Its values: the subject, the time, the time again; with a
        /// `gate` (SQL that may take values of its own, after those), the subject and the time,
        /// and the attempt is counted only where the gate holds.
        fn reserve_sql(policy: &ThrottlePolicy, slot: usize, gate: Option<&str>) -> String {
            // `excluded.updated_at` is the time of this attempt, as the row to insert has it.
            let number = format!(
                "(CASE WHEN throttle.blocked_until + {} <= excluded.updated_at THEN 1 \
                  ELSE throttle.failures + 1 END)",
                policy.forget_after_seconds
            );
            // Steps from the last down: the first that the number has reached gives the wait.
            let mut wait = String::from("(CASE");
            for (from, seconds) in policy.schedule().iter().rev() {
                wait.push_str(&format!(" WHEN {number} >= {from} THEN {seconds}"));
            }
            wait.push_str(" ELSE 0 END)");
            let first = policy.wait_after(1);
            let row = match gate {
                // INSERT … SELECT … WHERE (the WHERE also keeps SQLite from reading ON CONFLICT
                // as part of the SELECT).
                Some(gate) => format!(
                    "SELECT subject, 1, now + {first}, now FROM (SELECT ? AS subject, ? AS now) WHERE {gate}"
                ),
                None => format!("VALUES (?, 1, ? + {first}, ?)"),
            };
            format!(
                "INSERT INTO throttle (subject, failures, blocked_until, updated_at) {row} \
                 ON CONFLICT (subject) DO UPDATE SET failures = {number}, \
                   blocked_until = excluded.updated_at + {wait}, updated_at = excluded.updated_at \
                 WHERE throttle.blocked_until <= excluded.updated_at \
                 RETURNING failures AS number, {slot} AS slot"
            )
        }

        fn dev_mail_from_row(row: &$row) -> StoreResult<DevMail> {
            Ok(DevMail {
                id: row.try_get("id")?,
                recipient: row.try_get("recipient")?,
                message: row.try_get("message")?,
                received_at: row.try_get("received_at")?,
            })
        }
    };
}

pub(crate) use sql_common;

/// The whole [`Store`](super::Store) for one database type.
macro_rules! sql_store {
    ($store:ty, $db:ty, $row:ty) => {
        super::sql::sql_common!($store, $db, $row);
        super::sql::accounts::sql_accounts!($store, $db, $row);
        super::sql::sessions::sql_sessions!($store, $db, $row);
        super::sql::two_step::sql_two_step!($store, $db, $row);
        super::sql::mail::sql_mail!($store, $db, $row);
        super::sql::security::sql_security!($store, $db, $row);
        super::sql::clients::sql_clients!($store, $db, $row);
        super::sql::grants::sql_grants!($store, $db, $row);
        super::sql::monitor::sql_monitor!($store, $db, $row);
        super::sql::recovery::sql_recovery!($store, $db, $row);
        super::sql::devices::sql_devices!($store, $db, $row);
        super::sql::admin::sql_admin!($store, $db, $row);
        super::sql::passkeys::sql_passkeys!($store, $db, $row);
        super::sql::access::sql_access!($store, $db, $row);
        super::sql::evidence::sql_evidence!($store, $db, $row);
        super::sql::looks::sql_looks!($store, $db, $row);
    };
}

pub(crate) use sql_store;
