//! Toegang op orde: the logins an application expects of its users, and what the readiness
//! judgement (`domain::readiness`) is made from — read in one query per list, so that the
//! HR overview of a thousand users is one round trip.

use async_trait::async_trait;

use super::{OrgId, OutgoingMail, StoreResult, User, UserId};
use crate::domain::audit::AuditRecord;
use crate::domain::lang::Lang;
use crate::domain::readiness::AccessFacts;

/// A login the application expects of a user (a deadline that needs one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedLogin {
    pub user: UserId,
    /// The application's key: registering the same key again changes this one.
    pub key: String,
    pub due_at: i64,
    pub label: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// When the look-ahead mail went out (reset when the date changes).
    pub reminded_at: Option<i64>,
}

/// What a registration did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    Created,
    /// The date or the label changed (a new date may send a new look-ahead mail).
    Changed,
    /// The same date and label as before: nothing was written.
    Unchanged,
}

/// A user and what their readiness is judged from.
#[derive(Debug, Clone)]
pub struct UserAccess {
    pub user: User,
    /// The organization's language: the user's mail and pages are in it.
    pub lang: Lang,
    pub facts: AccessFacts,
}

/// An expected login with its user's facts.
#[derive(Debug, Clone)]
pub struct ExpectedAccess {
    pub expected: ExpectedLogin,
    pub access: UserAccess,
}

#[async_trait]
pub trait AccessStore: Send + Sync + 'static {
    /// Registers the expected login (or changes the one with the same key), with `audit`
    /// when something changed. A new date makes the look-ahead mail due again.
    async fn register_expected_login(
        &self,
        expected: &ExpectedLogin,
        audit: &AuditRecord,
    ) -> StoreResult<Registration>;
    /// Withdraws it; false when there was none.
    async fn withdraw_expected_login(
        &self,
        user: UserId,
        key: &str,
        audit: &AuditRecord,
    ) -> StoreResult<bool>;
    /// The user's expected logins, soonest first.
    async fn expected_logins_of_user(&self, user: UserId) -> StoreResult<Vec<ExpectedLogin>>;
    /// The expected logins due in `(after, until]`, soonest first, with their users' facts:
    /// of one organization, or (`None`) of all (the look-ahead pass).
    async fn expected_access(
        &self,
        org: Option<OrgId>,
        after: i64,
        until: i64,
    ) -> StoreResult<Vec<ExpectedAccess>>;
    /// One user's facts.
    async fn user_access(&self, user: UserId) -> StoreResult<Option<UserAccess>>;
    /// Marks the look-ahead mail of the expected login (at the date `due_at`) as sent at
    /// `now` and queues `mail` (to leave from `queued_at` on) with `audit`, unless it was
    /// sent before (by another instance, say): false then, and nothing is queued.
    async fn claim_look_ahead(
        &self,
        expected: &ExpectedLogin,
        now: i64,
        queued_at: i64,
        mail: &OutgoingMail,
        audit: &AuditRecord,
    ) -> StoreResult<bool>;
}
