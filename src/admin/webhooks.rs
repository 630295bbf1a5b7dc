//! Webhook subscriptions: made, listed, removed, given a new secret, replayed — by the
//! operator (CLI: also for every organization at once), a machine client (admin API) or a
//! beheerder (console), each audited with who did it.

use rand::rngs::OsRng;

use super::{Admin, AdminError};
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::token::Token;
use crate::domain::webhook::{EventFilter, Secret, check_target};
use crate::store::{NewSubscription, Subscription};

/// How long the secret before a rotation keeps signing (default), so receivers can switch.
pub const DEFAULT_ROTATION_OVERLAP_HOURS: u32 = 24;
/// The longest range one replay may cover.
pub const MAX_REPLAY_DAYS: i64 = 31;

/// A subscription just made, with its secret (shown this once).
pub struct CreatedWebhook {
    pub subscription: Subscription,
    pub secret: String,
}

impl Admin {
    fn keyring(&self) -> Result<crate::keyring::Keyring, AdminError> {
        self.settings
            .keyring()
            .map_err(|e| AdminError::Setting(e.to_string()))
    }

    fn webhook_audit(&self, event: AuditEvent, org: Option<i64>, what: &str) -> AuditRecord {
        let mut record = AuditRecord::new(self.clock.now(), event, Outcome::Success)
            .detail(format!("{}: {what}", self.actor.describe()));
        record.org_id = org;
        record
    }

    /// Subscribes `url` to `events` (`*`: every event but logins) of organization `org`, or
    /// of every organization (`None`: the operator's only).
    pub async fn add_webhook(
        &self,
        org: Option<&str>,
        url: &str,
        events: &str,
        description: &str,
    ) -> Result<CreatedWebhook, AdminError> {
        let target =
            url::Url::parse(url.trim()).map_err(|e| AdminError::Webhook(format!("url: {e}")))?;
        check_target(&target, self.settings.dev_mode)
            .map_err(|e| AdminError::Webhook(format!("url: {e}")))?;
        let filter = EventFilter::parse(events).map_err(|e| AdminError::Webhook(e.to_string()))?;
        if description.chars().count() > 200 || description.contains(['\r', '\n']) {
            return Err(AdminError::Webhook(
                "description: at most 200 characters on one line".into(),
            ));
        }
        let org = match org {
            Some(slug) => Some(self.organization(slug).await?),
            None => None,
        };
        let public_id = format!("wh_{}", &Token::generate(&mut OsRng).expose()[..20]);
        let secret = Secret::generate(&mut OsRng);
        let sealed = self
            .keyring()?
            .seal_webhook_secret(&public_id, secret.bytes(), &mut OsRng);
        let new = NewSubscription {
            public_id: public_id.clone(),
            org_id: org.as_ref().map(|o| o.id),
            url: target.to_string(),
            events: filter.to_text(),
            description: description.trim().to_owned(),
            secret: sealed,
            created_at: self.clock.now(),
        };
        let audit = self.webhook_audit(
            AuditEvent::WebhookAdded,
            new.org_id,
            &format!("{public_id} {} ({})", new.url, new.events),
        );
        self.store.add_subscription(&new, &audit).await?;
        Ok(CreatedWebhook {
            subscription: self.webhook(&public_id).await?,
            secret: secret.expose(),
        })
    }

    /// One organization's subscriptions, or (`None`) all of them, the service-wide included.
    pub async fn webhooks(&self, org: Option<&str>) -> Result<Vec<Subscription>, AdminError> {
        let org = match org {
            Some(slug) => Some(self.organization(slug).await?.id),
            None => None,
        };
        Ok(self.store.subscriptions(org).await?)
    }

    pub async fn webhook(&self, public_id: &str) -> Result<Subscription, AdminError> {
        self.store
            .subscription(public_id)
            .await?
            .ok_or_else(|| AdminError::UnknownWebhook(public_id.to_owned()))
    }

    pub async fn remove_webhook(&self, public_id: &str) -> Result<(), AdminError> {
        let subscription = self.webhook(public_id).await?;
        let audit = self.webhook_audit(
            AuditEvent::WebhookRemoved,
            subscription.org_id,
            &format!("{public_id} {}", subscription.url),
        );
        if !self.store.remove_subscription(public_id, &audit).await? {
            return Err(AdminError::UnknownWebhook(public_id.to_owned()));
        }
        Ok(())
    }

    /// A new secret signs from now on; the one before signs too for `overlap_hours`, so each
    /// delivery meanwhile carries both signatures. The new secret (shown this once).
    pub async fn rotate_webhook_secret(
        &self,
        public_id: &str,
        overlap_hours: u32,
    ) -> Result<String, AdminError> {
        if overlap_hours > 24 * 7 {
            return Err(AdminError::Webhook("overlap: at most 168 hours".into()));
        }
        let subscription = self.webhook(public_id).await?;
        let secret = Secret::generate(&mut OsRng);
        let sealed = self
            .keyring()?
            .seal_webhook_secret(public_id, secret.bytes(), &mut OsRng);
        let until = self.clock.now() + i64::from(overlap_hours) * 3600;
        let audit = self.webhook_audit(
            AuditEvent::WebhookSecretRotated,
            subscription.org_id,
            &format!("{public_id}, the previous secret signs for {overlap_hours} h"),
        );
        if !self
            .store
            .rotate_webhook_secret(public_id, &sealed, until, &audit)
            .await?
        {
            return Err(AdminError::UnknownWebhook(public_id.to_owned()));
        }
        Ok(secret.expose())
    }

    /// Queues the subscription's events of `from <= at < to` again (each with the
    /// `webhook-id` it had before, so a receiver that already has it can tell); the number
    /// queued.
    pub async fn replay_webhooks(
        &self,
        public_id: &str,
        from: i64,
        to: i64,
    ) -> Result<u64, AdminError> {
        if to <= from || to - from > MAX_REPLAY_DAYS * 86400 {
            return Err(AdminError::Webhook(format!(
                "the range must end after it starts and cover at most {MAX_REPLAY_DAYS} days"
            )));
        }
        let subscription = self.webhook(public_id).await?;
        let queued = self
            .store
            .replay_webhooks(public_id, from, to, self.clock.now())
            .await?;
        let audit = self.webhook_audit(
            AuditEvent::WebhookReplayed,
            subscription.org_id,
            &format!("{public_id} from {from} to {to}: {queued} events"),
        );
        self.store.record_audit(&[audit]).await?;
        Ok(queued)
    }
}

impl Admin {
    /// The audit chain, for the operator's `audit verify`, `audit export` and the API.
    pub async fn evidence(&self) -> Result<crate::evidence::Evidence, AdminError> {
        let keyring = std::sync::Arc::new(self.keyring()?);
        let keys = crate::signing_keys::Keys::start(self.store.clone(), keyring, self.clock.now())
            .await
            .map_err(|e| AdminError::Setting(e.to_string()))?;
        Ok(crate::evidence::Evidence {
            store: self.store.clone(),
            keys: std::sync::Arc::new(keys),
            clock: self.clock.clone(),
        })
    }
}
