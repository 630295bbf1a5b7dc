//! Events out and evidence kept: the audit log's hash chain (sealing, checkpoints, pruning,
//! export) and the webhook subscriptions with their delivery outbox. The sealer links new
//! audit records into the chain and, in the same transaction, queues one webhook delivery
//! per event and matching subscription: what is sealed is exactly what is sent.

use async_trait::async_trait;

use super::{OrgId, StoreResult};
use crate::domain::audit::AuditRecord;
use crate::domain::audit_chain::{Anchor, ChainHash};
use crate::keyring::Sealed;

/// What one sealing pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealPass {
    pub sealed: u64,
    pub deliveries: u64,
    pub head: Anchor,
}

/// The chain as it stands.
#[derive(Debug, Clone)]
pub struct ChainState {
    pub head: Anchor,
    /// Where a walk starts (after pruning: the checkpoint at the cut).
    pub anchor: Anchor,
    /// Records written but not yet linked, and the oldest one's time.
    pub unsealed: i64,
    pub oldest_unsealed_at: Option<i64>,
}

/// An audit record as stored, with its place in the chain.
#[derive(Debug, Clone)]
pub struct ChainRow {
    pub id: i64,
    pub seq: i64,
    /// `None` when what is stored is not a hash at all.
    pub hash: Option<ChainHash>,
    pub at: i64,
    pub event: String,
    pub outcome: String,
    pub org_id: Option<i64>,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub client: Option<String>,
    pub detail: Option<String>,
}

/// A signed checkpoint: the chain's hash at `seq`, and the JWS that signs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub seq: i64,
    pub hash: ChainHash,
    pub at: i64,
    pub token: String,
}

/// A line of the export, with the organization's slug (NEN 7513: who, what, when, where).
#[derive(Debug, Clone)]
pub struct ExportRow {
    pub row: ChainRow,
    pub org_slug: Option<String>,
}

/// A subscription as made.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub public_id: String,
    /// `None`: every organization's events (the operator's).
    pub org_id: Option<OrgId>,
    pub url: String,
    pub events: String,
    pub description: String,
    pub secret: Sealed,
    pub created_at: i64,
}

/// A subscription as stored.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: i64,
    pub public_id: String,
    pub org_id: Option<OrgId>,
    pub org_slug: Option<String>,
    pub url: String,
    pub events: String,
    pub description: String,
    pub secret: Sealed,
    /// The secret before a rotation, and until when it signs too.
    pub previous: Option<(Sealed, i64)>,
    pub created_at: i64,
    pub failing_since: Option<i64>,
    pub last_attempt_at: Option<i64>,
    pub last_answer: Option<String>,
    /// Deliveries not yet made (waiting, or being retried).
    pub pending: i64,
    pub oldest_pending_at: Option<i64>,
}

/// A delivery claimed by this instance, with what it is sent with.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub seq: i64,
    pub kind: String,
    pub payload: String,
    /// Counting this one.
    pub attempts: i64,
    pub created_at: i64,
    pub subscription: Subscription,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// Not accepted; tried again at this time.
    RetryAt(i64),
    /// Not accepted for more than a day: given up, the subscription marked failing.
    GivenUp,
}

#[async_trait]
pub trait EvidenceStore: Send + Sync + 'static {
    /// Links up to `limit` unsealed audit records into the chain, in the order written, and
    /// queues their webhook deliveries, in one transaction that holds the chain's head (so
    /// two instances never link at once).
    async fn seal_audit(&self, limit: i64, now: i64) -> StoreResult<SealPass>;
    async fn chain_state(&self) -> StoreResult<ChainState>;
    /// Sealed records after `after_seq`, in chain order.
    async fn chain_rows(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<ChainRow>>;
    async fn checkpoints(&self) -> StoreResult<Vec<StoredCheckpoint>>;
    /// The newest checkpoint's time (to know when the next is due).
    async fn last_checkpoint_at(&self) -> StoreResult<Option<i64>>;
    async fn add_checkpoint(&self, checkpoint: &StoredCheckpoint) -> StoreResult<()>;
    /// The place and hash of the last sealed record older than `before` (where pruning may
    /// cut), if any lies past the current anchor.
    async fn prune_point(&self, before: i64) -> StoreResult<Option<Anchor>>;
    /// Keeps `cut` as a checkpoint, starts the chain's walks there, and removes the records
    /// up to it, in one transaction; the number removed.
    async fn prune_audit(&self, cut: &StoredCheckpoint) -> StoreResult<u64>;
    /// Sealed records with `from <= at < to`, of one organization or all, after row `after_id`.
    async fn audit_export(
        &self,
        from: i64,
        to: i64,
        org: Option<OrgId>,
        after_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<ExportRow>>;
}

#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    async fn add_subscription(
        &self,
        subscription: &NewSubscription,
        audit: &AuditRecord,
    ) -> StoreResult<()>;
    /// One organization's subscriptions, or (`None`) every subscription.
    async fn subscriptions(&self, org: Option<OrgId>) -> StoreResult<Vec<Subscription>>;
    async fn subscription(&self, public_id: &str) -> StoreResult<Option<Subscription>>;
    /// Removes it with its queued deliveries; false when there was none.
    async fn remove_subscription(&self, public_id: &str, audit: &AuditRecord) -> StoreResult<bool>;
    /// `secret` signs from now on; the current one signs too until `previous_until`.
    async fn rotate_webhook_secret(
        &self,
        public_id: &str,
        secret: &Sealed,
        previous_until: i64,
        audit: &AuditRecord,
    ) -> StoreResult<bool>;
    /// Claims up to `limit` due deliveries for `lease_seconds`: never one whose earlier
    /// delivery to the same subscription about the same user is still open (order per user),
    /// never one another instance holds.
    async fn claim_deliveries(
        &self,
        now: i64,
        lease_seconds: i64,
        limit: i64,
    ) -> StoreResult<Vec<ClaimedDelivery>>;
    async fn delivery_answered(
        &self,
        id: i64,
        now: i64,
        answer: &str,
        outcome: Delivery,
    ) -> StoreResult<()>;
    /// Queues the subscription's events of `from <= at < to` again (delivered or not);
    /// the number queued.
    async fn replay_webhooks(
        &self,
        public_id: &str,
        from: i64,
        to: i64,
        now: i64,
    ) -> StoreResult<u64>;
}
