//! What self-service recovery keeps: reset links, herstelcodes and the organization's
//! self-service settings. Using a link or a code is one conditional statement, so of two
//! parallel uses one wins.

use async_trait::async_trait;

use super::{
    OrgId, Organization, OutgoingMail, SelfService, Settlement, StoreResult, User, UserId,
};
use crate::domain::account::InvitationRecord;
use crate::domain::audit::AuditRecord;
use crate::domain::second_factor::RateWindow;
use crate::domain::token::TokenHash;
use crate::keyring::Sealed;

/// Who asked for a reset link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetRequester {
    /// The user, through "Wachtwoord vergeten?".
    User,
    /// An administrator (`user reset-password`).
    Administrator,
}

impl ResetRequester {
    pub fn as_str(self) -> &'static str {
        match self {
            ResetRequester::User => "self",
            ResetRequester::Administrator => "admin",
        }
    }
}

/// An account a reset request may be for, with what the mail needs.
#[derive(Debug, Clone)]
pub struct ResetCandidate {
    pub user: User,
    pub org: Organization,
}

/// A new reset link and the mail that carries it.
pub struct NewPasswordReset<'a> {
    pub user: UserId,
    pub token: TokenHash,
    pub requested_by: ResetRequester,
    pub expires_at: i64,
    pub mail: &'a OutgoingMail,
    pub audit: &'a AuditRecord,
    pub now: i64,
}

/// A reset link as its page needs it.
#[derive(Debug, Clone)]
pub struct PasswordReset {
    pub record: InvitationRecord,
    /// The digest of the cookie of the browser that passed the second step, if one did.
    pub verified_browser: Option<TokenHash>,
    pub user: User,
    pub org: Organization,
    /// The user has an active authenticator app: the second step comes first.
    pub two_step: bool,
}

/// Setting the new password with a reset link.
pub struct CompletedReset<'a> {
    pub token: TokenHash,
    /// Required when the user has two-step verification: the browser that passed it.
    pub browser: Option<TokenHash>,
    pub password_hash: &'a str,
    pub notice: &'a OutgoingMail,
    pub audit: &'a AuditRecord,
    /// The account's throttle subject: a reset ends a lock, as a completed login does.
    pub throttle_subject: String,
    pub now: i64,
}

#[async_trait]
pub trait RecoveryStore: Send + Sync + 'static {
    async fn set_self_service(&self, org: OrgId, settings: &SelfService) -> StoreResult<()>;

    /// The accounts named by `login`: the user with that username, or the users with that
    /// e-mail address (at most `limit`), whatever their state.
    async fn reset_candidates(&self, login: &str, limit: i64) -> StoreResult<Vec<ResetCandidate>>;

    /// Stores the link (older unused links of the user stop working), queues its mail and
    /// records `audit`, in one transaction, if the user's reset mails within `limits` allow;
    /// false (and nothing stored) if they do not.
    async fn start_password_reset(
        &self,
        reset: &NewPasswordReset<'_>,
        limits: &[RateWindow],
    ) -> StoreResult<bool>;

    async fn password_reset(&self, token: &TokenHash) -> StoreResult<Option<PasswordReset>>;

    /// Uses the link and sets the password, ends every session and remembered device of the
    /// user, clears the account's throttle, queues the notice and records `audit`, in one
    /// transaction. `None` if the link was not usable (used, superseded, expired, another
    /// browser, a disabled account): of two parallel uses, one wins.
    async fn complete_password_reset(
        &self,
        reset: &CompletedReset<'_>,
    ) -> StoreResult<Option<UserId>>;

    /// How many of the user's herstelcodes are unused.
    async fn recovery_codes_left(&self, user: UserId) -> StoreResult<i64>;
    /// The user's new set, sealed, until they confirm having saved it.
    async fn recovery_codes_reveal(&self, user: UserId) -> StoreResult<Option<Sealed>>;
    /// The user saved the set: no readable copy stays behind. False if there was none.
    async fn forget_recovery_codes_reveal(&self, user: UserId) -> StoreResult<bool>;
    /// Marks the herstelcode with `digest` used if it is the user's and unused, and then
    /// applies `then`, in one transaction. False (and nothing else happens) if it was not.
    async fn use_recovery_code(
        &self,
        user: UserId,
        digest: &TokenHash,
        then: &Settlement<'_>,
    ) -> StoreResult<bool>;
}
