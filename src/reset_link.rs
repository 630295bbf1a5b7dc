//! Issuing a password reset link: for "Wachtwoord vergeten?" (the user) and for
//! `user reset-password` (an administrator). One place decides who gets a link, who gets
//! "ask your employer", and who gets nothing, so both ways in keep the same rules.

use crate::config::Settings;
use crate::domain::account::AccountState;
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::recovery::RESET_MAIL_LIMITS;
use crate::domain::token::Token;
use crate::mail::compose::{self, ComposeError};
use crate::store::{NewPasswordReset, ResetCandidate, ResetRequester, Store, StoreError};
use crate::texts::Texts;

/// What became of a request. The user asking is never told; the administrator is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issued {
    /// The link is on its way.
    Sent,
    /// The organization does not allow self-service reset, or the user has no second step
    /// to protect one: the mail says to ask the employer.
    AskEmployer,
    /// Too many reset mails for this account lately: nothing sent.
    Limited,
    /// The account is invited-only or disabled: nothing sent.
    Unavailable,
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error(transparent)]
    Compose(#[from] ComposeError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Sends `candidate` a reset link (or the "ask your employer" mail), within the rate limit
/// for requests from the user; records the outcome in the audit log.
pub async fn issue(
    store: &dyn Store,
    settings: &Settings,
    candidate: &ResetCandidate,
    requester: ResetRequester,
    client: Option<&str>,
    now: i64,
) -> Result<Issued, IssueError> {
    let ResetCandidate { user, org } = candidate;
    let mut record = AuditRecord::new(now, AuditEvent::ResetRequested, Outcome::Success)
        .user(org.id, user.id, &user.username)
        .detail(requester.as_str());
    record.client = client.map(str::to_owned);
    if user.state != AccountState::Active {
        record.outcome = Outcome::Failure;
        record.detail = Some(format!("{}:account_not_active", requester.as_str()).into());
        store.record_audit(&[record]).await?;
        return Ok(Issued::Unavailable);
    }
    let t = Texts::of(org.lang);
    let to = compose::mailbox(&user.display_name, &user.email)?;
    let minutes = settings.reset_link_minutes;
    let token = Token::generate(&mut rand::rngs::OsRng);
    // A mailbox alone never takes over an account: a user's own request needs a second
    // step to protect it (the app, or its herstelcodes). An administrator vouches instead.
    let refusal = match requester {
        ResetRequester::Administrator => None,
        ResetRequester::User if !org.self_service.reset => {
            Some((t.recovery.reset_off_body, "self:self_service_off"))
        }
        ResetRequester::User => {
            let has_app = store
                .totp_credential(user.id)
                .await?
                .is_some_and(|c| c.active);
            (!has_app).then_some((t.recovery.reset_no_app_body, "self:no_second_factor"))
        }
    };
    let (mail, expires_at, issued) = if let Some((body, why)) = refusal {
        // Recorded like any request (the rate limit counts it), with a link that was never
        // sent and never worked: it expires as it is made.
        let mail = compose::notice(
            &crate::mail::sender::Sender::of(settings, org),
            to,
            org.lang,
            &settings.service_name,
            &t.fill(t.recovery.reset_off_subject, &settings.service_name),
            &t.fill(body, &user.username),
        )?;
        record.detail = Some(why.into());
        (mail, now, Issued::AskEmployer)
    } else {
        let link = settings.link(&format!("/password/reset/{}", token.expose()));
        let mail = compose::password_reset(
            &crate::mail::sender::Sender::of(settings, org),
            to,
            &compose::PasswordReset {
                lang: org.lang,
                service_name: &settings.service_name,
                display_name: &user.display_name,
                username: &user.username,
                link: &link,
                valid_minutes: minutes,
                by_administrator: requester == ResetRequester::Administrator,
            },
        )?;
        (mail, now + i64::from(minutes) * 60, Issued::Sent)
    };
    let limits: &[_] = match requester {
        ResetRequester::User => &RESET_MAIL_LIMITS,
        // An administrator's link is an answer to a call: never limited.
        ResetRequester::Administrator => &[],
    };
    let reset = NewPasswordReset {
        user: user.id,
        token: token.hash(),
        requested_by: requester,
        expires_at,
        mail: &mail,
        audit: &record,
        now,
    };
    if store.start_password_reset(&reset, limits).await? {
        return Ok(issued);
    }
    let limited = AuditRecord {
        outcome: Outcome::RateLimited,
        ..record
    };
    store.record_audit(&[limited]).await?;
    Ok(Issued::Limited)
}
