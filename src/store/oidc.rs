//! What OpenID Connect keeps, in two traits: clients with their signing keys, subjects and
//! consent; grants with their codes, refresh tokens and the back-channel logout queue.
//! Everything that must happen once (redeeming a code, rotating a refresh token, claiming a
//! logout delivery) is one conditional statement.

use async_trait::async_trait;

use super::{OrgId, StoreResult, UserId};
use crate::domain::audit::AuditRecord;
use crate::domain::login_method::LoginMethod;
pub use crate::domain::oidc::claims::Person;
use crate::domain::oidc::client::{GrantKind, SigningAlg};
use crate::domain::token::TokenHash;
use crate::keyring::Sealed;

/// A registered client (relying party).
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub name: String,
    /// `None` for a public client (PKCE, no secret).
    pub secret_hash: Option<TokenHash>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    /// Needs no consent (Verzuimcoach itself).
    pub first_party: bool,
    pub id_token_alg: SigningAlg,
    /// A login application, or a machine client of the admin API.
    pub grant: GrantKind,
    /// Organizations whose users it serves (a machine client: the ones it may manage, at
    /// least one); empty: all.
    pub orgs: Vec<ClientOrg>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOrg {
    pub id: OrgId,
    pub slug: String,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }

    pub fn serves(&self, org: OrgId) -> bool {
        self.orgs.is_empty() || self.orgs.iter().any(|o| o.id == org)
    }
}

/// A signing key as stored: sealed private key, public JWK.
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub sealed: Sealed,
    pub public_jwk: String,
    pub created_at: i64,
    pub signs_from: i64,
    pub published_until: Option<i64>,
}

/// An authorization code as issued.
pub struct NewCode<'a> {
    pub code_hash: TokenHash,
    pub client_id: &'a str,
    pub user_id: UserId,
    pub session_hash: TokenHash,
    pub redirect_uri: &'a str,
    pub scope: String,
    pub nonce: Option<&'a str>,
    pub code_challenge: &'a str,
    pub auth_time: i64,
    pub expires_at: i64,
}

/// A code presented at the token endpoint, and the grant its redemption starts.
pub struct CodeRedemption<'a> {
    pub code_hash: TokenHash,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    /// The S256 challenge of the presented verifier.
    pub challenge: &'a str,
    pub grant_id: &'a str,
    pub refresh_hash: TokenHash,
}

/// A redeemed code: what the tokens are issued from.
#[derive(Debug, Clone)]
pub struct RedeemedCode {
    pub user_id: UserId,
    pub session_hash: TokenHash,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub auth_time: i64,
    /// How the login session's user logged in (`amr`, `acr`).
    pub method: LoginMethod,
}

#[derive(Debug)]
pub enum Redemption {
    /// The code was fresh; the grant and its first refresh token are stored.
    Redeemed(RedeemedCode),
    /// The code was used before: the grant it started is revoked now.
    Reused { user_id: UserId },
    /// No such code for this client, or expired, or its session has ended.
    Invalid,
}

/// A grant as the token, userinfo and introspection endpoints see it.
#[derive(Debug, Clone)]
pub struct Grant {
    pub id: String,
    pub client_id: String,
    pub user_id: UserId,
    pub session_hash: TokenHash,
    pub scope: String,
    pub auth_time: i64,
    pub method: LoginMethod,
}

#[derive(Debug)]
pub enum Refresh {
    /// The token was fresh: it is used now, the new one stored. With the person the tokens
    /// describe, read in the same step (`None`: the account is disabled or has no `sub`).
    Rotated(Grant, Option<crate::domain::oidc::claims::Person>),
    /// The token was used before: its whole grant is revoked now.
    Reused(Grant),
    Invalid,
}

/// A consent as the logged-in page lists it.
#[derive(Debug, Clone)]
pub struct Consent {
    pub client_id: String,
    pub client_name: String,
    pub scope: String,
    pub granted_at: i64,
}

/// A back-channel logout claimed for delivery.
#[derive(Debug, Clone)]
pub struct PendingLogout {
    pub client_id: String,
    pub uri: String,
    pub session_hash: TokenHash,
    pub user_id: UserId,
    pub subject: String,
    pub attempts: i64,
}

/// When a session counts as live: not past its absolute end, used since `idle_cutoff`.
#[derive(Debug, Clone, Copy)]
pub struct Liveness {
    pub now: i64,
    pub idle_cutoff: i64,
}

/// Registered clients, their signing keys, the users' `sub` and consent.
#[async_trait]
pub trait ClientStore: Send + Sync + 'static {
    async fn create_client(&self, client: &Client, audit: &AuditRecord) -> StoreResult<()>;
    async fn client(&self, id: &str) -> StoreResult<Option<Client>>;
    async fn clients(&self) -> StoreResult<Vec<Client>>;
    /// Every registered application's name by its id: audit lines name applications.
    async fn client_names(&self) -> StoreResult<std::collections::HashMap<String, String>> {
        Ok(self
            .clients()
            .await?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect())
    }
    /// False when there is no such client.
    async fn set_client_secret(
        &self,
        id: &str,
        secret_hash: &TokenHash,
        audit: &AuditRecord,
    ) -> StoreResult<bool>;
    /// Removes the client with its grants, codes, consents and queued logouts.
    async fn remove_client(&self, id: &str, audit: &AuditRecord) -> StoreResult<bool>;

    async fn signing_keys(&self) -> StoreResult<Vec<StoredKey>>;
    /// Adds `key`; keys of its algorithm without an end of publication get `retire_until`.
    async fn add_signing_key(
        &self,
        key: &StoredKey,
        retire_until: Option<i64>,
        audit: Option<&AuditRecord>,
    ) -> StoreResult<()>;

    /// Adds `key` only if no key of its algorithm signs at its `signs_from` yet: the first
    /// start's key, made once even when several instances start together on an empty
    /// database (PostgreSQL: the table is locked for the check). `false` when another
    /// instance was first.
    async fn add_first_signing_key(&self, key: &StoredKey) -> StoreResult<bool>;

    /// The user's `sub`, made from `candidate` at the first call.
    async fn subject_of(&self, user: UserId, candidate: &str) -> StoreResult<String>;
    /// What the tokens may say about the user (with the organization and `sub`).
    async fn person(&self, user: UserId) -> StoreResult<Option<Person>>;

    async fn consent(&self, user: UserId, client_id: &str) -> StoreResult<Option<String>>;
    async fn give_consent(
        &self,
        user: UserId,
        client_id: &str,
        scope: &str,
        now: i64,
        audit: &AuditRecord,
    ) -> StoreResult<()>;
    /// Withdraws the consent and revokes the user's grants of that client.
    async fn withdraw_consent(
        &self,
        user: UserId,
        client_id: &str,
        now: i64,
        audit: &AuditRecord,
    ) -> StoreResult<bool>;
    async fn consents_of_user(&self, user: UserId) -> StoreResult<Vec<Consent>>;
}

/// Codes, grants and refresh tokens, and the back-channel logout queue.
#[async_trait]
pub trait GrantStore: Send + Sync + 'static {
    async fn insert_code(&self, code: &NewCode<'_>, audit: &AuditRecord) -> StoreResult<()>;
    /// Redeems the code once, if it was issued to the client for the redirect URI with the
    /// PKCE challenge (a mismatch leaves the code unused), starting the grant with its first
    /// refresh token, if its login session is still live. A second redemption revokes that
    /// grant.
    async fn redeem_code(
        &self,
        redemption: &CodeRedemption<'_>,
        live: Liveness,
        audit: &AuditRecord,
    ) -> StoreResult<Redemption>;
    /// Uses the refresh token once and stores `next` in its place, if its grant stands and
    /// its session is live (and keeps the session alive), recording `audit` for the grant's
    /// user. A used one revokes the grant.
    async fn refresh(
        &self,
        token_hash: &TokenHash,
        client_id: &str,
        next: &TokenHash,
        live: Liveness,
        audit: &AuditRecord,
    ) -> StoreResult<Refresh>;
    /// A grant that stands and whose session is live.
    async fn live_grant(&self, id: &str, live: Liveness) -> StoreResult<Option<Grant>>;
    /// The person of a grant that stands, whose session is live and whose account is
    /// enabled (userinfo: one read for all three).
    async fn live_grant_person(
        &self,
        id: &str,
        live: Liveness,
    ) -> StoreResult<Option<crate::domain::oidc::claims::Person>>;
    /// The grant of a refresh token of `client_id` (for revocation and introspection).
    async fn grant_of_refresh_token(
        &self,
        token_hash: &TokenHash,
        client_id: &str,
        live: Liveness,
    ) -> StoreResult<Option<Grant>>;
    async fn revoke_grant(&self, id: &str, now: i64, audit: &AuditRecord) -> StoreResult<bool>;

    /// Ends the grants whose session has ended, and queues a logout for each client with a
    /// back-channel URI that got tokens in such a session. The number of logouts queued.
    async fn queue_logouts(&self, live: Liveness) -> StoreResult<u64>;
    async fn claim_logouts(
        &self,
        now: i64,
        lease_seconds: i64,
        limit: i64,
    ) -> StoreResult<Vec<PendingLogout>>;
    async fn logout_delivered(
        &self,
        logout: &PendingLogout,
        audit: &AuditRecord,
    ) -> StoreResult<()>;
    async fn logout_failed(
        &self,
        logout: &PendingLogout,
        retry_at: i64,
        error: &str,
        audit: &AuditRecord,
    ) -> StoreResult<()>;
}
