//! The outbox worker: delivers queued mail, retrying with exponential back-off, so a mail
//! server that is down delays mail and loses none.
//!
//! Rows are claimed with a lease (a conditional UPDATE), so several processes can drain the
//! same outbox: a mail is sent by one of them, and if that one dies mid-send the lease runs
//! out and another sends it — at least once, never lost.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::transport::MailTransport;
use crate::clock::SharedClock;
use crate::shutdown::Shutdown;
use crate::store::Store;

/// How long a claimed mail belongs to one sender before another may try it.
const LEASE_SECONDS: i64 = 120;
const BATCH: i64 = 20;
const FIRST_RETRY_SECONDS: i64 = 5;
const MAX_RETRY_SECONDS: i64 = 30 * 60;

/// Seconds to wait before attempt `attempts + 1`, after `attempts` failures: 5 s, 10 s, 20 s …
/// up to half an hour, then every half hour for as long as it takes.
pub fn retry_delay(attempts: i64) -> i64 {
    let doublings = attempts.saturating_sub(1).clamp(0, 20) as u32;
    FIRST_RETRY_SECONDS
        .saturating_mul(1 << doublings)
        .min(MAX_RETRY_SECONDS)
}

pub struct OutboxWorker {
    pub store: Arc<dyn Store>,
    pub transport: MailTransport,
    pub clock: SharedClock,
    /// Woken when this process queues mail, so it leaves at once.
    pub wake: Arc<Notify>,
    /// How often to look for mail queued by other processes.
    pub poll: Duration,
}

impl OutboxWorker {
    /// Delivers until `shutdown`; then ends after the mail it is sending (see
    /// [`drain_once`](Self::drain_once)).
    pub async fn run(self, shutdown: Shutdown) {
        while !shutdown.is_requested() {
            match self.drain_once(&shutdown).await {
                // A full batch: there may be more waiting.
                Ok(count) if count as i64 == BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "outbox: could not read the queue"),
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.poll) => {}
                _ = shutdown.requested() => {}
            }
        }
    }

    /// Claims and delivers one batch of due mail; returns how many were claimed. When
    /// `shutdown` comes mid-batch, the mail being sent is finished and the rest handed back
    /// (lease lifted, attempt not counted) for another instance, or the next start, to send
    /// at once.
    pub async fn drain_once(&self, shutdown: &Shutdown) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let batch = self.store.claim_mail(now, LEASE_SECONDS, BATCH).await?;
        for (done, queued) in batch.iter().enumerate() {
            if shutdown.is_requested() {
                let unsent: Vec<i64> = batch[done..].iter().map(|q| q.id).collect();
                self.store.release_mail(&unsent).await?;
                tracing::info!(
                    count = unsent.len(),
                    "outbox: shutting down, unsent mail handed back"
                );
                break;
            }
            match self.transport.deliver(&queued.mail).await {
                Ok(()) => {
                    self.store
                        .mail_delivered(queued.id, self.clock.now())
                        .await?;
                    crate::telemetry::mail_delivered();
                    tracing::info!(
                        mail_id = queued.id,
                        attempts = queued.attempts,
                        "mail delivered"
                    );
                }
                Err(e) => {
                    crate::telemetry::mail_failed();
                    let delay = retry_delay(queued.attempts);
                    let message = e.to_string();
                    tracing::warn!(
                        mail_id = queued.id,
                        attempts = queued.attempts,
                        retry_in_seconds = delay,
                        error = %message,
                        "mail not delivered; will retry"
                    );
                    let retry_at = self.clock.now() + delay;
                    self.store
                        .mail_failed(queued.id, retry_at, &message)
                        .await?;
                }
            }
        }
        Ok(batch.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_doubles_up_to_half_an_hour() {
        assert_eq!(retry_delay(1), 5);
        assert_eq!(retry_delay(2), 10);
        assert_eq!(retry_delay(3), 20);
        assert_eq!(retry_delay(10), 1800);
        assert_eq!(retry_delay(1000), 1800);
    }
}
