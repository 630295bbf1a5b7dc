//! A typed authenticator code checked against the user's secret ([`check`]), and the one
//! admit → check → settle sequence around it ([`check_and_settle`]): shared by the login's
//! code step, a reset link's second step and a logged-in user's confirmation with the code
//! (`confirm`). What else belongs in the settling transaction
//! stays with the caller.

use super::attempts::Attempt;
use crate::domain::audit::{AuditRecord, Outcome};
use crate::domain::lang::Lang;
use crate::domain::totp::{TotpCode, TotpSecret, Verification};
use crate::keyring::Sealed;
use crate::services::{ServiceError, Services};
use crate::store::{Settlement, TotpCredential, User, UserId};
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
    state: &Services,
    t: &Texts,
    user: UserId,
    sealed: &Sealed,
    last_step: Option<i64>,
    typed: &str,
    now: i64,
) -> Result<Result<i64, Refusal>, ServiceError> {
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

/// Whether a pending set-up's secret may still be activated with a code at `now`.
pub fn setup_usable(credential: &TotpCredential, now: i64) -> bool {
    !credential.active && credential.expires_at.is_some_and(|at| now < at)
}

/// The one admit → check → settle of a typed code, after its attempt was admitted: checked
/// against `credential` (a pending set-up only while it is still usable); if right, `settle`
/// fills what the store commits together with the accepted time step, which one conditional
/// write makes usable once (a parallel request with the same code loses); if wrong, used or
/// expired, the attempt is recorded as failed with `record`'s event. `login_complete`: a right
/// code starts the account's count of failures again.
#[allow(clippy::too_many_arguments)]
pub async fn check_and_settle<'m>(
    services: &Services,
    t: &Texts,
    attempt: &Attempt,
    user: (&User, Lang),
    credential: &TotpCredential,
    typed: &str,
    login_complete: bool,
    record: &AuditRecord,
    settle: impl FnOnce(&mut Settlement<'m>),
) -> Result<Result<(), Refusal>, ServiceError> {
    let now = services.clock.now();
    let pending = !credential.active;
    let checked = if pending && !setup_usable(credential, now) {
        Err(Refusal::new(t.setup_expired, Outcome::Expired))
    } else {
        let (sealed, last_step) = (&credential.sealed, credential.last_step);
        check(services, t, user.0.id, sealed, last_step, typed, now)?
    };
    let refusal = match checked {
        Ok(step) => {
            let mut settlement = attempt.succeeded(login_complete, now);
            settle(&mut settlement);
            let store = &services.store;
            let accepted = store
                .accept_totp_step(user.0.id, &credential.sealed, step, pending, &settlement)
                .await?;
            if accepted {
                return Ok(Ok(()));
            }
            // Another request used this step first (or the secret was replaced meanwhile).
            Refusal::new(t.code_used, Outcome::Replayed)
        }
        Err(refusal) => refusal,
    };
    let record = AuditRecord {
        outcome: refusal.outcome,
        at: now,
        ..record.clone()
    };
    attempt.failed(services, Some(user), record).await?;
    Ok(Err(refusal))
}
