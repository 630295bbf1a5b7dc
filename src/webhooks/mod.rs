//! Webhooks out: the worker that sends the outbox's deliveries (queued by the audit sealer,
//! `src/evidence`), signed as the Standard Webhooks specification says, claimed with a lease
//! so that several instances send each delivery once, retried on the specification's
//! schedule for more than a day and then given up (the subscription is marked failing).
//!
//! The receiver is someone else's server on the internet, so the client is careful: no
//! redirects followed, no proxy, a short timeout, at most 64 KiB of the answer read, and in
//! production no address that is this machine or a private network (checked on every name
//! resolved, so a name that points inward later is refused too).

mod resolver;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::domain::webhook::{Secret, retry_after, signature_header, status_answer};
use crate::keyring::Keyring;
use crate::store::{ClaimedDelivery, Delivery, Store, Subscription};

/// Deliveries claimed per round.
const BATCH: i64 = 20;
/// The most of an answer that is read (it is kept only as "HTTP 200").
const ANSWER_LIMIT: usize = 64 * 1024;

/// The secrets that sign for `subscription` at `now`: the current one, and the one before
/// it while the rotation's overlap lasts.
pub fn signing_secrets(
    keyring: &Keyring,
    subscription: &Subscription,
    now: i64,
) -> Option<Vec<Secret>> {
    let open = |sealed| {
        keyring
            .open_webhook_secret(&subscription.public_id, sealed)
            .and_then(|bytes| {
                Secret::from_bytes(secrecy::ExposeSecret::expose_secret(&bytes).to_vec())
            })
    };
    let mut secrets = vec![open(&subscription.secret)?];
    if let Some((previous, until)) = &subscription.previous
        && *until > now
    {
        secrets.extend(open(previous));
    }
    Some(secrets)
}

pub struct WebhookSender {
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
    pub clock: SharedClock,
    pub keyring: Arc<Keyring>,
    pub wake: Arc<Notify>,
}

impl WebhookSender {
    /// The HTTP client every delivery goes out with.
    pub fn client(settings: &Settings) -> reqwest::Result<reqwest::Client> {
        crate::tls::install_provider();
        let timeout = Duration::from_secs(settings.webhook_timeout_seconds);
        reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("Poortwachter-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(resolver::PublicOnly {
                development: settings.dev_mode,
            })
            .build()
    }

    /// Sends until `shutdown`; a round under way is finished, and what is claimed but not
    /// sent goes back when its lease ends.
    pub async fn run(self, shutdown: crate::shutdown::Shutdown) {
        let http = match Self::client(&self.settings) {
            Ok(http) => http,
            Err(e) => {
                tracing::error!(error = %e, "webhooks: no HTTP client; deliveries stay queued");
                return;
            }
        };
        let poll = Duration::from_millis(self.settings.webhook_poll_ms);
        while !shutdown.is_requested() {
            match self.round(&http).await {
                // A full round: there may be more due at once.
                Ok(sent) if sent == BATCH as usize => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "webhook round failed; will try again"),
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.requested() => {}
            }
        }
    }

    /// Claims what is due and sends it; the number of deliveries attempted.
    pub async fn round(&self, http: &reqwest::Client) -> anyhow::Result<usize> {
        let lease = i64::try_from(self.settings.webhook_timeout_seconds).unwrap_or(60) * 2 + 5;
        let claimed = self
            .store
            .claim_deliveries(self.clock.now(), lease, BATCH)
            .await?;
        // One at a time, in chain order: a later event about a user never overtakes an
        // earlier one (the claim already holds back one whose predecessor is open).
        for delivery in &claimed {
            self.deliver(http, delivery).await?;
        }
        Ok(claimed.len())
    }

    async fn deliver(
        &self,
        http: &reqwest::Client,
        delivery: &ClaimedDelivery,
    ) -> anyhow::Result<()> {
        let now = self.clock.now();
        let subscription = &delivery.subscription;
        let answer = match signing_secrets(&self.keyring, subscription, now) {
            None => Err("the signing secret does not open with this keyring".to_owned()),
            Some(secrets) => send(http, &self.settings, delivery, &secrets, now).await,
        };
        let (text, outcome) = match answer {
            Ok(status) if (200..300).contains(&status) => {
                (status_answer(status), Delivery::Delivered)
            }
            failed => {
                let text = match failed {
                    Ok(status) => status_answer(status),
                    Err(why) => why,
                };
                let outcome = match retry_after(delivery.attempts) {
                    Some(wait) => Delivery::RetryAt(self.clock.now() + wait),
                    None => Delivery::GivenUp,
                };
                tracing::warn!(
                    subscription = %subscription.public_id,
                    kind = %delivery.kind,
                    attempt = delivery.attempts,
                    answer = %text,
                    ?outcome,
                    "webhook not accepted"
                );
                (text, outcome)
            }
        };
        crate::telemetry::webhook_attempt(&subscription.public_id, outcome == Delivery::Delivered);
        self.store
            .delivery_answered(delivery.id, self.clock.now(), &text, outcome)
            .await?;
        Ok(())
    }
}

/// One POST; the status code, or why there was none.
pub async fn send(
    http: &reqwest::Client,
    settings: &Settings,
    delivery: &ClaimedDelivery,
    secrets: &[Secret],
    now: i64,
) -> Result<u16, String> {
    let url = url::Url::parse(&delivery.subscription.url).map_err(|e| format!("URL: {e}"))?;
    // Checked when made, and again here: the mode may have changed since.
    crate::domain::webhook::check_target(&url, settings.dev_mode).map_err(|e| e.to_string())?;
    let id = format!("msg_{}", delivery.seq);
    let body = delivery.payload.as_bytes();
    let sent = http
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", now.to_string())
        .header(
            "webhook-signature",
            signature_header(secrets, &id, now, body),
        )
        .body(delivery.payload.clone())
        .send()
        .await;
    let mut response = match sent {
        Ok(response) => response,
        Err(e) if e.is_timeout() => return Err("timed out".into()),
        Err(e) => return Err(describe(&e)),
    };
    let status = response.status().as_u16();
    // Read (a little of) the answer so the connection can be reused; never more.
    let mut read = 0;
    while read < ANSWER_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) => break,
            Err(e) if e.is_timeout() => {
                return Err(format!("{}, answer timed out", status_answer(status)));
            }
            Err(_) => break,
        }
    }
    Ok(status)
}

/// A transport error in a few words, with its cause (refused address, TLS, connection).
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text.chars().take(300).collect()
}
