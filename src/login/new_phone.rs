//! Nieuwe telefoon instellen: the new phone's secret replaces the old one at its first right
//! code, typed by a logged-in user (the old app keeps working until then); a notice e-mail
//! says so. The code is counted under the login throttle before it is checked.

use super::attempts::{self, Admitted};
use super::totp_check::{self, Refusal};
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::mail::compose;
use crate::services::{ServiceError, Services};
use crate::store::Session;
use crate::texts::Texts;

pub enum Replaced {
    /// The new phone's app is the one from now on.
    Done,
    /// Not checked: the account or the address waits (what the user reads).
    Waiting(String),
    /// Wrong, used or expired (what the user reads).
    Refused(String),
    /// No new phone is being set up (or its set-up expired).
    NothingPending,
}

/// The first code of the new phone's app, typed by `session`'s user.
pub async fn confirm(
    services: &Services,
    t: &Texts,
    session: &Session,
    client: &str,
    typed: &str,
) -> Result<Replaced, ServiceError> {
    let user = &session.user;
    let now = services.clock.now();
    let replacement = services
        .store
        .totp_credential(user.id)
        .await?
        .filter(|c| c.active)
        .and_then(|c| c.replacement)
        .filter(|r| now < r.expires_at);
    let Some(replacement) = replacement else {
        return Ok(Replaced::NothingPending);
    };
    let record = AuditRecord::new(now, AuditEvent::TotpReplaced, Outcome::Failure)
        .user(session.org.id, user.id, &user.username)
        .client(client);
    let attempt = match attempts::admit(services, client, Some(&user.username), None).await? {
        Admitted::Yes(attempt) => attempt,
        Admitted::No { until } => {
            let wait = attempts::refused(services, t, record, until).await?;
            return Ok(Replaced::Waiting(wait));
        }
    };
    let sealed = &replacement.sealed;
    let refusal = match totp_check::check(services, t, user.id, sealed, None, typed, now)? {
        Ok(step) => {
            let notice = compose::notice_to_user(&services.settings, user, &session.org, |t| {
                (t.recovery.replaced_subject, t.recovery.replaced_body)
            })?;
            let mut then = attempt.succeeded(false, now);
            then.mail = Some(&notice);
            then.audit.push(AuditRecord {
                outcome: Outcome::Success,
                ..record.clone()
            });
            let store = &services.store;
            if store
                .accept_totp_replacement(user.id, sealed, step, &then)
                .await?
            {
                services.outbox_wake.notify_one();
                return Ok(Replaced::Done);
            }
            Refusal::new(t.code_used, Outcome::Replayed)
        }
        Err(refusal) => refusal,
    };
    let record = AuditRecord {
        outcome: refusal.outcome,
        ..record
    };
    let user = Some((user, session.org.lang));
    attempt.failed(services, user, record).await?;
    Ok(Replaced::Refused(refusal.message))
}
