//! A logged-in user confirms an action by typing a secret again: the app's current code (new
//! herstelcodes, the console's step-up, removing a passkey) or the current password (a
//! password change, removing a passkey). Each is counted under the login throttle before it is
//! checked.

use super::attempts::{self, Admitted};
use super::totp_check;
use crate::domain::audit::{AuditRecord, Outcome};
use crate::domain::password::Password;
use crate::services::{ServiceError, Services};
use crate::store::{Session, Settlement};
use crate::texts::Texts;

/// Why a logged-in user's confirmation with the app's code did not go through.
pub struct NotConfirmed {
    pub message: String,
    /// The account or the address waits (429), rather than a wrong or used code (401).
    pub waiting: bool,
}

/// A complete session's user confirms an action with the app's current code (new
/// herstelcodes, the console's step-up): counted as an attempt before it is checked, the
/// step recorded so it cannot be used again, and — only if it was right — `record` (as a
/// success) and what `then` adds committed with it. `record` is the action's audit line,
/// written as a failure when the code was wrong. `Ok(None)` when there is no active app.
pub async fn with_code(
    services: &Services,
    t: &Texts,
    session: &Session,
    client: &str,
    typed: &str,
    record: AuditRecord,
    then: impl FnOnce(&mut Settlement<'_>),
) -> Result<Option<Result<(), NotConfirmed>>, ServiceError> {
    let user = &session.user;
    let credential = services.store.totp_credential(user.id).await?;
    let Some(credential) = credential.filter(|c| c.active) else {
        return Ok(None);
    };
    let attempt = match attempts::admit(services, client, Some(&user.username), None).await? {
        Admitted::Yes(attempt) => attempt,
        Admitted::No { until } => {
            let message = attempts::refused(services, t, record, until).await?;
            return Ok(Some(Err(NotConfirmed {
                message,
                waiting: true,
            })));
        }
    };
    let user = (user, session.org.lang);
    let checked = totp_check::check_and_settle(
        services,
        t,
        &attempt,
        user,
        &credential,
        typed,
        false,
        &record,
        |s| {
            then(s);
            s.audit.push(AuditRecord {
                outcome: Outcome::Success,
                at: s.now,
                ..record.clone()
            });
        },
    )
    .await?;
    Ok(Some(checked.map_err(|refusal| NotConfirmed {
        message: refusal.message,
        waiting: false,
    })))
}

/// The logged-in user's current password, typed again (a password change, removing a
/// passkey): counted before it is checked, under the same throttle as a login. A wrong one
/// is recorded as `record`; a right one clears nothing else and records nothing.
pub async fn with_password(
    services: &Services,
    t: &Texts,
    session: &Session,
    client: &str,
    typed: &str,
    record: &AuditRecord,
) -> Result<Result<(), NotConfirmed>, ServiceError> {
    let user = &session.user;
    let username = Some(user.username.as_str());
    let attempt = match attempts::admit(services, client, username, None).await? {
        Admitted::Yes(attempt) => attempt,
        Admitted::No { until } => {
            let message = attempts::refused(services, t, record.clone(), until).await?;
            return Ok(Err(NotConfirmed {
                message,
                waiting: true,
            }));
        }
    };
    let stored = services
        .store
        .login_candidate(&user.username)
        .await?
        .and_then(|c| c.password_hash);
    let right = match Password::parse(typed) {
        Ok(current) => match services.hasher.verify(current, stored).await {
            Ok(right) => right,
            Err(busy) => {
                // Not checked (the hashing queue is full): the attempt gives its places back.
                let released = attempt.succeeded(false, services.clock.now());
                services.store.settle_attempt(&released).await?;
                return Err(busy.into());
            }
        },
        Err(_) => false,
    };
    if !right {
        let user = Some((user, session.org.lang));
        attempt.failed(services, user, record.clone()).await?;
        return Ok(Err(NotConfirmed {
            message: t.current_wrong.to_owned(),
            waiting: false,
        }));
    }
    let now = services.clock.now();
    let released = attempt.succeeded(false, now);
    services.store.settle_attempt(&released).await?;
    Ok(Ok(()))
}
