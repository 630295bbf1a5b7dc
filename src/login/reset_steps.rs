//! The steps of a reset link ("Wachtwoord vergeten?", `user reset-password`), after the link
//! itself was found usable: for a user with an active app, the app's code or a herstelcode
//! first (counted under the login throttle, so a mailbox alone never takes over an account),
//! then the new password under the organization's policy. Only the browser that passed the
//! second step may set the password: it holds the proof this step hands out.

use super::attempts::{self, Admitted};
use super::totp_check::{self, Refusal};
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::password::{NewPasswordProblems, personal_words};
use crate::domain::recovery::RecoveryCode;
use crate::domain::throttle::Subject;
use crate::domain::token::{Token, TokenHash};
use crate::mail::compose;
use crate::services::{ServiceError, Services};
use crate::store::{CompletedReset, PasswordReset, ResetVerified};
use crate::texts::Texts;

/// What the user typed for the second step.
pub enum Typed<'a> {
    App(&'a str),
    RecoveryCode(&'a str),
}

pub enum ResetStep {
    /// Passed: the proof for this browser (kept in a cookie) that lets it set the password.
    Passed(Token),
    /// Not checked: the account or the address waits (what the user reads).
    Waiting(String),
    /// Wrong, used or expired (what the user reads).
    Refused(String),
    /// No second step to take: the user has no active app.
    Unavailable,
}

/// The second step of the reset link `token` (its digest).
pub async fn second_step(
    services: &Services,
    t: &Texts,
    reset: &PasswordReset,
    token: TokenHash,
    client: &str,
    typed: Typed<'_>,
) -> Result<ResetStep, ServiceError> {
    let credential = services.store.totp_credential(reset.user.id).await?;
    let Some(credential) = credential.filter(|c| c.active && reset.two_step) else {
        return Ok(ResetStep::Unavailable);
    };
    let user = &reset.user;
    let event = match typed {
        Typed::RecoveryCode(_) => AuditEvent::RecoveryCodeUsed,
        Typed::App(_) => AuditEvent::LoginCode,
    };
    let record = AuditRecord::new(services.clock.now(), event, Outcome::Failure)
        .user(reset.org.id, user.id, &user.username)
        .client(client)
        .detail("reset");
    let attempt = match attempts::admit(services, client, Some(&user.username), None).await? {
        Admitted::Yes(attempt) => attempt,
        Admitted::No { until } => {
            let wait = attempts::refused(services, t, record, until).await?;
            return Ok(ResetStep::Waiting(wait));
        }
    };
    let proof = Token::generate(&mut rand::rngs::OsRng);
    let verified = ResetVerified {
        token,
        browser: proof.hash(),
    };
    let success = |at| AuditRecord {
        outcome: Outcome::Success,
        at,
        ..record.clone()
    };
    let user_lang = (user, reset.org.lang);
    let checked = match typed {
        Typed::App(typed) => {
            totp_check::check_and_settle(
                services,
                t,
                &attempt,
                user_lang,
                &credential,
                typed,
                false,
                &record,
                |then| {
                    then.reset_verified = Some(verified);
                    then.audit.push(success(then.now));
                },
            )
            .await?
        }
        Typed::RecoveryCode(typed) => {
            let now = services.clock.now();
            let mut then = attempt.succeeded(false, now);
            then.reset_verified = Some(verified);
            then.audit.push(success(now));
            let used = match RecoveryCode::parse(typed) {
                Some(code) => {
                    let digest = code.digest(user.id);
                    services
                        .store
                        .use_recovery_code(user.id, &digest, &then)
                        .await?
                }
                None => false,
            };
            if used {
                Ok(())
            } else {
                let refusal = Refusal::new(t.recovery.use_wrong, Outcome::Failure);
                let record = AuditRecord {
                    outcome: refusal.outcome,
                    at: now,
                    ..record.clone()
                };
                attempt.failed(services, Some(user_lang), record).await?;
                Err(refusal)
            }
        }
    };
    Ok(match checked {
        Ok(()) => ResetStep::Passed(proof),
        Err(refusal) => ResetStep::Refused(refusal.message),
    })
}

/// Whether the browser holding `proof` may go on to the password form.
pub fn second_step_done(reset: &PasswordReset, proof: Option<TokenHash>) -> bool {
    !reset.two_step || reset.verified_browser.is_some_and(|v| proof == Some(v))
}

pub enum NewPassword {
    /// Set: every session, remembered device and application session of the user ended; a
    /// notice e-mail is on its way.
    Set,
    /// The password breaks the organization's policy (one problem per broken rule).
    Problems(NewPasswordProblems),
    /// Another request used the link first, or something changed meanwhile.
    LinkGone,
}

/// The new password typed twice on reset link `token` (its digest), by the browser holding
/// `proof` (checked by [`second_step_done`] before).
pub async fn set_password(
    services: &Services,
    reset: &PasswordReset,
    token: TokenHash,
    proof: Option<TokenHash>,
    client: &str,
    (typed, repeated): (&str, &str),
) -> Result<NewPassword, ServiceError> {
    let user = &reset.user;
    let personal = personal_words(&user.username, &user.email);
    let password = match reset.org.policy.check_new(typed, repeated, &personal) {
        Ok(password) => password,
        Err(problems) => return Ok(NewPassword::Problems(problems)),
    };
    let hash = services.hasher.hash(password).await?;
    let now = services.clock.now();
    let notice = compose::notice_to_user(&services.settings, user, &reset.org, |t| {
        (
            t.recovery.reset_notice_subject,
            t.recovery.reset_notice_body,
        )
    })?;
    let record = AuditRecord::new(now, AuditEvent::PasswordSet, Outcome::Success)
        .user(reset.org.id, user.id, &user.username)
        .client(client)
        .detail("reset");
    let completed = CompletedReset {
        token,
        browser: proof.filter(|_| reset.two_step),
        password_hash: &hash,
        notice: &notice,
        audit: &record,
        throttle_subject: Subject::account(Some(&user.username)).key(),
        now,
    };
    if services
        .store
        .complete_password_reset(&completed)
        .await?
        .is_none()
    {
        return Ok(NewPassword::LinkGone);
    }
    services.outbox_wake.notify_one();
    // The applications' sessions ended with ours: their back-channel logouts go out.
    services.logout_wake.notify_one();
    Ok(NewPassword::Set)
}
