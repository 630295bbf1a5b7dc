//! Evidence kept: the audit log as a hash chain (domain::audit_chain) with signed
//! checkpoints, its verification, its retention and its export.
//!
//! Records are written as before, by whatever did the thing, in that thing's transaction;
//! a moment later the sealer links them into the chain in the order written, holding the
//! chain's head row, so several instances make one chain without forks. Every
//! `audit_checkpoint_minutes` the head is signed with the server's token-signing key (a JWS
//! anyone can check against the JWKS), and pruning cuts only at such a checkpoint.

mod export;

pub use export::{ExportFormat, write_export, write_header};

use std::sync::Arc;
use std::time::Duration;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::audit_chain::{Anchor, Break, Checkpoint, Walk};
use crate::signing_keys::{KeyError, Keys, kid_of};
use crate::store::{SealPass, Store, StoreError, StoredCheckpoint};

/// The JWS `typ` of a checkpoint.
pub const CHECKPOINT_TYP: &str = "audit-checkpoint+jwt";
/// Records linked per transaction.
const SEAL_BATCH: i64 = 500;
/// Records read per page while verifying.
const VERIFY_PAGE: i64 = 2000;

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing keys: {0}")]
    Keys(#[from] KeyError),
    #[error("no signing key to sign the checkpoint with")]
    NoSigningKey,
}

/// What a walk of the chain found.
#[derive(Debug, Clone)]
pub struct Verification {
    /// Where the walk started (the genesis, a pruning cut, or the checkpoint `--from` chose).
    pub start: Anchor,
    pub checked: u64,
    /// The last record that checked out.
    pub head: Anchor,
    pub checkpoints: usize,
    /// Written but not yet linked (normally none, or those of the last second).
    pub unsealed: i64,
    pub oldest_unsealed_at: Option<i64>,
    pub broken: Option<Break>,
}

#[derive(Clone)]
pub struct Evidence {
    pub store: Arc<dyn Store>,
    pub keys: Arc<Keys>,
    pub clock: SharedClock,
}

impl Evidence {
    /// Links every record written so far (in batches), and queues their webhooks.
    pub async fn seal(&self) -> Result<SealPass, EvidenceError> {
        let mut total = SealPass {
            sealed: 0,
            deliveries: 0,
            head: Anchor::GENESIS,
        };
        loop {
            let pass = self.store.seal_audit(SEAL_BATCH, self.clock.now()).await?;
            total.sealed += pass.sealed;
            total.deliveries += pass.deliveries;
            total.head = pass.head;
            if pass.sealed < SEAL_BATCH as u64 {
                return Ok(total);
            }
        }
    }

    async fn sign(&self, at: Anchor) -> Result<StoredCheckpoint, EvidenceError> {
        let now = self.clock.now();
        let keys = self.keys.current().await?;
        let key = keys
            .signer(Default::default(), now)
            .ok_or(EvidenceError::NoSigningKey)?;
        let checkpoint = Checkpoint {
            seq: at.seq,
            hash: at.hash,
            at: now,
        };
        Ok(StoredCheckpoint {
            seq: at.seq,
            hash: at.hash,
            at: now,
            token: key.sign(CHECKPOINT_TYP, &checkpoint.claims()),
        })
    }

    /// Signs the chain's head, unless nothing was linked since the last checkpoint.
    pub async fn checkpoint(&self) -> Result<Option<StoredCheckpoint>, EvidenceError> {
        let state = self.store.chain_state().await?;
        let last = self.store.checkpoints().await?.last().map(|c| c.seq);
        if state.head.seq == 0 || last == Some(state.head.seq) {
            return Ok(None);
        }
        let checkpoint = self.sign(state.head).await?;
        self.store.add_checkpoint(&checkpoint).await?;
        Ok(Some(checkpoint))
    }

    /// A checkpoint when one is due (the last is older than `every` seconds).
    pub async fn checkpoint_if_due(
        &self,
        every: i64,
    ) -> Result<Option<StoredCheckpoint>, EvidenceError> {
        match self.store.last_checkpoint_at().await? {
            Some(at) if self.clock.now() - at < every => Ok(None),
            _ => self.checkpoint().await,
        }
    }

    /// Removes the records older than `keep_since`, cutting at a checkpoint signed for the
    /// cut (the walk starts there afterwards); the number removed. Audited.
    pub async fn prune(&self, keep_since: i64) -> Result<u64, EvidenceError> {
        let Some(cut) = self.store.prune_point(keep_since).await? else {
            return Ok(0);
        };
        let checkpoint = self.sign(cut).await?;
        let removed = self.store.prune_audit(&checkpoint).await?;
        let record = AuditRecord::new(self.clock.now(), AuditEvent::AuditPruned, Outcome::Success)
            .detail(format!(
                "{removed} lines before {keep_since}; the chain starts after record {}",
                cut.seq
            ));
        self.store.record_audit(&[record]).await?;
        Ok(removed)
    }

    /// Walks the chain and names the first record that does not fit. `from`: start at the
    /// last checkpoint made at or before that time (its signature checked) instead of at the
    /// chain's start.
    pub async fn verify(&self, from: Option<i64>) -> Result<Verification, EvidenceError> {
        let state = self.store.chain_state().await?;
        let checkpoints = self.store.checkpoints().await?;
        let keys = self.keys.current().await?;
        let mut verification = Verification {
            start: state.anchor,
            checked: 0,
            head: state.anchor,
            checkpoints: checkpoints.len(),
            unsealed: state.unsealed,
            oldest_unsealed_at: state.oldest_unsealed_at,
            broken: None,
        };
        // Every checkpoint must carry this server's signature over what is stored with it.
        for checkpoint in &checkpoints {
            let signed = kid_of(&checkpoint.token)
                .and_then(|kid| keys.by_kid(&kid))
                .and_then(|key| key.verify(CHECKPOINT_TYP, &checkpoint.token))
                .and_then(|claims| Checkpoint::from_claims(&claims));
            let stated = Checkpoint {
                seq: checkpoint.seq,
                hash: checkpoint.hash,
                at: checkpoint.at,
            };
            if signed != Some(stated) {
                verification.broken = Some(Break::Forged {
                    seq: checkpoint.seq,
                });
                return Ok(verification);
            }
        }
        // A pruned chain starts at the checkpoint of its cut; one without it was cut by hand.
        if state.anchor.seq > 0
            && !checkpoints
                .iter()
                .any(|c| c.seq == state.anchor.seq && c.hash == state.anchor.hash)
        {
            verification.broken = Some(Break::Checkpoint {
                seq: state.anchor.seq,
            });
            return Ok(verification);
        }
        let start = from
            .and_then(|from| {
                checkpoints
                    .iter()
                    .filter(|c| c.at <= from && c.seq >= state.anchor.seq)
                    .max_by_key(|c| c.seq)
            })
            .map(|c| Anchor {
                seq: c.seq,
                hash: c.hash,
            })
            .unwrap_or(state.anchor);
        verification.start = start;
        let mut walk = Walk::from(start);
        let mut next_checkpoint = checkpoints.iter().filter(|c| c.seq > start.seq).peekable();
        'pages: loop {
            let rows = self.store.chain_rows(walk.head().seq, VERIFY_PAGE).await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let Some(hash) = row.hash else {
                    verification.broken = Some(Break::Altered {
                        seq: row.seq,
                        id: row.id,
                    });
                    break 'pages;
                };
                if let Err(broken) = walk.next(row.seq, row.id, &hash, &row.chained()) {
                    verification.broken = Some(broken);
                    break 'pages;
                }
                while let Some(checkpoint) = next_checkpoint.next_if(|c| c.seq <= row.seq) {
                    if checkpoint.seq == row.seq && checkpoint.hash != hash {
                        verification.broken = Some(Break::Checkpoint {
                            seq: checkpoint.seq,
                        });
                        break 'pages;
                    }
                }
            }
        }
        verification.checked = walk.checked();
        verification.head = walk.head();
        if verification.broken.is_none() {
            let last_claimed = next_checkpoint
                .map(|c| c.seq)
                .chain([state.head.seq])
                .max()
                .unwrap_or(0);
            if last_claimed > walk.head().seq {
                verification.broken = Some(Break::Truncated {
                    seq: last_claimed,
                    head: walk.head().seq,
                });
            }
        }
        Ok(verification)
    }

    /// Seals until `shutdown`: every `seal_every`, plus a checkpoint when one is due and a
    /// pruning pass once an hour.
    pub async fn run(self, settings: Arc<Settings>, shutdown: crate::shutdown::Shutdown) {
        let seal_every = Duration::from_millis(settings.audit_seal_ms);
        let checkpoint_every = i64::from(settings.audit_checkpoint_minutes) * 60;
        let mut last_prune = None::<i64>;
        while !shutdown.is_requested() {
            match self.seal().await {
                Ok(pass) if pass.sealed > 0 => {
                    tracing::debug!(
                        sealed = pass.sealed,
                        deliveries = pass.deliveries,
                        "audit sealed"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "audit chain: sealing failed; will try again"),
            }
            if let Err(e) = self.checkpoint_if_due(checkpoint_every).await {
                tracing::warn!(error = %e, "audit chain: checkpoint failed; will try again");
            }
            let now = self.clock.now();
            if last_prune.is_none_or(|at| now - at >= 3600) {
                last_prune = Some(now);
                let keep_since = now - i64::from(settings.audit_retention_days) * 86400;
                match self.prune(keep_since).await {
                    Ok(0) => {}
                    Ok(removed) => {
                        tracing::info!(removed, "audit lines past their retention pruned")
                    }
                    Err(e) => tracing::warn!(error = %e, "audit pruning failed; will try again"),
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(seal_every) => {}
                _ = shutdown.requested() => {}
            }
        }
        // What was written up to the end is linked before the process goes.
        if let Err(e) = self.seal().await {
            tracing::warn!(error = %e, "audit chain: last sealing failed; the next start links it");
        }
    }
}
