//! A write as a list of statements with their values, built once and run either one by one
//! inside a transaction (PostgreSQL, and any SQLite transaction that does more around it)
//! or, on SQLite, as one query of several statements: one call to the connection's thread.
//!
//! Why: sqlx runs each SQLite connection on a thread of its own, and every statement is a
//! hand-over to that thread and back. Measured on the 2-core machine (docs/performance.md), a
//! password login's fifteen hand-overs were the largest cost after the hash itself: the
//! writer was held mostly for the switches between threads, not for SQLite's work. A login's
//! writes (the attempt counted, then settled) are each one query here, like the grouped
//! refresh-token rotations (`group_commit.rs`).
//!
//! The statements of a batch use only `?` placeholders, taken in order across the whole
//! query (sqlx's SQLite driver counts them on from statement to statement; a `?N` would name
//! the N-th value of the whole query, so none is allowed).

use std::borrow::Cow;

use crate::domain::audit::AuditRecord;
use crate::domain::login_method::LoginMethod;
use crate::store::{NewDevice, NewRecoveryCodes, NewSession, OutgoingMail, Settlement};

/// A value bound to a statement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Int(i64),
    MaybeInt(Option<i64>),
    /// A column PostgreSQL keeps as `INTEGER` (four bytes): bound as such.
    Int32(i32),
    Text(&'a str),
    MaybeText(Option<&'a str>),
    Bytes(&'a [u8]),
}

pub struct Statement<'a> {
    pub sql: Cow<'static, str>,
    pub values: Vec<Value<'a>>,
}

/// Statements to run in order, in one transaction.
#[derive(Default)]
pub struct Batch<'a> {
    pub statements: Vec<Statement<'a>>,
}

impl<'a> Batch<'a> {
    pub fn push(&mut self, sql: impl Into<Cow<'static, str>>, values: Vec<Value<'a>>) {
        let sql = sql.into();
        debug_assert!(
            !has_numbered_placeholder(&sql),
            "a batch's statement with a numbered placeholder: {sql}"
        );
        debug_assert_eq!(sql.matches('?').count(), values.len(), "{sql}");
        self.statements.push(Statement { sql, values });
    }

    /// The statements as one query: `head`, each statement, `tail`.
    pub fn joined(&self, head: &str, tail: &str) -> String {
        let mut sql = String::from(head);
        for statement in &self.statements {
            sql.push_str(statement.sql.trim_end_matches([' ', ';']));
            sql.push_str("; ");
        }
        sql.push_str(tail);
        sql
    }

    /// Every statement's values, in the order of the joined query's placeholders.
    pub fn values(&self) -> impl Iterator<Item = &Value<'a>> {
        self.statements.iter().flat_map(|s| s.values.iter())
    }
}

/// A connection in the middle of a transaction that sqlx does not know of (begun by a query
/// of several statements): if the write stops before it is finished — its request dropped
/// while the connection's thread ran it, or a statement failed — the connection is closed,
/// which rolls the transaction back, instead of going back to the pool with it open.
pub struct Unfinished<'c, DB: sqlx::Database> {
    conn: &'c mut sqlx::pool::PoolConnection<DB>,
    finished: bool,
}

impl<'c, DB: sqlx::Database> Unfinished<'c, DB> {
    pub fn new(conn: &'c mut sqlx::pool::PoolConnection<DB>) -> Self {
        Unfinished {
            conn,
            finished: false,
        }
    }

    pub fn conn(&mut self) -> &mut DB::Connection {
        &mut *self.conn
    }

    /// The transaction was committed or rolled back: the connection may be used again.
    pub fn finish(mut self) {
        self.finished = true;
    }
}

impl<DB: sqlx::Database> Drop for Unfinished<'_, DB> {
    fn drop(&mut self) {
        if !self.finished {
            self.conn.close_on_drop();
        }
    }
}

fn has_numbered_placeholder(sql: &str) -> bool {
    sql.as_bytes()
        .windows(2)
        .any(|w| w[0] == b'?' && w[1].is_ascii_digit())
}

pub const INSERT_AUDIT: &str = "INSERT INTO audit_log \
    (at, event, outcome, org_id, user_id, username, client, detail) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

pub fn audit_values(record: &AuditRecord) -> Vec<Value<'_>> {
    vec![
        Value::Int(record.at),
        Value::Text(record.event.as_str()),
        Value::Text(record.outcome.as_str()),
        Value::MaybeInt(record.org_id),
        Value::MaybeInt(record.user_id),
        Value::MaybeText(record.username.as_deref()),
        Value::MaybeText(record.client.as_deref()),
        Value::MaybeText(record.detail.as_deref()),
    ]
}

pub const INSERT_MAIL: &str = "INSERT INTO outbox \
    (sender, recipient, message, created_at, next_attempt_at, discard_after) \
    VALUES (?, ?, ?, ?, ?, ?)";

pub fn mail_values(mail: &OutgoingMail, now: i64) -> Vec<Value<'_>> {
    vec![
        Value::Text(&mail.sender),
        Value::Text(&mail.recipient),
        Value::Bytes(&mail.message),
        Value::Int(now),
        Value::Int(now),
        Value::MaybeInt(mail.discard_after),
    ]
}

/// What follows a checked attempt (see [`Settlement`]), as statements.
pub fn settlement<'a>(settlement: &'a Settlement<'_>) -> Batch<'a> {
    let now = settlement.now;
    let mut batch = Batch::default();
    for (subject, number) in &settlement.release {
        // The attempt was right: it gives its place back. The wait it set is lifted unless a
        // later attempt has taken the count further meanwhile (and once no failure is left,
        // whatever wait there was goes too).
        batch.push(
            "UPDATE throttle SET failures = failures - 1, \
               blocked_until = CASE WHEN failures = ? OR failures = 1 THEN ? \
                 ELSE blocked_until END \
             WHERE subject = ? AND failures > 0",
            vec![Value::Int(*number), Value::Int(now), Value::Text(subject)],
        );
    }
    for subject in &settlement.clear {
        batch.push(
            "DELETE FROM throttle WHERE subject = ?",
            vec![Value::Text(subject)],
        );
    }
    for record in &settlement.audit {
        batch.push(INSERT_AUDIT, audit_values(record));
    }
    if let Some(mail) = settlement.mail {
        batch.push(INSERT_MAIL, mail_values(mail, now));
    }
    if let Some((session, replacing)) = &settlement.session {
        push_session(&mut batch, session, replacing.as_ref().map(|r| &r.0[..]));
    }
    if let Some(codes) = &settlement.recovery_codes {
        push_recovery_codes(&mut batch, codes, now);
    }
    if let Some(device) = &settlement.remember_device {
        push_device(&mut batch, device, now);
    }
    if let Some(session) = &settlement.confirm_session {
        batch.push(
            "UPDATE sessions SET confirmed_at = ? WHERE id_hash = ?",
            vec![Value::Int(now), Value::Bytes(&session.0[..])],
        );
    }
    if let Some(verified) = &settlement.reset_verified {
        batch.push(
            "UPDATE password_resets SET verified_hash = ? WHERE token_hash = ? \
             AND used_at IS NULL AND superseded_at IS NULL AND expires_at > ?",
            vec![
                Value::Bytes(&verified.browser.0[..]),
                Value::Bytes(&verified.token.0[..]),
                Value::Int(now),
            ],
        );
    }
    if let Some(rehash) = &settlement.rehash {
        batch.push(
            "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?",
            vec![
                Value::Text(&rehash.new),
                Value::Int(rehash.user),
                Value::Text(&rehash.old),
            ],
        );
    }
    batch
}

/// Starts `session`, ending the one it replaces (new sessions are made only after a login
/// step, with its settlement).
pub fn push_session<'a>(
    batch: &mut Batch<'a>,
    session: &'a NewSession,
    replacing: Option<&'a [u8]>,
) {
    if let Some(old) = replacing {
        batch.push(
            "DELETE FROM sessions WHERE id_hash = ?",
            vec![Value::Bytes(old)],
        );
    }
    batch.push(
        "INSERT INTO sessions (id_hash, user_id, stage, method, created_at, last_seen_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        vec![
            Value::Bytes(&session.id_hash.0[..]),
            Value::Int(session.user_id),
            Value::Text(session.stage.as_str()),
            Value::MaybeText(session.method.map(LoginMethod::as_db)),
            Value::Int(session.now),
            Value::Int(session.now),
            Value::Int(session.expires_at),
        ],
    );
}

/// A new set of herstelcodes replacing the old, and the sealed copy shown once.
fn push_recovery_codes<'a>(batch: &mut Batch<'a>, codes: &'a NewRecoveryCodes, now: i64) {
    batch.push(
        "DELETE FROM recovery_codes WHERE user_id = ?",
        vec![Value::Int(codes.user)],
    );
    for digest in &codes.digests {
        batch.push(
            "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (?, ?, ?)",
            vec![
                Value::Int(codes.user),
                Value::Bytes(&digest.0[..]),
                Value::Int(now),
            ],
        );
    }
    batch.push(
        "INSERT INTO recovery_code_reveals (user_id, key_version, sealed, created_at) \
         VALUES (?, ?, ?, ?) \
         ON CONFLICT (user_id) DO UPDATE SET key_version = excluded.key_version, \
           sealed = excluded.sealed, created_at = excluded.created_at",
        vec![
            Value::Int(codes.user),
            Value::Int32(i32::from(codes.reveal.key_version)),
            Value::Bytes(&codes.reveal.blob),
            Value::Int(now),
        ],
    );
}

fn push_device<'a>(batch: &mut Batch<'a>, device: &'a NewDevice, now: i64) {
    batch.push(
        "INSERT INTO remembered_devices (id_hash, user_id, browser, created_at, last_used_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
        vec![
            Value::Bytes(&device.id_hash.0[..]),
            Value::Int(device.user),
            Value::Text(&device.browser),
            Value::Int(now),
            Value::Int(now),
            Value::Int(device.expires_at),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit::{AuditEvent, Outcome};

    #[test]
    fn a_joined_batch_is_its_statements_in_order_between_head_and_tail() {
        let mut batch = Batch::default();
        batch.push("DELETE FROM a WHERE x = ?", vec![Value::Int(1)]);
        batch.push("DELETE FROM b WHERE y = ?;", vec![Value::Text("two")]);
        assert_eq!(
            batch.joined("BEGIN; ", "COMMIT"),
            "BEGIN; DELETE FROM a WHERE x = ?; DELETE FROM b WHERE y = ?; COMMIT"
        );
        let values: Vec<_> = batch.values().copied().collect();
        assert_eq!(values, [Value::Int(1), Value::Text("two")]);
    }

    #[test]
    fn a_settlement_binds_one_value_per_placeholder_in_the_order_written() {
        let record = AuditRecord::new(7, AuditEvent::LoginPassword, Outcome::Success);
        let settled = Settlement {
            release: vec![("address:1".into(), 3)],
            clear: vec!["account:x".into()],
            audit: vec![record],
            now: 7,
            ..Settlement::default()
        };
        let batch = settlement(&settled);
        let sql = batch.joined("", "");
        assert_eq!(sql.matches('?').count(), batch.values().count());
        assert_eq!(
            batch.values().take(3).copied().collect::<Vec<_>>(),
            [Value::Int(3), Value::Int(7), Value::Text("address:1")]
        );
    }

    #[test]
    fn numbered_placeholders_are_told_apart_from_plain_ones() {
        assert!(has_numbered_placeholder("WHERE a = ?1"));
        assert!(!has_numbered_placeholder("WHERE a = ? AND b = ?"));
    }
}
