//! Storage behind one narrow interface. The web, mail and admin layers see only [`Store`];
//! each database is an implementation of it. Everything that must happen once (using a link,
//! claiming a mail) is decided by the database in one statement, never by a read-then-write.

mod postgres;
mod sql;
mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::account::{AccountState, InvitationRecord, LoginStage};
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::lang::Lang;
use crate::domain::password::PasswordPolicy;
use crate::domain::second_factor::RateWindow;
use crate::domain::throttle::ThrottlePolicy;
use crate::domain::token::TokenHash;
use crate::keyring::Sealed;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

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
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// The database cannot be reached right now (down, restarting, no free connection):
    /// worth a "try again shortly", not an internal error.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Database(
                sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::WorkerCrashed
            )
        )
    }
}

#[derive(Debug, Clone)]
pub struct Organization {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
    pub lang: Lang,
    pub policy: PasswordPolicy,
}

#[derive(Debug, Clone)]
pub struct NewOrganization {
    pub slug: String,
    pub name: String,
    pub lang: Lang,
    pub policy: PasswordPolicy,
    pub now: i64,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub state: AccountState,
}

/// A user together with what login needs to check.
#[derive(Debug, Clone)]
pub struct LoginCandidate {
    pub user: User,
    pub password_hash: Option<String>,
    /// The organization's language (for a notice to the user).
    pub lang: Lang,
}

/// A mail to put in the outbox: the whole RFC 5322 message, ready for SMTP.
#[derive(Clone)]
pub struct OutgoingMail {
    pub sender: String,
    pub recipient: String,
    pub message: Vec<u8>,
    /// After this time the mail is dropped instead of sent (its content has expired).
    pub discard_after: Option<i64>,
}

#[derive(Clone)]
pub struct NewInvitation {
    pub org_id: OrgId,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub token_hash: TokenHash,
    pub expires_at: i64,
    pub now: i64,
}

/// An invitation link as the activation page needs it.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub record: InvitationRecord,
    pub user: User,
    pub org: Organization,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub id_hash: TokenHash,
    pub user_id: UserId,
    pub stage: LoginStage,
    pub now: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: TokenHash,
    pub stage: LoginStage,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub user: User,
    pub org: Organization,
}

/// A mail claimed from the outbox by one sender for the length of its lease.
#[derive(Clone)]
pub struct QueuedMail {
    pub id: i64,
    pub attempts: i64,
    pub mail: OutgoingMail,
}

#[derive(Debug, Clone)]
pub struct DevMail {
    pub id: i64,
    pub recipient: String,
    pub message: Vec<u8>,
    pub received_at: i64,
}

/// A user's authenticator-app credential, its secret still sealed.
#[derive(Debug, Clone)]
pub struct TotpCredential {
    pub sealed: Sealed,
    pub active: bool,
    /// When a pending secret stops working; `None` once active.
    pub expires_at: Option<i64>,
    pub last_step: Option<i64>,
}

/// A new pending secret and the set-up mail that carries it.
pub struct NewTotpSetup<'a> {
    pub user_id: UserId,
    pub sealed: &'a Sealed,
    pub expires_at: i64,
    pub mail: &'a OutgoingMail,
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupOutcome {
    Started,
    /// The rate limit refused it; these are the earlier sends that count.
    RateLimited {
        recent_sends: Vec<i64>,
    },
    /// The user already has active two-step verification: set-up cannot restart.
    AlreadyActive,
}

/// One subject to count a password or code attempt against, under its rules.
pub struct ThrottleCheck<'a> {
    pub subject: String,
    pub policy: &'a ThrottlePolicy,
}

/// Whether an attempt may be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Counted: the failure number this attempt was given, per subject, in order; and for a
    /// code typed in a session, that session's count of codes so far.
    Admitted {
        numbers: Vec<i64>,
        session_codes: Option<i64>,
    },
    /// Refused unchecked: the subject at this index waits until `until`.
    Blocked { index: usize, until: i64 },
}

/// What happens after an attempt was checked, in one transaction.
#[derive(Default)]
pub struct Settlement<'a> {
    /// Subjects whose counted attempt turned out right: (subject, the failure number it got).
    pub release: Vec<(String, i64)>,
    /// Subjects whose count starts again at zero (a completed login, an unlock).
    pub clear: Vec<String>,
    pub audit: Vec<AuditRecord>,
    pub mail: Option<&'a OutgoingMail>,
    /// A session to start (after a login step), replacing the browser's previous one.
    pub session: Option<(NewSession, Option<TokenHash>)>,
    pub now: i64,
}

/// Which audit lines to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub org: Option<OrgId>,
    pub user: Option<UserId>,
    pub since: Option<i64>,
    pub limit: i64,
}

/// An audit line as read back.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub at: i64,
    pub event: AuditEvent,
    pub outcome: Outcome,
    pub org_slug: Option<String>,
    pub user_id: Option<UserId>,
    pub username: Option<String>,
    pub client: Option<String>,
    pub detail: Option<String>,
}

/// A session as its user or an administrator sees it (never its id; the digest only tells
/// the user's own session apart).
#[derive(Debug, Clone)]
pub struct SessionSummary {
    pub id_hash: TokenHash,
    pub stage: LoginStage,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

/// A user with what `user list` shows beside the account.
#[derive(Debug, Clone)]
pub struct UserSummary {
    pub user: User,
    /// `None`: no authenticator app; `Some(false)`: set-up pending; `Some(true)`: active.
    pub two_step: Option<bool>,
    /// Failed attempts since the last completed login, and until when the account waits.
    pub failures: i64,
    pub blocked_until: i64,
}

/// What a clean-up pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub sessions: u64,
    pub throttle_rows: u64,
    pub audit_rows: u64,
}

/// Sends an audit record to the log too: JSON lines on stdout for log shippers. The store
/// calls it after the record is committed, so the two never disagree.
pub fn trace_audit(record: &AuditRecord) {
    tracing::info!(
        target: "audit",
        at = record.at,
        event = record.event.as_str(),
        outcome = record.outcome.as_str(),
        org_id = record.org_id,
        user_id = record.user_id,
        username = record.username.as_deref(),
        client = record.client.as_deref(),
        detail = record.detail,
    );
}

/// Everything the service keeps: one trait per part, each implemented in `sql/` for both
/// databases. The web, mail and admin layers see only `dyn Store`.
pub trait Store:
    AccountStore + SessionStore + TwoStepStore + MailStore + SecurityStore + Send + Sync + 'static
{
}

impl<T> Store for T where
    T: AccountStore
        + SessionStore
        + TwoStepStore
        + MailStore
        + SecurityStore
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
    /// Sets a new password hash for an active user, ends every other session of theirs
    /// (`keep` stays), queues `notice` and records `audit`, in one durable transaction. The
    /// number of sessions ended.
    async fn change_password(
        &self,
        user: UserId,
        password_hash: &str,
        keep: &TokenHash,
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

    async fn sessions_of_user(&self, user: UserId) -> StoreResult<Vec<SessionSummary>>;
    /// Ends every session of the user (log out everywhere); the number ended.
    async fn end_sessions_of_user(&self, user: UserId, audit: &AuditRecord) -> StoreResult<u64>;
    /// Removes expired sessions, forgotten throttle rows and audit lines older than
    /// `audit_since`.
    async fn sweep(&self, now: i64, idle_seconds: i64, audit_since: i64) -> StoreResult<Swept>;
}

/// The authenticator-app credential: set-up, use once, reset.
#[async_trait]
pub trait TwoStepStore: Send + Sync + 'static {
    async fn totp_credential(&self, user: UserId) -> StoreResult<Option<TotpCredential>>;
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
    async fn mail_delivered(&self, id: i64) -> StoreResult<()>;
    async fn mail_failed(&self, id: i64, retry_at: i64, error: &str) -> StoreResult<()>;
    async fn outbox_len(&self) -> StoreResult<i64>;

    async fn store_dev_mail(&self, recipient: &str, message: &[u8], now: i64) -> StoreResult<()>;
    async fn dev_mails(&self) -> StoreResult<Vec<DevMail>>;
    async fn dev_mail(&self, id: i64) -> StoreResult<Option<DevMail>>;
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
    async fn record_audit(&self, records: &[AuditRecord]) -> StoreResult<()>;
    async fn audit_entries(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>>;
}
