//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a login session ends
//! for any reason, every application that got tokens in it receives a signed logout token
//! at its registered URI. The queue is in the database (`GrantStore::queue_logouts` finds
//! ended sessions, whatever ended them), claimed with a lease, and retried with back-off
//! like mail until the application accepts it: never fire-and-forget.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::oidc::claims::{logout_token, session_id};
use crate::domain::token::Token;
use crate::signing_keys::Keys;
use crate::store::{Liveness, PendingLogout, Store};

/// How long a claimed delivery is ours before another instance may try it.
const LEASE_SECONDS: i64 = 60;
/// An application gets this long to answer.
const TIMEOUT: Duration = Duration::from_secs(5);

pub struct LogoutSender {
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
    pub clock: SharedClock,
    pub keys: Arc<Keys>,
    pub wake: Arc<Notify>,
    pub poll: Duration,
}

/// Waits before the next attempt: 5 s, doubling, at most 30 minutes (as mail).
fn backoff(attempts: i64) -> i64 {
    let exponent = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    (5_i64.saturating_mul(2_i64.saturating_pow(exponent))).min(1800)
}

impl LogoutSender {
    /// Sends until `shutdown`; a round under way is finished (or cut off by the caller's
    /// bound), and what it did not reach stays queued for the next round anywhere.
    pub async fn run(self, shutdown: crate::shutdown::Shutdown) {
        crate::tls::install_provider();
        let http = match reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
        {
            Ok(http) => http,
            Err(e) => {
                tracing::error!(error = %e, "back-channel logout: no HTTP client; logouts stay queued");
                return;
            }
        };
        while !shutdown.is_requested() {
            if let Err(e) = self.round(&http).await {
                tracing::warn!(error = %e, "back-channel logout round failed; will try again");
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.poll) => {}
                _ = shutdown.requested() => {}
            }
        }
    }

    async fn round(&self, http: &reqwest::Client) -> anyhow::Result<()> {
        let now = self.clock.now();
        let live = Liveness {
            now,
            idle_cutoff: now - self.settings.session_idle_seconds(),
        };
        self.store.queue_logouts(live).await?;
        for logout in self.store.claim_logouts(now, LEASE_SECONDS, 20).await? {
            self.deliver(http, &logout).await?;
        }
        Ok(())
    }

    async fn deliver(&self, http: &reqwest::Client, logout: &PendingLogout) -> anyhow::Result<()> {
        let now = self.clock.now();
        let keys = self.keys.current().await?;
        let key = keys
            .signer(Default::default(), now)
            .ok_or_else(|| anyhow::anyhow!("no signing key"))?;
        let jti = Token::generate(&mut rand::rngs::OsRng);
        let claims = logout_token(
            &self.settings.issuer(),
            &logout.client_id,
            &logout.subject,
            &session_id(&logout.session_hash),
            now,
            &jti.expose()[..22],
        );
        let token = key.sign("logout+jwt", &claims);
        let sent = http
            .post(&logout.uri)
            .form(&[("logout_token", token.as_str())])
            .send()
            .await;
        let record = AuditRecord::new(
            self.clock.now(),
            AuditEvent::BackchannelLogout,
            Outcome::Success,
        )
        .detail(logout.client_id.clone());
        let record = super::about_user(self.store.as_ref(), record, logout.user_id).await?;
        // Back-Channel Logout §2.8: 200 (or 204) is success; anything else is tried again.
        let failure = match sent {
            Ok(response) if response.status().is_success() => None,
            Ok(response) => Some(format!("HTTP {}", response.status().as_u16())),
            Err(e) => Some(format!("{}", e.without_url())),
        };
        match failure {
            None => self.store.logout_delivered(logout, &record).await?,
            Some(error) => {
                let retry_at = self.clock.now() + backoff(logout.attempts);
                tracing::warn!(client = %logout.client_id, %error, retry_in = retry_at - now, "back-channel logout not accepted");
                let record = AuditRecord {
                    outcome: Outcome::Failure,
                    ..record
                };
                self.store
                    .logout_failed(logout, retry_at, &error, &record)
                    .await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_up_to_half_an_hour() {
        assert_eq!(super::backoff(1), 5);
        assert_eq!(super::backoff(2), 10);
        assert_eq!(super::backoff(12), 1800);
        assert_eq!(super::backoff(1000), 1800);
    }
}
