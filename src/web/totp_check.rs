//! A typed authenticator code checked against the user's secret: shared by the login's code
//! step, a reset link's second step and the confirmation of new herstelcodes. Counting the
//! attempt and recording the accepted step (no replay) stay with the caller, which knows
//! what else belongs in that transaction.

use super::{AppState, WebError};
use crate::domain::audit::Outcome;
use crate::domain::totp::{TotpCode, TotpSecret, Verification};
use crate::keyring::Sealed;
use crate::store::UserId;
use crate::texts::Texts;

/// Why a typed code was not accepted: what the user reads, and what the audit line says.
pub struct Refusal {
    pub message: String,
    pub outcome: Outcome,
}

impl Refusal {
    pub fn new(message: &str, outcome: Outcome) -> Refusal {
        Refusal {
            message: message.to_owned(),
            outcome,
        }
    }
}

/// The time step `typed` is right for, at `now`, with the secret `sealed`.
pub fn check(
    state: &AppState,
    t: &Texts,
    user: UserId,
    sealed: &Sealed,
    last_step: Option<i64>,
    typed: &str,
    now: i64,
) -> Result<Result<i64, Refusal>, WebError> {
    let secret = state
        .keyring
        .open(user, sealed)
        .and_then(|bytes| TotpSecret::from_bytes(secrecy::ExposeSecret::expose_secret(&bytes)))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "the TOTP secret of user {user} does not decrypt with the configured keys"
            )
        })?;
    Ok(
        match TotpCode::parse(typed).map(|code| secret.verify(&code, now, last_step)) {
            Some(Verification::Accepted { step }) => Ok(step),
            Some(Verification::Replayed) => Err(Refusal::new(t.code_used, Outcome::Replayed)),
            Some(Verification::JustExpired) => Err(Refusal::new(t.code_expired, Outcome::Expired)),
            Some(Verification::ClockOff { seconds }) => Err(Refusal {
                message: clock_off(t, seconds),
                outcome: Outcome::Failure,
            }),
            Some(Verification::Wrong) | None => Err(Refusal::new(t.code_wrong, Outcome::Failure)),
        },
    )
}

/// "The phone's clock is about two minutes ahead; switch on automatic time."
fn clock_off(t: &Texts, seconds: i64) -> String {
    let r = t.recovery;
    let how_far = t.wait_time(seconds.abs());
    let what = if seconds > 0 {
        r.clock_ahead
    } else {
        r.clock_behind
    };
    format!("{} {}", t.fill(what, how_far), r.clock_fix)
}

/// Why a logged-in user's confirmation with the app's code did not go through.
pub struct NotConfirmed {
    pub message: String,
    /// 429 while the account or address waits, 401 for a wrong or used code.
    pub status: axum::http::StatusCode,
}

/// A complete session's user confirms an action with the app's current code (new
/// herstelcodes, the console's step-up): counted as an attempt before it is checked, the
/// step recorded so it cannot be used again, and — only if it was right — `record` (as a
/// success) and what `then` adds committed with it. `record` is the action's audit line,
/// written as a failure when the code was wrong. `Ok(None)` when there is no active app.
pub async fn confirm_with_code(
    state: &AppState,
    t: &Texts,
    session: &crate::store::Session,
    client: &str,
    typed: &str,
    record: crate::domain::audit::AuditRecord,
    then: impl FnOnce(&mut crate::store::Settlement<'_>),
) -> Result<Option<Result<(), NotConfirmed>>, WebError> {
    use super::attempts::{self, Admitted};
    use crate::domain::audit::AuditRecord;
    use axum::http::StatusCode;

    let user = &session.user;
    let Some(credential) = state
        .store
        .totp_credential(user.id)
        .await?
        .filter(|c| c.active)
    else {
        return Ok(None);
    };
    let attempt = match attempts::admit(state, client, Some(&user.username), None).await? {
        Admitted::Yes(attempt) => attempt,
        Admitted::No { until } => {
            let message = attempts::refused(state, t, record, until).await?;
            return Ok(Some(Err(NotConfirmed {
                message,
                status: StatusCode::TOO_MANY_REQUESTS,
            })));
        }
    };
    let now = state.clock.now();
    let checked = check(
        state,
        t,
        user.id,
        &credential.sealed,
        credential.last_step,
        typed,
        now,
    )?;
    let refusal = match checked {
        Ok(step) => {
            let mut settlement = attempt.succeeded(false, now);
            then(&mut settlement);
            settlement.audit.push(AuditRecord {
                outcome: Outcome::Success,
                at: now,
                ..record.clone()
            });
            if state
                .store
                .accept_totp_step(user.id, &credential.sealed, step, false, &settlement)
                .await?
            {
                return Ok(Some(Ok(())));
            }
            Refusal::new(t.code_used, Outcome::Replayed)
        }
        Err(refusal) => refusal,
    };
    let record = AuditRecord {
        outcome: refusal.outcome,
        at: now,
        ..record
    };
    attempt
        .failed(state, Some((user, session.org.lang)), record)
        .await?;
    Ok(Some(Err(NotConfirmed {
        message: refusal.message,
        status: StatusCode::UNAUTHORIZED,
    })))
}
