//! The password step of a login. An unknown user, a wrong password, an account that is not
//! activated and a locked account all get [`PasswordOutcome::Refused`], after the same hashing
//! work (the dummy hash), so the page, the status and the time are the same (ASVS V2.2.1).

use super::attempts::{self, Admitted};
use super::devices;
use super::session_start::{self, StoredSession};
use crate::domain::account::{AccountState, LoginStage, Username};
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::login_method::LoginMethod;
use crate::domain::password::Password;
use crate::domain::token::{Token, TokenHash};
use crate::hashing::Verified;
use crate::services::{ServiceError, Services};
use crate::store::{LoginCandidate, Rehash, Settlement};
use crate::texts::Texts;

/// A typed username and password, with what the browser holds.
pub struct PasswordAttempt<'a> {
    pub client: &'a str,
    pub username: &'a str,
    pub password: &'a str,
    /// The browser's remembered-device id, if it holds one.
    pub device: Option<TokenHash>,
    /// The browser's current session, replaced by the new one.
    pub previous_session: Option<TokenHash>,
}

pub enum PasswordOutcome {
    /// Right: a session that opens only the second step (the secret for the cookie).
    SecondFactorNeeded(Token),
    /// Right, on a browser remembered for the user: the login is complete.
    Complete(Token),
    /// Wrong password, unknown or inactive account, or a locked one: one answer for all.
    Refused,
}

/// The rule "a password alone never completes a login unless this browser is remembered for
/// the user": the stage the new session reaches, and how the login was made.
pub fn after_password(remembered: bool) -> (LoginStage, Option<LoginMethod>) {
    if remembered {
        (
            LoginStage::Complete,
            Some(LoginMethod::PasswordOnRememberedDevice),
        )
    } else {
        (LoginStage::SecondFactor, None)
    }
}

pub async fn log_in(
    services: &Services,
    t: &Texts,
    attempt: PasswordAttempt<'_>,
) -> Result<PasswordOutcome, ServiceError> {
    // Anything that is not a valid username cannot be an account; it is not kept in the log
    // either (it might be a password typed into the wrong field).
    let username = Username::parse(attempt.username).ok();
    let username = username.as_ref().map(Username::as_str);
    // Counted before the password is checked: parallel guesses each take a place.
    let admitted = attempts::admit(services, attempt.client, username, None).await?;
    let candidate = match username {
        Some(name) => services.store.login_candidate(name).await?,
        None => None,
    };
    let active = candidate
        .as_ref()
        .filter(|c| c.user.state == AccountState::Active);
    // The same hashing work in every case: a locked, unknown or inactive account is checked
    // against the dummy hash and answers in the same time as a wrong password.
    let stored_hash = match admitted {
        Admitted::Yes(_) => active.and_then(|c| c.password_hash.clone()),
        Admitted::No { .. } => None,
    };
    let verified = verify(services, &admitted, attempt.password, stored_hash).await?;
    let now = services.clock.now();
    let mut record =
        AuditRecord::new(now, AuditEvent::LoginPassword, Outcome::Failure).client(attempt.client);
    match candidate.as_ref() {
        Some(c) => record = record.user(c.user.org_id, c.user.id, &c.user.username),
        None => record.username = username.map(str::to_owned),
    }
    let admitted = match admitted {
        Admitted::Yes(admitted) => admitted,
        Admitted::No { until } => {
            // The wait is not shown: a locked account must look like a wrong password.
            attempts::refused(services, t, record, until).await?;
            return Ok(PasswordOutcome::Refused);
        }
    };
    let Some(user) = active.filter(|_| verified.is_right()) else {
        if candidate.is_some() && active.is_none() {
            record.detail = Some("account_not_active".into());
        }
        let real_user = active.map(|c| (&c.user, c.lang));
        admitted.failed(services, real_user, record).await?;
        return Ok(PasswordOutcome::Refused);
    };
    let remembered = devices::skips_code(services, attempt.device.as_ref(), user.user.id).await?;
    let (stage, method) = after_password(remembered);
    let (token, session) = session_start::start(
        services,
        user.user.id,
        stage,
        method,
        attempt.previous_session,
    );
    let mut settlement = admitted.succeeded(remembered, now);
    record.outcome = Outcome::Success;
    settle_right_password(&mut settlement, record, remembered, session);
    settlement.rehash = rehash(user, verified);
    services.store.settle_attempt(&settlement).await?;
    Ok(if remembered {
        PasswordOutcome::Complete(token)
    } else {
        PasswordOutcome::SecondFactorNeeded(token)
    })
}

/// The password checked by the hasher; a password that cannot be one (too long, untypable)
/// is refused before hashing, whoever the user is.
async fn verify(
    services: &Services,
    admitted: &Admitted,
    typed: &str,
    stored_hash: Option<String>,
) -> Result<Verified, ServiceError> {
    let Ok(password) = Password::parse(typed) else {
        return Ok(Verified::Wrong);
    };
    match services
        .hasher
        .verify_and_upgrade(password, stored_hash)
        .await
    {
        Ok(verified) => Ok(verified),
        Err(busy) => {
            // Not checked (the hashing queue is full): the attempt gives its places back, so
            // a flood of 503s does not lock anyone out.
            if let Admitted::Yes(attempt) = admitted {
                let now = services.clock.now();
                let settlement = attempt.succeeded(false, now);
                services.store.settle_attempt(&settlement).await?;
            }
            Err(busy.into())
        }
    }
}

/// The audit lines and the session of a right password: on a remembered browser the code
/// step is recorded as passed by the remembered device.
fn settle_right_password(
    settlement: &mut Settlement<'_>,
    mut record: AuditRecord,
    remembered: bool,
    session: StoredSession,
) {
    if remembered {
        settlement.audit.push(record.clone());
        record.event = AuditEvent::LoginCode;
        record.detail = Some("remembered_device".into());
    }
    settlement.audit.push(record);
    settlement.session = Some(session);
}

/// Hashed anew with raised Argon2 settings: stored with the login step.
fn rehash(user: &LoginCandidate, verified: Verified) -> Option<Rehash> {
    match (verified, user.password_hash.clone()) {
        (Verified::RightAndRehashed(new), Some(old)) => Some(Rehash {
            user: user.user.id,
            old,
            new,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_alone_leads_only_to_the_second_step() {
        assert_eq!(after_password(false), (LoginStage::SecondFactor, None));
    }

    #[test]
    fn a_remembered_browser_completes_the_login_and_says_so_in_the_method() {
        assert_eq!(
            after_password(true),
            (
                LoginStage::Complete,
                Some(LoginMethod::PasswordOnRememberedDevice)
            )
        );
    }
}
