//! Passkeys: the credentials, the ceremonies in progress, and the organization's policy.

use async_trait::async_trait;

use super::{OrgId, Organization, OutgoingMail, Settlement, StoreResult, User, UserId};
use crate::domain::audit::AuditRecord;
use crate::domain::passkey::{PasskeyPolicy, Purpose};
use crate::domain::token::TokenHash;

/// A passkey as stored. The credential (public key, counter, flags) is webauthn-rs's JSON;
/// `crate::passkeys` reads it.
#[derive(Debug, Clone)]
pub struct PasskeyRow {
    pub id: i64,
    pub user_id: UserId,
    pub name: String,
    pub credential: String,
    pub counter: u32,
    pub backup_eligible: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A credential just registered.
pub struct NewPasskey<'a> {
    pub user: UserId,
    pub credential_id: &'a [u8],
    pub name: &'a str,
    pub credential: String,
    pub counter: u32,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub now: i64,
}

/// A passkey's state after a successful authentication: stored only over `previous_counter`.
pub struct PasskeyUse {
    pub id: i64,
    pub previous_counter: u32,
    pub credential: String,
    pub counter: u32,
    pub backup_eligible: bool,
    pub backup_state: bool,
}

pub struct NewCeremony<'a> {
    pub id: TokenHash,
    pub purpose: Purpose,
    /// The user it was started for; none for "Inloggen met een passkey".
    pub user: Option<UserId>,
    pub state: &'a str,
    pub expires_at: i64,
}

/// A ceremony taken out of the store (it is gone from it now).
#[derive(Debug, Clone)]
pub struct Ceremony {
    pub user: Option<UserId>,
    pub state: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddedPasskey {
    Added,
    /// The credential id is registered already (to this user or another).
    AlreadyRegistered,
}

#[async_trait]
pub trait PasskeyStore: Send + Sync + 'static {
    /// The user's WebAuthn user handle, made from `fresh` on first use.
    async fn passkey_handle(&self, user: UserId, fresh: [u8; 16]) -> StoreResult<[u8; 16]>;
    /// A passkey's owner and their organization, read for a passkey login.
    async fn passkey_owner(&self, user: UserId) -> StoreResult<Option<(User, Organization)>>;
    /// The user whose handle this is.
    async fn user_by_passkey_handle(&self, handle: &[u8]) -> StoreResult<Option<UserId>>;
    async fn passkeys_of_user(&self, user: UserId) -> StoreResult<Vec<PasskeyRow>>;
    async fn passkey_by_credential_id(
        &self,
        credential_id: &[u8],
    ) -> StoreResult<Option<PasskeyRow>>;
    /// Stores the passkey, queues `notice` and records `audit`, in one transaction.
    async fn add_passkey(
        &self,
        passkey: &NewPasskey<'_>,
        notice: &OutgoingMail,
        audit: &AuditRecord,
    ) -> StoreResult<AddedPasskey>;
    /// Removes the user's passkey `id`, queues `notice`, records `audit`; false when the
    /// user has no such passkey.
    async fn remove_passkey(
        &self,
        user: UserId,
        id: i64,
        notice: &OutgoingMail,
        audit: &AuditRecord,
    ) -> StoreResult<bool>;
    /// Stores the use if the counter is still the one checked, and `then` happens in the
    /// same transaction; false (and nothing happens) when another use came first.
    async fn use_passkey(&self, used: &PasskeyUse, then: &Settlement<'_>) -> StoreResult<bool>;

    async fn save_ceremony(&self, ceremony: &NewCeremony<'_>) -> StoreResult<()>;
    /// Takes the ceremony out (single use): `None` when there is no such ceremony for this
    /// purpose (never made, or used already). Expiry is for the caller to judge.
    async fn take_ceremony(
        &self,
        id: &TokenHash,
        purpose: Purpose,
    ) -> StoreResult<Option<Ceremony>>;

    async fn set_passkey_policy(&self, org: OrgId, policy: &PasskeyPolicy) -> StoreResult<()>;
}
