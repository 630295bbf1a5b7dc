//! The set-up e-mail (key and QR code) with its rate limit: for the first set-up, "Nieuwe
//! code", and a new phone. The second step's pages and a new phone's pages both send it.

use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::second_factor::{RateWindow, next_allowed_at, setup_mail_limits};
use crate::domain::totp::TotpSecret;
use crate::http::{AppState, WebError};
use crate::mail::compose;
use crate::store::{NewTotpSetup, Session, SetupOutcome, UserId};

/// Makes a new pending secret and queues its set-up e-mail, within the rate limit: for the
/// first set-up, or (`detail` = `new_phone`) beside the active app for a new phone.
pub async fn start_setup(
    state: &AppState,
    session: &Session,
    client: &str,
    detail: &'static str,
) -> Result<SetupOutcome, WebError> {
    let user = &session.user;
    let secret = TotpSecret::generate(&mut rand::rngs::OsRng);
    let sealed = state
        .keyring
        .seal(user.id, secret.expose_bytes(), &mut rand::rngs::OsRng);
    let now = state.clock.now();
    let hours = state.settings.totp_setup_ttl_hours;
    let expires_at = now + i64::from(hours) * 3600;
    let issuer = &state.settings.service_name;
    let uri = secret.otpauth_uri(issuer, &user.username);
    let grouped = secret.base32_grouped();
    let from = crate::mail::sender::Sender::of(&state.settings, &session.org);
    let mut mail = compose::totp_setup(
        &from,
        compose::mailbox(&user.display_name, &user.email).map_err(anyhow::Error::from)?,
        &compose::TotpSetup {
            lang: session.org.lang,
            service_name: issuer,
            display_name: &user.display_name,
            account_name: &user.username,
            grouped_key: &grouped,
            otpauth_uri: &uri,
            valid_hours: hours,
            qr_cid: "qr-code@poortwachter",
            qr_size: 0,
        },
    )
    .map_err(anyhow::Error::from)?;
    // The secret is in this mail: sent late it would be useless, so it is dropped instead.
    mail.discard_after = Some(expires_at);
    let setup = NewTotpSetup {
        user_id: user.id,
        sealed: &sealed,
        expires_at,
        mail: &mail,
        now,
    };
    let outcome = if detail == NEW_PHONE {
        state
            .store
            .start_totp_replacement(&setup, &limits(state))
            .await?
    } else {
        state.store.start_totp_setup(&setup, &limits(state)).await?
    };
    let audited = match outcome {
        SetupOutcome::Started => Outcome::Success,
        SetupOutcome::RateLimited => Outcome::RateLimited,
        SetupOutcome::AlreadyActive | SetupOutcome::NothingToReplace => return Ok(outcome),
    };
    if outcome == SetupOutcome::Started {
        state.outbox_wake.notify_one();
    }
    let record = AuditRecord::new(now, AuditEvent::SetupMail, audited)
        .user(session.org.id, user.id, &user.username)
        .client(client)
        .detail(detail);
    state.store.record_audit(&[record]).await?;
    Ok(outcome)
}

/// The audit detail (and kind) of a set-up for a new phone.
pub const NEW_PHONE: &str = "new_phone";

pub fn limits(state: &AppState) -> [RateWindow; 2] {
    let settings = &state.settings;
    setup_mail_limits(
        settings.setup_mail_interval_seconds,
        settings.setup_mails_per_hour,
    )
}

/// Seconds until "Nieuwe code" may send again; `None` when it may now.
pub async fn new_code_wait(
    state: &AppState,
    user: UserId,
    now: i64,
) -> Result<Option<i64>, WebError> {
    let limits = limits(state);
    let longest = limits.iter().map(|w| w.seconds).max().unwrap_or(0);
    let sent = state
        .store
        .setup_mails_since(user, now.saturating_sub(longest))
        .await?;
    Ok(next_allowed_at(&sent, now, &limits)
        .and_then(|at| at.checked_sub(now))
        .filter(|seconds| *seconds > 0))
}
