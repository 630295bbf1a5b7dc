//! The second step of a login, after the password: the app's code or a herstelcode. Both are
//! counted before they are checked (per account across sessions, and per session: five wrong
//! codes and the password must be typed again), and both end the same way: a new session at
//! the stage the rules below decide, committed with the step that was used.

use super::attempts::{self, Admitted, Attempt};
use super::devices;
pub use super::next_page::{AfterStep, PassedWith, after_login, after_step};
use super::session_start;
use super::totp_check::{self, Refusal};
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::login_method::LoginMethod;
use crate::domain::passkey::{Requirement, SecondSteps, second_steps};
use crate::domain::recovery::{self, FEW_CODES_LEFT, RecoveryCode};
use crate::domain::second_factor::MAX_WRONG_CODES;
use crate::domain::token::Token;
use crate::mail::compose;
use crate::services::{ServiceError, Services};
use crate::store::{NewRecoveryCodes, OutgoingMail, Session, UserId};
use crate::texts::Texts;

/// A typed code in a half-logged-in session.
pub struct CodeAttempt<'a> {
    pub session: &'a Session,
    pub client: &'a str,
    pub typed: &'a str,
    /// "Dit apparaat onthouden" ticked: the browser's User-Agent, to name the device.
    pub remember: Option<&'a str>,
}

pub enum StepOutcome {
    /// The step was passed: the new session's secret, a remembered device's secret and its
    /// days, and where the login goes next.
    Passed {
        session: Token,
        device: Option<(Token, u8)>,
        next: AfterStep,
    },
    /// Not checked: the account or the address waits (what the user reads).
    Waiting(String),
    /// Wrong, used or expired (what the user reads).
    Refused(String),
    /// Too many codes in this session: it ends, and the password must be typed again.
    TooManyCodes,
    /// This way is not open to the user now (no active app, or only a passkey passes).
    Unavailable,
}

/// Whether `user` holds a set of herstelcodes not yet confirmed as saved.
pub async fn codes_unsaved(services: &Services, user: UserId) -> Result<bool, ServiceError> {
    Ok(services.store.recovery_codes_reveal(user).await?.is_some())
}

/// Where a login completed with a passkey goes.
pub async fn after_passkey(services: &Services, user: UserId) -> Result<AfterStep, ServiceError> {
    let unsaved = codes_unsaved(services, user).await?;
    Ok(after_login(PassedWith::Passkey, unsaved))
}

/// Which second steps `session`'s user may take now, and the organization's passkey rule.
pub async fn available(
    services: &Services,
    session: &Session,
) -> Result<(SecondSteps, Requirement), ServiceError> {
    let passkeys = services
        .store
        .passkeys_of_user(session.user.id)
        .await?
        .len();
    let requirement = session.org.passkeys.requirement(services.clock.now());
    Ok((second_steps(passkeys, requirement), requirement))
}

/// A new set of herstelcodes for `user`: their digests, and the set sealed until the user
/// confirms having saved it.
pub fn new_recovery_codes(services: &Services, user: UserId) -> NewRecoveryCodes {
    let mut rng = rand::rngs::OsRng;
    let codes = recovery::new_set(&mut rng);
    let text = recovery::join_set(&codes);
    NewRecoveryCodes {
        user,
        digests: codes.iter().map(|c| c.digest(user)).collect(),
        reveal: services
            .keyring
            .seal_recovery_codes(user, text.as_bytes(), &mut rng),
    }
}

/// The app's code (AUTHENTICATOR APP, INLOGGEN); on a first login it also ends the set-up.
pub async fn with_app(
    services: &Services,
    t: &Texts,
    attempt: CodeAttempt<'_>,
) -> Result<StepOutcome, ServiceError> {
    let session = attempt.session;
    let user = &session.user;
    // Where the organization requires passkeys, the app's code no longer passes (for a user
    // with a passkey), or passes only on to adding one.
    let (steps, _) = available(services, session).await?;
    let credential = services.store.totp_credential(user.id).await?;
    let (true, Some(credential)) = (steps.app, credential) else {
        return Ok(StepOutcome::Unavailable);
    };
    let record = AuditRecord::new(
        services.clock.now(),
        AuditEvent::LoginCode,
        Outcome::Failure,
    )
    .user(session.org.id, user.id, &user.username)
    .client(attempt.client);
    let (admitted, codes) = match admit(services, t, &attempt, &record).await? {
        Ok(admitted) => admitted,
        Err(outcome) => return Ok(outcome),
    };
    let finished_setup = !credential.active;
    let unsaved = codes_unsaved(services, user.id).await?;
    let (stage, next) = after_step(&steps, PassedWith::App { finished_setup }, unsaved);
    let notice = if finished_setup {
        Some(compose::notice_to_user(
            &services.settings,
            user,
            &session.org,
            |t| (t.enabled_subject, t.enabled_body),
        )?)
    } else {
        None
    };
    let (token, new_session) = session_start::start(
        services,
        user.id,
        stage,
        Some(LoginMethod::PasswordAndApp),
        Some(session.id_hash),
    );
    let days = session.org.self_service.remember_device_days;
    let device = attempt
        .remember
        .filter(|_| !finished_setup && days > 0)
        .map(|agent| devices::remember(services, user.id, agent, days));
    let recovery_codes = finished_setup.then(|| new_recovery_codes(services, user.id));
    let lang = session.org.lang;
    let checked = totp_check::check_and_settle(
        services,
        t,
        &admitted,
        (user, lang),
        &credential,
        attempt.typed,
        true,
        &record,
        |then| {
            // If the step is accepted, the login completes in the same transaction: a new
            // session, the account's count cleared, the audit lines and the notice.
            then.mail = notice.as_ref();
            then.session = Some(new_session);
            if let Some((_, device)) = &device {
                then.audit.push(AuditRecord {
                    event: AuditEvent::DeviceRemembered,
                    outcome: Outcome::Success,
                    detail: Some(device.browser.clone().into()),
                    ..record.clone()
                });
                then.remember_device = Some(device.clone());
            }
            let success = |event| AuditRecord {
                event,
                outcome: Outcome::Success,
                ..record.clone()
            };
            if finished_setup {
                then.audit.push(success(AuditEvent::TwoStepEnabled));
            }
            then.audit.push(success(AuditEvent::LoginCode));
            // The end of the set-up: the herstelcodes, shown next until the user saved them.
            if let Some(codes) = recovery_codes {
                then.recovery_codes = Some(codes);
                then.audit.push(success(AuditEvent::RecoveryCodesCreated));
            }
        },
    )
    .await?;
    match checked {
        Ok(()) => {
            if notice.is_some() {
                services.outbox_wake.notify_one();
            }
            Ok(StepOutcome::Passed {
                session: token,
                device: device.map(|(token, _)| (token, days)),
                next,
            })
        }
        Err(_) if codes >= MAX_WRONG_CODES => Ok(StepOutcome::TooManyCodes),
        Err(Refusal { message, .. }) => Ok(StepOutcome::Refused(message)),
    }
}

/// A herstelcode instead of the app's code (only for a user whose app is active).
pub async fn with_recovery_code(
    services: &Services,
    t: &Texts,
    attempt: CodeAttempt<'_>,
) -> Result<StepOutcome, ServiceError> {
    let session = attempt.session;
    let user = &session.user;
    let has_app = services
        .store
        .totp_credential(user.id)
        .await?
        .is_some_and(|c| c.active);
    // Where passkeys are required, a herstelcode passes no more than the app's code does.
    let (steps, _) = available(services, session).await?;
    if !has_app || !steps.app {
        return Ok(StepOutcome::Unavailable);
    }
    let record = AuditRecord::new(
        services.clock.now(),
        AuditEvent::RecoveryCodeUsed,
        Outcome::Failure,
    )
    .user(session.org.id, user.id, &user.username)
    .client(attempt.client)
    .detail("login");
    let (admitted, codes) = match admit(services, t, &attempt, &record).await? {
        Ok(admitted) => admitted,
        Err(outcome) => return Ok(outcome),
    };
    let now = services.clock.now();
    if let Some(code) = RecoveryCode::parse(attempt.typed) {
        let (stage, next) = after_step(&steps, PassedWith::RecoveryCode, false);
        // Left after this one (parallel uses can only make it fewer: the page reads again).
        let left = services.store.recovery_codes_left(user.id).await? - 1;
        let warning = few_left_warning(services, session, left)?;
        let (token, new_session) = session_start::start(
            services,
            user.id,
            stage,
            Some(LoginMethod::PasswordAndRecoveryCode),
            Some(session.id_hash),
        );
        let mut then = admitted.succeeded(true, now);
        then.session = Some(new_session);
        then.mail = warning.as_ref();
        then.audit.push(AuditRecord {
            outcome: Outcome::Success,
            at: now,
            ..record.clone()
        });
        let digest = code.digest(user.id);
        if services
            .store
            .use_recovery_code(user.id, &digest, &then)
            .await?
        {
            if warning.is_some() {
                services.outbox_wake.notify_one();
            }
            let device = None;
            return Ok(StepOutcome::Passed {
                session: token,
                device,
                next,
            });
        }
    }
    let record = AuditRecord { at: now, ..record };
    admitted
        .failed(services, Some((user, session.org.lang)), record)
        .await?;
    if codes >= MAX_WRONG_CODES {
        return Ok(StepOutcome::TooManyCodes);
    }
    Ok(StepOutcome::Refused(t.recovery.use_wrong.to_owned()))
}

/// Counts a code before it is checked: for the account across its sessions (the throttle) and
/// for this session. The attempt and this session's count of codes, or the outcome when it
/// may not be checked.
async fn admit(
    services: &Services,
    t: &Texts,
    attempt: &CodeAttempt<'_>,
    record: &AuditRecord,
) -> Result<Result<(Attempt, i64), StepOutcome>, ServiceError> {
    let session = attempt.session;
    let username = Some(session.user.username.as_str());
    let admitted =
        attempts::admit(services, attempt.client, username, Some(&session.id_hash)).await?;
    let admitted = match admitted {
        Admitted::Yes(admitted) => admitted,
        Admitted::No { until } => {
            let wait = attempts::refused(services, t, record.clone(), until).await?;
            return Ok(Err(StepOutcome::Waiting(wait)));
        }
    };
    let codes = admitted.session_codes.unwrap_or(i64::MAX);
    if codes > MAX_WRONG_CODES {
        return Ok(Err(StepOutcome::TooManyCodes));
    }
    Ok(Ok((admitted, codes)))
}

/// With fewer than three herstelcodes left, the user gets an e-mail saying so.
fn few_left_warning(
    services: &Services,
    session: &Session,
    left: i64,
) -> Result<Option<OutgoingMail>, ServiceError> {
    if left >= FEW_CODES_LEFT {
        return Ok(None);
    }
    let user = &session.user;
    let t = Texts::of(session.org.lang);
    let body = t.fill(&t.fill(t.recovery.few_body, &user.username), left.max(0));
    let mail = compose::notice(
        &crate::mail::sender::Sender::of(&services.settings, &session.org),
        compose::mailbox(&user.display_name, &user.email)?,
        session.org.lang,
        &services.settings.service_name,
        t.recovery.few_subject,
        &body,
    )?;
    Ok(Some(mail))
}
