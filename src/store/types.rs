//! The values that cross the [`Store`](super::Store) interface: what is written, what is read
//! back. Plain data; the rules live in `domain`, the SQL in `sql/`.

use crate::domain::account::{AccountState, InvitationRecord, LoginStage};
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::lang::Lang;
use crate::domain::login_method::LoginMethod;
use crate::domain::passkey::PasskeyPolicy;
use crate::domain::password::PasswordPolicy;
use crate::domain::throttle::ThrottlePolicy;
use crate::domain::token::TokenHash;
use crate::keyring::Sealed;

use super::{OrgId, UserId};

#[derive(Debug, Clone)]
pub struct Organization {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
    pub lang: Lang,
    pub policy: PasswordPolicy,
    pub self_service: SelfService,
    pub passkeys: PasskeyPolicy,
    /// Its own look (accent, logo, sender name), empty for Poortwachter's own.
    pub look: super::OrgLook,
}

/// What an organization lets its users do for themselves (`org policy set`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelfService {
    /// "Wachtwoord vergeten?" sends a reset link; off, the mail says to ask the employer.
    pub reset: bool,
    /// For how many days a browser may skip the code step; 0: never.
    pub remember_device_days: u8,
}

impl Default for SelfService {
    fn default() -> SelfService {
        SelfService {
            reset: true,
            remember_device_days: 0,
        }
    }
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
    /// How the login was made; `None` until it is complete.
    pub method: Option<LoginMethod>,
    pub now: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: TokenHash,
    pub stage: LoginStage,
    /// When this session's login step was taken: for a complete session, when the user
    /// logged in (`auth_time`).
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    /// When the user last confirmed with the app's code in this session (see
    /// `domain::step_up`).
    pub confirmed_at: Option<i64>,
    /// How the login was made (meaningful once it is complete).
    pub method: LoginMethod,
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
    /// When the app was first (or last, for a new phone) confirmed with a code.
    pub activated_at: Option<i64>,
    /// A new phone's secret waiting for its first code, while this one still works.
    pub replacement: Option<Replacement>,
}

/// The secret of a new phone ("Nieuwe telefoon instellen"), not yet confirmed.
#[derive(Debug, Clone)]
pub struct Replacement {
    pub sealed: Sealed,
    pub expires_at: i64,
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
    RateLimited,
    /// The user already has active two-step verification: set-up cannot restart.
    AlreadyActive,
    /// A new phone needs an active app to replace: there is none.
    NothingToReplace,
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
    /// Refused unchecked: a subject waits until `until`.
    Blocked { until: i64 },
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
    /// A password hash made anew with today's Argon2 settings (see [`Rehash`]).
    pub rehash: Option<Rehash>,
    /// A new set of herstelcodes replacing the user's old one (see [`NewRecoveryCodes`]).
    pub recovery_codes: Option<NewRecoveryCodes>,
    /// A reset link whose second step was passed (see [`ResetVerified`]).
    pub reset_verified: Option<ResetVerified>,
    /// A browser that may skip the code step from now on (Dit apparaat onthouden).
    pub remember_device: Option<super::NewDevice>,
    /// A session whose user just confirmed with the app's code (the console's step-up).
    pub confirm_session: Option<TokenHash>,
    pub now: i64,
}

/// A new set of herstelcodes: their digests, and the codes sealed until the user confirms
/// having saved them.
#[derive(Debug, Clone)]
pub struct NewRecoveryCodes {
    pub user: UserId,
    pub digests: Vec<TokenHash>,
    pub reveal: Sealed,
}

/// The reset link `token` passed its second step in the browser holding the cookie whose
/// digest is `browser`: only that browser may now set the password with it.
#[derive(Debug, Clone)]
pub struct ResetVerified {
    pub token: TokenHash,
    pub browser: TokenHash,
}

/// Replaces `user`'s password hash `old` by `new`, unless it changed since `old` was read
/// (a password change in between wins).
#[derive(Debug, Clone)]
pub struct Rehash {
    pub user: UserId,
    pub old: String,
    pub new: String,
}

/// Which audit lines to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub org: Option<OrgId>,
    pub user: Option<UserId>,
    pub since: Option<i64>,
    /// Only lines older than the line with this id (the next page).
    pub before_id: Option<i64>,
    pub event: Option<AuditEvent>,
    pub limit: i64,
}

/// An audit line as read back.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: i64,
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
}

/// Database-wide numbers for the metrics endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreGauges {
    pub outbox_depth: i64,
    /// When the oldest mail still in the outbox was queued.
    pub oldest_queued_at: Option<i64>,
    pub live_sessions: i64,
}

/// One connection pool of this instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    pub name: &'static str,
    pub in_use: u32,
    pub idle: u32,
    pub max: u32,
}
