//! Every setting checked at start-up; a wrong one is named in the message (exit code 2).

use secrecy::ExposeSecret;
use url::Url;

use super::{ConfigError, Settings, invalid, parse_totp_key};

impl Settings {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let url = &self.public_url;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(invalid(
                "public_url",
                "must be an http:// or https:// address",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() || url.password().is_some() {
            return Err(invalid(
                "public_url",
                "must not have a query, fragment or password",
            ));
        }
        self.argon2_params()?;
        self.mail_from
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| invalid("mail_from", format!("not an e-mail address: {e}")))?;
        if let Some(smtp) = &self.smtp_url {
            let parsed = Url::parse(smtp.expose_secret())
                .map_err(|_| invalid("smtp_url", "not a URL (smtp://host:port)"))?;
            if !matches!(parsed.scheme(), "smtp" | "smtps") {
                return Err(invalid("smtp_url", "must start with smtp:// or smtps://"));
            }
        }
        if self.smtp_url.is_none() && !self.bind.ip().is_loopback() && !self.dev_mode {
            return Err(invalid(
                "smtp_url",
                format!(
                    "not set, so every e-mail (TOTP set-up keys too) would be shown at /dev/mail \
                     to anyone who can reach {}; set smtp_url, bind to 127.0.0.1, or set \
                     dev_mode = true if this really is a development server",
                    self.bind
                ),
            ));
        }
        if let Some(address) = self.metrics_address()? {
            let same_port = address.port() == self.bind.port() && address.port() != 0;
            let overlapping = address.ip() == self.bind.ip()
                || address.ip().is_unspecified()
                || self.bind.ip().is_unspecified();
            if same_port && overlapping {
                return Err(invalid(
                    "metrics_bind",
                    "must not be the public listener (`bind`): metrics are for the operator only",
                ));
            }
        }
        if let Some(db) = &self.database_url
            && !["sqlite:", "postgres:", "postgresql:"]
                .iter()
                .any(|scheme| db.starts_with(scheme))
        {
            return Err(invalid(
                "database_url",
                "must start with sqlite: or postgres://",
            ));
        }
        if self.database_max_connections == 0 {
            return Err(invalid("database_max_connections", "must be at least 1"));
        }
        if self.invitation_ttl_hours == 0 {
            return Err(invalid("invitation_ttl_hours", "must be at least 1"));
        }
        if !(1..=100_000).contains(&self.api_requests_per_minute) {
            return Err(invalid("api_requests_per_minute", "must be 1 to 100000"));
        }
        if !(5..=24 * 60).contains(&self.reset_link_minutes) {
            return Err(invalid("reset_link_minutes", "must be 5 to 1440 (a day)"));
        }
        if self.setup_mails_per_hour == 0 {
            return Err(invalid("setup_mails_per_hour", "must be at least 1"));
        }
        if self.totp_setup_ttl_hours == 0 {
            return Err(invalid("totp_setup_ttl_hours", "must be at least 1"));
        }
        if let Some(key) = &self.totp_key {
            parse_totp_key(key)?;
        }
        for (setting, value) in [
            ("lockout_failures", self.lockout_failures),
            ("lockout_minutes", self.lockout_minutes),
            ("address_lockout_failures", self.address_lockout_failures),
            ("address_lockout_minutes", self.address_lockout_minutes),
            ("session_idle_minutes", self.session_idle_minutes),
            ("session_absolute_hours", self.session_absolute_hours),
            ("audit_checkpoint_minutes", self.audit_checkpoint_minutes),
            ("access_token_minutes", self.access_token_minutes),
        ] {
            if value == 0 {
                return Err(invalid(setting, "must be at least 1"));
            }
        }
        if self.lockout_failures > 100 {
            // NIST SP 800-63B §5.2.2: no more than 100 consecutive failures per account.
            return Err(invalid("lockout_failures", "must be at most 100"));
        }
        if self.access_token_minutes > 60 {
            // Access tokens cannot be called back once issued (RFC 9068): keep them short.
            return Err(invalid("access_token_minutes", "must be at most 60"));
        }
        if !(1..=60).contains(&self.look_ahead_days) {
            return Err(invalid("look_ahead_days", "must be 1 to 60"));
        }
        if self.look_ahead_poll_seconds == 0 {
            return Err(invalid("look_ahead_poll_seconds", "must be at least 1"));
        }
        if self.audit_retention_days < super::MIN_AUDIT_RETENTION_DAYS {
            return Err(invalid(
                "audit_retention_days",
                "must be at least 1830 (five years: NEN 7513 keeps the log of access to health data that long)",
            ));
        }
        for (setting, value) in [
            ("audit_seal_ms", self.audit_seal_ms),
            ("webhook_poll_ms", self.webhook_poll_ms),
        ] {
            if value == 0 {
                return Err(invalid(setting, "must be at least 1"));
            }
        }
        if !(1..=60).contains(&self.webhook_timeout_seconds) {
            return Err(invalid("webhook_timeout_seconds", "must be 1 to 60"));
        }
        if self.outbox_poll_ms == 0 {
            return Err(invalid("outbox_poll_ms", "must be at least 1"));
        }
        if let Some(name) = &self.client_ip_header
            && axum::http::HeaderName::from_bytes(name.as_bytes()).is_err()
        {
            return Err(invalid("client_ip_header", "not a valid header name"));
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(invalid("log_format", "must be text or json"));
        }
        if self.service_name.trim().is_empty() || self.service_name.contains(['\r', '\n', ':']) {
            return Err(invalid(
                "service_name",
                "must be a non-empty name without ':' or line breaks",
            ));
        }
        Ok(())
    }
}
