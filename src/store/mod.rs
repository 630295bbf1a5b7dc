//! Storage behind one narrow interface. The web, mail and admin layers see only [`Store`];
//! each database is an implementation of it. Everything that must happen once (using a link,
//! claiming a mail) is decided by the database in one statement, never by a read-then-write.

mod access;
mod admin;
pub mod backup;
mod devices;
mod evidence;
mod looks;
mod oidc;
mod passkeys;
mod postgres;
mod recovery;
mod sql;
mod sqlite;
mod types;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::account::{InvitationRecord, LoginStage};
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::password::PasswordPolicy;
use crate::domain::second_factor::RateWindow;
use crate::domain::throttle::ThrottlePolicy;
use crate::domain::token::TokenHash;
use crate::keyring::Sealed;

pub use access::*;
pub use admin::*;
pub use devices::*;
pub use evidence::*;
pub use looks::*;
pub use oidc::*;
pub use passkeys::*;
pub use postgres::{PgStore, numbered_placeholders};
pub use recovery::*;
pub use sqlite::SqliteStore;
pub use types::*;

/// Connection pool settings, from the configuration.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    /// How long a request waits for a connection before it fails (a database that is down
    /// answers with a clear 503 page after this, not a hang).
    pub acquire_timeout: Duration,
}

/// Opens the store the URL names: `sqlite:…` or `postgres://…`.
pub async fn connect(url: &str, pool: &PoolSettings) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(PgStore::connect(url, pool).await?))
    } else {
        Ok(Arc::new(SqliteStore::connect(url, pool).await?))
    }
}

pub type UserId = i64;
pub type OrgId = i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the account is already active")]
    AlreadyActive,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// A group of writes done together failed (`sql/group_commit.rs`): each writer gets the
    /// one error.
    #[error("database: {0}")]
    InGroup(Arc<sqlx::Error>),
    /// The database server cannot be reached at all (said with its address and why).
    #[error("{0}")]
    Unreachable(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// The database cannot be reached right now (down, restarting, no free connection):
    /// worth a "try again shortly", not an internal error.
    pub fn is_unavailable(&self) -> bool {
        if let StoreError::InGroup(failed) = self {
            return matches!(
                **failed,
                sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Io(_)
                    | sqlx::Error::WorkerCrashed
            );
        }
        matches!(
            self,
            StoreError::Unreachable(_)
                | StoreError::Database(
                    sqlx::Error::PoolTimedOut
                        | sqlx::Error::PoolClosed
                        | sqlx::Error::Io(_)
                        | sqlx::Error::Tls(_)
                        | sqlx::Error::WorkerCrashed
                )
        )
    }
}

/// Who else hears of each committed audit record: the metrics, handed in at start-up
/// ([`report_audits_to`]), so that the store does not depend on telemetry.
static AUDIT_LISTENER: std::sync::OnceLock<fn(&AuditRecord)> = std::sync::OnceLock::new();

/// Every committed audit record is passed to `listener` too (once per process; later calls
/// keep the first).
pub fn report_audits_to(listener: fn(&AuditRecord)) {
    let _ = AUDIT_LISTENER.set(listener);
}

/// Sends an audit record to the log too (JSON lines on stdout for log shippers) and to the
/// listener (the metrics). The store calls it after the record is committed, so the three
/// never disagree.
pub fn trace_audit(record: &AuditRecord) {
    if let Some(listener) = AUDIT_LISTENER.get() {
        listener(record);
    }
    tracing::info!(
        target: "audit",
        at = record.at,
        event = record.event.as_str(),
        outcome = record.outcome.as_str(),
        org_id = record.org_id,
        user_id = record.user_id,
        username = record.username.as_deref(),
        client = record.client.as_deref(),
        detail = record.detail.as_deref(),
    );
}

/// Everything the service keeps: one trait per part, each implemented in `sql/` for both
/// databases. The web, mail and admin layers see only `dyn Store`.
pub trait Store:
    AccountStore
    + SessionStore
    + TwoStepStore
    + MailStore
    + SecurityStore
    + ClientStore
    + GrantStore
    + MonitorStore
    + RecoveryStore
    + DeviceStore
    + AdminStore
    + PasskeyStore
    + AccessStore
    + EvidenceStore
    + WebhookStore
    + LookStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: AccountStore
        + SessionStore
        + TwoStepStore
        + MailStore
        + SecurityStore
        + ClientStore
        + GrantStore
        + MonitorStore
        + RecoveryStore
        + DeviceStore
        + AdminStore
        + PasskeyStore
        + AccessStore
        + EvidenceStore
        + WebhookStore
        + LookStore
        + Send
        + Sync
        + 'static
{
}

/// Organizations, users, invitations and what login reads of them.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// A round trip to the database (readiness checks).
    async fn ping(&self) -> StoreResult<()>;

    async fn create_organization(&self, org: &NewOrganization) -> StoreResult<Organization>;
    async fn organization_by_slug(&self, slug: &str) -> StoreResult<Option<Organization>>;
    async fn set_policy(&self, org: OrgId, policy: &PasswordPolicy) -> StoreResult<()>;

    /// Creates the invited user (or refreshes one that is still invited), supersedes their
    /// earlier links, stores the new link and queues `mail`, all in one transaction.
    async fn invite_user(&self, invite: &NewInvitation, mail: &OutgoingMail) -> StoreResult<User>;
    async fn users_of_organization(&self, org: OrgId) -> StoreResult<Vec<User>>;
    async fn invitation(&self, token: &TokenHash) -> StoreResult<Option<Invitation>>;
    /// Uses the link and sets the password in one transaction. `None` when the link was not
    /// usable at `now` (used, superseded, expired or unknown): of two parallel uses, one wins.
    async fn activate(
        &self,
        token: &TokenHash,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<Option<UserId>>;
    async fn login_candidate(&self, username: &str) -> StoreResult<Option<LoginCandidate>>;

    /// The organization's users with their two-step and throttle state.
    async fn user_summaries(&self, org: OrgId) -> StoreResult<Vec<UserSummary>>;
    /// Sets a new password hash for an active user, ends every session of theirs and starts
    /// `session` in their place (the browser that changed it goes on with a new id), queues
    /// `notice` and records `audit`, in one durable transaction. The number of sessions ended.
    async fn change_password(
        &self,
        user: UserId,
        password_hash: &str,
        session: &NewSession,
        notice: &OutgoingMail,
        audit: &AuditRecord,
    ) -> StoreResult<u64>;
    /// Disables (ending every session) or enables the account; false when it already was.
    async fn set_disabled(
        &self,
        user: UserId,
        disabled: bool,
        audit: &AuditRecord,
    ) -> StoreResult<bool>;
}

/// Sessions: the login state of a browser, and their clean-up.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    async fn session(&self, id: &TokenHash) -> StoreResult<Option<Session>>;
    async fn touch_session(&self, id: &TokenHash, now: i64) -> StoreResult<()>;
    async fn delete_session(&self, id: &TokenHash) -> StoreResult<()>;
    /// A new login replaces the browser's session `from` with `to` (after `prompt=login` or
    /// `max_age`): if both are the same user's, the applications' grants and unredeemed codes
    /// move to `to`; `from` ends; one transaction. `true` when `from` still existed.
    async fn hand_over_session(&self, from: &TokenHash, to: &TokenHash) -> StoreResult<bool>;

    async fn sessions_of_user(&self, user: UserId) -> StoreResult<Vec<SessionSummary>>;
    /// Ends every session of the user (log out everywhere); the number ended.
    async fn end_sessions_of_user(&self, user: UserId, audit: &AuditRecord) -> StoreResult<u64>;
    /// Removes expired sessions and forgotten throttle rows (old audit lines are pruned by
    /// the evidence worker, which keeps the chain verifiable: `src/evidence`).
    async fn sweep(&self, now: i64, idle_seconds: i64) -> StoreResult<Swept>;
}

/// The authenticator-app credential: set-up, use once, reset.
#[async_trait]
pub trait TwoStepStore: Send + Sync + 'static {
    async fn totp_credential(&self, user: UserId) -> StoreResult<Option<TotpCredential>>;
    /// When the user's set-up mails after `since` were sent (for the "Nieuwe code" wait).
    async fn setup_mails_since(&self, user: UserId, since: i64) -> StoreResult<Vec<i64>>;
    /// Replaces a pending secret (never an active one) and queues its set-up mail, if the
    /// set-up mail rate limit allows, all in one transaction.
    async fn start_totp_setup(
        &self,
        setup: &NewTotpSetup<'_>,
        limits: &[RateWindow],
    ) -> StoreResult<SetupOutcome>;
    /// Records `step` as used if it is newer than the last used step, in one statement.
    /// When `pending`, the credential must be pending (its secret still `sealed`, unexpired)
    /// and becomes active; otherwise it must be active. If the step is accepted, `then` (the
    /// login's settlement: new session, audit lines, the activation notice) happens in the
    /// same transaction. False when nothing matched (a replayed step, a replaced or expired
    /// secret), and then nothing else happens.
    async fn accept_totp_step(
        &self,
        user: UserId,
        sealed: &Sealed,
        step: i64,
        pending: bool,
        then: &Settlement<'_>,
    ) -> StoreResult<bool>;
    /// Stores a new phone's secret beside the active one (replacing an earlier unconfirmed
    /// one) and queues its set-up mail, within the same rate limit as set-up mails.
    async fn start_totp_replacement(
        &self,
        setup: &NewTotpSetup<'_>,
        limits: &[RateWindow],
    ) -> StoreResult<SetupOutcome>;
    /// The new phone's first code: its secret `next` becomes the user's secret (the old app
    /// stops working) if it is still the waiting one and unexpired, and `then` happens in
    /// the same transaction. False when nothing matched.
    async fn accept_totp_replacement(
        &self,
        user: UserId,
        next: &Sealed,
        step: i64,
        then: &Settlement<'_>,
    ) -> StoreResult<bool>;
    /// Removes the credential, ends all the user's sessions, queues `notice` and records
    /// `audit` (whose time is the time of the change).
    async fn reset_totp(
        &self,
        user: UserId,
        notice: &OutgoingMail,
        audit: &AuditRecord,
    ) -> StoreResult<bool>;
}

/// The outbox, and the development mailbox.
#[async_trait]
pub trait MailStore: Send + Sync + 'static {
    async fn enqueue_mail(&self, mail: &OutgoingMail, now: i64) -> StoreResult<()>;
    /// Leases up to `limit` due mails to the caller until `now + lease_seconds`.
    async fn claim_mail(
        &self,
        now: i64,
        lease_seconds: i64,
        limit: i64,
    ) -> StoreResult<Vec<QueuedMail>>;
    /// The mail left for the SMTP server at `now` (an invitation's mail is marked sent).
    async fn mail_delivered(&self, id: i64, now: i64) -> StoreResult<()>;
    /// Hands claimed, unsent mail back: its lease is lifted and the claim not counted as an
    /// attempt, so any sender may take it at once.
    async fn release_mail(&self, ids: &[i64]) -> StoreResult<()>;
    /// The SMTP server refused the mail with `error`; it is tried again at `retry_at` (an
    /// invitation's mail shows the error in the onboarding overview).
    async fn mail_failed(&self, id: i64, retry_at: i64, error: &str) -> StoreResult<()>;
    async fn outbox_len(&self) -> StoreResult<i64>;

    async fn store_dev_mail(&self, recipient: &str, message: &[u8], now: i64) -> StoreResult<()>;
    async fn dev_mails(&self) -> StoreResult<Vec<DevMail>>;
    async fn dev_mail(&self, id: i64) -> StoreResult<Option<DevMail>>;
}

/// What the metrics endpoint reads (see `crate::telemetry`).
#[async_trait]
pub trait MonitorStore: Send + Sync + 'static {
    /// Outbox depth and oldest mail, live sessions: counted at each scrape.
    async fn gauges(&self, live: Liveness) -> StoreResult<StoreGauges>;
    /// The connection pools and how many of their connections are lent out now.
    fn pools(&self) -> Vec<PoolUse>;
}

/// The throttle of failed attempts and the audit log.
#[async_trait]
pub trait SecurityStore: Send + Sync + 'static {
    /// Counts one attempt against each subject in order, before the attempt is checked, and
    /// sets the wait that follows if it fails; stops at the first subject that is waiting.
    /// Each count is one statement, so parallel attempts get distinct numbers. With
    /// `session`, an admitted attempt is also counted as a code typed in that session.
    async fn reserve_attempt(
        &self,
        checks: &[ThrottleCheck<'_>],
        session: Option<&TokenHash>,
        now: i64,
    ) -> StoreResult<Admission>;
    /// Releases, clears, audits, queues mail and starts a session after an attempt, in one
    /// transaction (one disk flush on the login path).
    async fn settle_attempt(&self, settlement: &Settlement<'_>) -> StoreResult<()>;
    /// Until when `subject` waits, if it does now (a check without counting, for callers
    /// that count only failures: client authentication).
    async fn waiting_until(&self, subject: &str, now: i64) -> StoreResult<Option<i64>>;
    async fn record_audit(&self, records: &[AuditRecord]) -> StoreResult<()>;
    async fn audit_entries(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>>;
}
