//! Prometheus metrics, through the `metrics` facade: what is counted where, with every name
//! in this one file (the dashboard and alert rules in `deploy/` are tested against them).
//! Nothing is recorded unless `metrics_bind` is set: without an exporter the facade's calls
//! do nothing, and the per-request layer is not even installed.
//!
//! Counted as it happens: requests, logins and codes (from the audit records, after they are
//! committed, so metrics and audit log never disagree), locks, hashing waits, mail deliveries.
//! Read at each scrape: queue depths, the outbox's oldest mail, pools, live sessions.

pub mod http;

use std::time::Duration;

use ::metrics::{counter, histogram};

use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};

/// One metric: its name, type and what it means (its `# HELP`).
pub struct Metric {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

pub const HTTP_REQUESTS: &str = "poortwachter_http_requests_total";
pub const HTTP_DURATION: &str = "poortwachter_http_request_duration_seconds";
pub const LOGINS: &str = "poortwachter_logins_total";
pub const ACCOUNT_LOCKS: &str = "poortwachter_account_locks_total";
pub const AUDIT_EVENTS: &str = "poortwachter_audit_events_total";
pub const HASH_QUEUE_DEPTH: &str = "poortwachter_hash_queue_depth";
pub const HASH_QUEUE_CAPACITY: &str = "poortwachter_hash_queue_capacity";
pub const HASH_WAIT: &str = "poortwachter_hash_wait_seconds";
pub const HASH_REFUSED: &str = "poortwachter_hash_refused_total";
pub const OUTBOX_DEPTH: &str = "poortwachter_outbox_depth";
pub const OUTBOX_OLDEST_AGE: &str = "poortwachter_outbox_oldest_age_seconds";
pub const MAIL_DELIVERED: &str = "poortwachter_mail_delivered_total";
pub const MAIL_FAILURES: &str = "poortwachter_mail_delivery_failures_total";
pub const DB_CONNECTIONS: &str = "poortwachter_db_connections";
pub const DB_CONNECTIONS_MAX: &str = "poortwachter_db_connections_max";
pub const DB_UNAVAILABLE: &str = "poortwachter_db_unavailable_total";
pub const SESSIONS_LIVE: &str = "poortwachter_sessions_live";
pub const WEBHOOK_DEPTH: &str = "poortwachter_webhook_outbox_depth";
pub const WEBHOOK_OLDEST_AGE: &str = "poortwachter_webhook_outbox_oldest_age_seconds";
pub const WEBHOOK_FAILING: &str = "poortwachter_webhook_subscription_failing";
pub const WEBHOOK_ATTEMPTS: &str = "poortwachter_webhook_attempts_total";
pub const AUDIT_UNSEALED: &str = "poortwachter_audit_unsealed";

pub const METRICS: &[Metric] = &[
    Metric {
        name: HTTP_REQUESTS,
        kind: Kind::Counter,
        help: "HTTP requests answered, by route template, method and status.",
    },
    Metric {
        name: HTTP_DURATION,
        kind: Kind::Histogram,
        help: "Time to answer an HTTP request, by route template and method.",
    },
    Metric {
        name: LOGINS,
        kind: Kind::Counter,
        help: "Login steps (step=password|code|recovery_code) by outcome: success, wrong, throttled, replayed, expired.",
    },
    Metric {
        name: ACCOUNT_LOCKS,
        kind: Kind::Counter,
        help: "Accounts locked after too many failed passwords or codes.",
    },
    Metric {
        name: AUDIT_EVENTS,
        kind: Kind::Counter,
        help: "Audit log events, by event and outcome.",
    },
    Metric {
        name: HASH_QUEUE_DEPTH,
        kind: Kind::Gauge,
        help: "Password hashes running or waiting for a hashing worker.",
    },
    Metric {
        name: HASH_QUEUE_CAPACITY,
        kind: Kind::Gauge,
        help: "Hashing workers plus queue places; at this depth logins are refused with 503.",
    },
    Metric {
        name: HASH_WAIT,
        kind: Kind::Histogram,
        help: "Time a password hash waited for a hashing worker.",
    },
    Metric {
        name: HASH_REFUSED,
        kind: Kind::Counter,
        help: "Logins refused at once (503) because the hashing queue was full.",
    },
    Metric {
        name: OUTBOX_DEPTH,
        kind: Kind::Gauge,
        help: "Mails waiting in the outbox (database-wide).",
    },
    Metric {
        name: OUTBOX_OLDEST_AGE,
        kind: Kind::Gauge,
        help: "Age of the oldest mail still waiting in the outbox; 0 when it is empty.",
    },
    Metric {
        name: WEBHOOK_DEPTH,
        kind: Kind::Gauge,
        help: "Webhook deliveries not yet made (waiting or being retried), by subscription.",
    },
    Metric {
        name: WEBHOOK_OLDEST_AGE,
        kind: Kind::Gauge,
        help: "Age of the oldest webhook delivery still open, by subscription; 0 when none is.",
    },
    Metric {
        name: WEBHOOK_FAILING,
        kind: Kind::Gauge,
        help: "1 for a subscription that had a delivery given up after a day of retries (until one succeeds).",
    },
    Metric {
        name: WEBHOOK_ATTEMPTS,
        kind: Kind::Counter,
        help: "Webhook delivery attempts, by subscription and outcome (delivered or failed).",
    },
    Metric {
        name: AUDIT_UNSEALED,
        kind: Kind::Gauge,
        help: "Audit lines written but not yet linked into the hash chain (normally 0).",
    },
    Metric {
        name: MAIL_DELIVERED,
        kind: Kind::Counter,
        help: "Mails handed to the SMTP server (or the development mailbox).",
    },
    Metric {
        name: MAIL_FAILURES,
        kind: Kind::Counter,
        help: "Mail delivery attempts that failed (each is retried).",
    },
    Metric {
        name: DB_CONNECTIONS,
        kind: Kind::Gauge,
        help: "Database connections of this instance, by pool and state (in_use, idle).",
    },
    Metric {
        name: DB_CONNECTIONS_MAX,
        kind: Kind::Gauge,
        help: "Largest number of connections each pool may open.",
    },
    Metric {
        name: DB_UNAVAILABLE,
        kind: Kind::Counter,
        help: "Requests answered 503 because no database connection came in time (pool wait timed out) or the database was unreachable.",
    },
    Metric {
        name: SESSIONS_LIVE,
        kind: Kind::Gauge,
        help: "Sessions neither idle too long nor past their absolute end (database-wide).",
    },
];

/// Counts a committed audit record: every event, and the login steps and locks by name.
pub fn audited(record: &AuditRecord) {
    counter!(AUDIT_EVENTS, "event" => record.event.as_str(), "outcome" => record.outcome.as_str())
        .increment(1);
    let step = match record.event {
        AuditEvent::LoginPassword => "password",
        AuditEvent::LoginCode => "code",
        AuditEvent::RecoveryCodeUsed => "recovery_code",
        AuditEvent::AccountLocked => {
            counter!(ACCOUNT_LOCKS).increment(1);
            return;
        }
        _ => return,
    };
    let outcome = match record.outcome {
        Outcome::Success => "success",
        Outcome::Failure => "wrong",
        Outcome::Throttled => "throttled",
        Outcome::Replayed => "replayed",
        Outcome::Expired => "expired",
        Outcome::RateLimited => "rate_limited",
    };
    counter!(LOGINS, "step" => step, "outcome" => outcome).increment(1);
}

/// A password hash started after waiting `waited` for a worker.
pub fn hash_started(waited: Duration) {
    histogram!(HASH_WAIT).record(waited.as_secs_f64());
}

pub fn hash_refused() {
    counter!(HASH_REFUSED).increment(1);
}

pub fn mail_delivered() {
    counter!(MAIL_DELIVERED).increment(1);
}

pub fn mail_failed() {
    counter!(MAIL_FAILURES).increment(1);
}

/// A webhook delivery attempt to `subscription` (its public id).
pub fn webhook_attempt(subscription: &str, delivered: bool) {
    let outcome = if delivered { "delivered" } else { "failed" };
    counter!(WEBHOOK_ATTEMPTS, "subscription" => subscription.to_owned(), "outcome" => outcome)
        .increment(1);
}

pub fn database_unavailable() {
    counter!(DB_UNAVAILABLE).increment(1);
}
