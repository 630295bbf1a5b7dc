//! What the admin API and the console read and write beyond a single user's login: users
//! with everything an administrator sees of them, invitations many at once (one
//! transaction), remembered answers to idempotent requests, and roles.

use async_trait::async_trait;

use super::{NewInvitation, OrgId, OutgoingMail, StoreResult, User, UserId};
use crate::domain::audit::AuditRecord;
use crate::domain::onboarding::{InvitationFacts, UserFacts};
use crate::domain::token::TokenHash;

/// How long an idempotent request's answer is kept (and a key cannot be used again).
pub const IDEMPOTENCY_SECONDS: i64 = 24 * 60 * 60;

/// A role a user can have in their organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// May use the console (`/beheer`) for their own organization.
    Beheerder,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Beheerder => "beheerder",
        }
    }
}

/// A user as an administrator sees them.
#[derive(Debug, Clone)]
pub struct UserOverview {
    pub user: User,
    pub created_at: i64,
    pub invitation: Option<InvitationFacts>,
    /// `None`: no authenticator app; `Some(false)`: set-up pending; `Some(true)`: active.
    pub two_step: Option<bool>,
    pub two_step_since: Option<i64>,
    pub failures: i64,
    pub blocked_until: i64,
    /// The last completed login (from the audit log).
    pub last_login_at: Option<i64>,
    pub beheerder: bool,
}

impl UserOverview {
    pub fn facts(&self) -> UserFacts {
        UserFacts {
            state: self.user.state,
            invitation: self.invitation.clone(),
            two_step: self.two_step,
            blocked_until: self.blocked_until,
        }
    }
}

/// One invitation of a batch, with its mail.
pub struct InvitationWithMail {
    pub invitation: NewInvitation,
    pub mail: OutgoingMail,
}

/// The answer to a request made with an `Idempotency-Key`, kept with what it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentAnswer {
    pub client_id: String,
    pub key: String,
    /// SHA-256 of the request (method, path, body): the same key with another request is
    /// refused, not answered with this.
    pub fingerprint: TokenHash,
    pub status: u16,
    pub body: String,
    pub created_at: i64,
}

/// How a batch of invitations ended: all of them, or none.
#[derive(Debug)]
pub enum BatchOutcome {
    Invited(Vec<User>),
    /// Row `index` (from 0) could not be invited; nothing was.
    Refused {
        index: usize,
        reason: super::StoreError,
    },
    /// The idempotency key was used by a request that finished first: nothing was done
    /// here; answer with the stored answer.
    AlreadyAnswered,
}

#[async_trait]
pub trait AdminStore: Send + Sync + 'static {
    /// The organization's users (or the one named `only`), by id.
    async fn user_overviews(
        &self,
        org: OrgId,
        only: Option<&str>,
    ) -> StoreResult<Vec<UserOverview>>;
    /// Invites every user of the batch (new, or refreshing a still-invited one of the same
    /// organization) and queues their mails in one transaction, with `answer` if given and
    /// the line `audit` about each user.
    async fn invite_batch(
        &self,
        batch: &[InvitationWithMail],
        answer: Option<&IdempotentAnswer>,
        audit: &AuditRecord,
    ) -> StoreResult<BatchOutcome>;
    /// The stored answer for the client's key, if it is younger than `since`.
    async fn idempotent_answer(
        &self,
        client_id: &str,
        key: &str,
        since: i64,
    ) -> StoreResult<Option<IdempotentAnswer>>;
    /// Grants or revokes a role; false when nothing changed.
    async fn set_role(
        &self,
        user: UserId,
        role: Role,
        granted: bool,
        audit: &AuditRecord,
    ) -> StoreResult<bool>;
    /// Whether the user has the role now.
    async fn has_role(&self, user: UserId, role: Role) -> StoreResult<bool>;
}
