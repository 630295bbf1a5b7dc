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
