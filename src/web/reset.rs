//! The reset link: for a user with two-step verification the second step comes first (the
//! app's code or a herstelcode), then the new password under the organization's policy
//! (OPSLAAN). Every session and remembered device ends, the applications are told (the
//! back-channel logout), and the user gets a notice.
//!
//! The link works in any browser (the second step protects it), but the browser that passed
//! the second step gets a cookie, and only that browser may set the password: a mailbox
//! reader who opens the link after the user typed the code gains nothing.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::SameSite;
use serde::Deserialize;

use super::attempts::{self, Admitted};
use super::csrf::{CsrfField, ProtectedForm, token_for_page};
use super::lang::{Preferred, chrome};
use super::totp_check::{self, Refusal};
use super::{AppState, ClientAddress, PageChrome, WebError};
use crate::domain::account::InvitationStatus;
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::password::{NewPasswordProblems, Requirement, personal_words};
use crate::domain::recovery::{RecoveryCode, reset_link_status};
use crate::domain::throttle::Subject;
use crate::domain::token::{Token, TokenHash};
use crate::mail::compose;
use crate::store::{CompletedReset, PasswordReset, ResetVerified};
use crate::texts::Texts;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/password/reset/{token}",
            get(reset_page).post(set_password),
        )
        .route("/password/reset/{token}/verify", post(verify))
}

#[derive(Template)]
#[template(path = "reset_message.html")]
struct MessagePage {
    t: &'static Texts,
    page: PageChrome,
    title: &'static str,
    body: &'static str,
}

#[derive(Template)]
#[template(path = "reset_code.html")]
struct CodePage {
    t: &'static Texts,
    page: PageChrome,
    csrf: String,
    action: String,
    /// Asking for a herstelcode instead of the app's code.
    recovery: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "reset.html")]
struct PasswordPage<'a> {
    t: &'static Texts,
    page: PageChrome,
    csrf: String,
    action: String,
    username: &'a str,
    requirements: Vec<Requirement>,
    errors: Vec<Requirement>,
    mismatch: bool,
}

/// The link behind `text` if it can be used now, or the page that says why not.
async fn usable(
    state: &AppState,
    lang: &Preferred,
    text: &str,
) -> Result<Result<(Token, PasswordReset), Response>, WebError> {
    let found = match Token::parse(text) {
        Some(token) => state
            .store
            .password_reset(&token.hash())
            .await?
            .map(|reset| (token, reset)),
        None => None,
    };
    let Some((token, reset)) = found else {
        return Ok(Err(problem_page(state, lang.texts(), None)?));
    };
    let status = reset_link_status(&reset.record, reset.user.state, state.clock.now());
    if status == InvitationStatus::Usable {
        return Ok(Ok((token, reset)));
    }
    let t = lang.or_org(reset.org.lang);
    Ok(Err(problem_page(state, t, Some(status))?))
}

/// Used, replaced, expired, unknown (also altered or cut short), or an account that cannot.
fn problem_page(
    state: &AppState,
    t: &'static Texts,
    status: Option<InvitationStatus>,
) -> Result<Response, WebError> {
    let r = t.recovery;
    let (code, title, body) = match status {
        Some(InvitationStatus::Used) => (StatusCode::GONE, t.link_used_title, r.reset_used_body),
        Some(InvitationStatus::Superseded) => (
            StatusCode::GONE,
            r.reset_superseded_title,
            r.reset_superseded_body,
        ),
        Some(InvitationStatus::Expired) => {
            (StatusCode::GONE, t.link_expired_title, r.reset_expired_body)
        }
        Some(InvitationStatus::AccountUnavailable) => (
            StatusCode::FORBIDDEN,
            t.link_unavailable_title,
            t.link_unavailable_body,
        ),
        Some(InvitationStatus::Usable) | None => (
            StatusCode::NOT_FOUND,
            t.link_invalid_title,
            r.reset_invalid_body,
        ),
    };
    let page = MessagePage {
        t,
        page: chrome(state, t, "/password/forgot"),
        title,
        body,
    };
    Ok((code, Html(page.render()?)).into_response())
}

/// The digest of this browser's second-step cookie, if it has one.
fn browser_proof(state: &AppState, jar: &CookieJar) -> Option<TokenHash> {
    jar.get(state.cookies.reset)
        .and_then(|c| Token::parse(c.value()))
        .map(|t| t.hash())
}

/// Whether this browser may go on to the password form.
fn second_step_done(state: &AppState, jar: &CookieJar, reset: &PasswordReset) -> bool {
    !reset.two_step
        || reset
            .verified_browser
            .is_some_and(|v| browser_proof(state, jar) == Some(v))
}

#[derive(Deserialize)]
struct PageQuery {
    /// `recovery`: a herstelcode instead of the app's code.
    with: Option<String>,
}

async fn reset_page(
    State(state): State<AppState>,
    Path(text): Path<String>,
    Query(query): Query<PageQuery>,
    lang: Preferred,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let (token, reset) = match usable(&state, &lang, &text).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let t = lang.or_org(reset.org.lang);
    let (jar, csrf) = token_for_page(&state, jar);
    let html = if second_step_done(&state, &jar, &reset) {
        render_password(
            &state,
            t,
            csrf,
            &token,
            &reset,
            NewPasswordProblems::default(),
        )?
    } else {
        let recovery = query.with.as_deref() == Some("recovery");
        render_code(&state, t, csrf, &token, recovery, None)?
    };
    Ok((jar, Html(html)).into_response())
}

fn render_code(
    state: &AppState,
    t: &'static Texts,
    csrf: String,
    token: &Token,
    recovery: bool,
    error: Option<String>,
) -> Result<String, WebError> {
    let action = format!("/password/reset/{}", token.expose());
    let page = CodePage {
        t,
        page: chrome(state, t, &action),
        csrf,
        action,
        recovery,
        error,
    };
    Ok(page.render()?)
}

fn render_password(
    state: &AppState,
    t: &'static Texts,
    csrf: String,
    token: &Token,
    reset: &PasswordReset,
    problems: NewPasswordProblems,
) -> Result<String, WebError> {
    let action = format!("/password/reset/{}", token.expose());
    let page = PasswordPage {
        t,
        page: chrome(state, t, &action),
        csrf,
        action,
        username: &reset.user.username,
        requirements: reset.org.policy.requirements(),
        errors: problems.broken,
        mismatch: problems.mismatch,
    };
    Ok(page.render()?)
}

#[derive(Deserialize)]
pub(super) struct SecondStepForm {
    #[serde(default)]
    pub(super) csrf: String,
    /// The app's six digits …
    #[serde(default)]
    pub(super) code: Option<String>,
    /// … or a herstelcode.
    #[serde(default)]
    pub(super) recovery_code: Option<String>,
}

impl CsrfField for SecondStepForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The second step for a reset link, under the account's throttle like a login's.
async fn verify(
    State(state): State<AppState>,
    Path(text): Path<String>,
    lang: Preferred,
    ClientAddress(client): ClientAddress,
    jar: CookieJar,
    ProtectedForm(form): ProtectedForm<SecondStepForm>,
) -> Result<Response, WebError> {
    let (token, reset) = match usable(&state, &lang, &text).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let back = format!("/password/reset/{}", token.expose());
    let credential = state
        .store
        .totp_credential(reset.user.id)
        .await?
        .filter(|c| c.active);
    let Some(credential) = credential.filter(|_| reset.two_step) else {
        return Ok(Redirect::to(&back).into_response());
    };
    let t = lang.or_org(reset.org.lang);
    let user = &reset.user;
    let recovery = form.recovery_code.is_some();
    let event = if recovery {
        AuditEvent::RecoveryCodeUsed
    } else {
        AuditEvent::LoginCode
    };
    let record = AuditRecord::new(state.clock.now(), event, Outcome::Failure)
        .user(reset.org.id, user.id, &user.username)
        .client(&client)
        .detail("reset");
    let shown_again = |status: StatusCode, error: String| -> Result<Response, WebError> {
        let html = render_code(&state, t, form.csrf.clone(), &token, recovery, Some(error))?;
        Ok((status, Html(html)).into_response())
    };
    let attempt = match attempts::admit(&state, &client, Some(&user.username), None).await? {
        Admitted::Yes(attempt) => attempt,
        Admitted::No { until } => {
            let wait = attempts::refused(&state, t, record, until).await?;
            return shown_again(StatusCode::TOO_MANY_REQUESTS, wait);
        }
    };
    let now = state.clock.now();
    let proof = Token::generate(&mut rand::rngs::OsRng);
    let mut then = attempt.succeeded(false, now);
    then.reset_verified = Some(ResetVerified {
        token: token.hash(),
        browser: proof.hash(),
    });
    then.audit.push(AuditRecord {
        outcome: Outcome::Success,
        at: now,
        ..record.clone()
    });
    let refusal = if let Some(typed) = &form.recovery_code {
        match RecoveryCode::parse(typed) {
            Some(code)
                if state
                    .store
                    .use_recovery_code(user.id, &code.digest(user.id), &then)
                    .await? =>
            {
                None
            }
            _ => Some(Refusal::new(t.recovery.use_wrong, Outcome::Failure)),
        }
    } else {
        let typed = form.code.as_deref().unwrap_or_default();
        let checked = totp_check::check(
            &state,
            t,
            user.id,
            &credential.sealed,
            credential.last_step,
            typed,
            now,
        )?;
        match checked {
            Ok(step) => {
                let accepted = state
                    .store
                    .accept_totp_step(user.id, &credential.sealed, step, false, &then)
                    .await?;
                (!accepted).then(|| Refusal::new(t.code_used, Outcome::Replayed))
            }
            Err(refusal) => Some(refusal),
        }
    };
    let Some(refusal) = refusal else {
        let cookie = state.cookies.cookie(
            state.cookies.reset,
            proof.expose().to_owned(),
            SameSite::Strict,
        );
        return Ok((jar.add(cookie), Redirect::to(&back)).into_response());
    };
    let record = AuditRecord {
        outcome: refusal.outcome,
        at: now,
        ..record
    };
    attempt
        .failed(&state, Some((user, reset.org.lang)), record)
        .await?;
    shown_again(StatusCode::UNAUTHORIZED, refusal.message)
}

#[derive(Deserialize)]
pub(super) struct NewPasswordForm {
    #[serde(default)]
    pub(super) csrf: String,
    pub(super) password: String,
    pub(super) password_repeat: String,
}

impl CsrfField for NewPasswordForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// OPSLAAN: the new password, for the browser that passed the second step.
async fn set_password(
    State(state): State<AppState>,
    Path(text): Path<String>,
    lang: Preferred,
    ClientAddress(client): ClientAddress,
    jar: CookieJar,
    ProtectedForm(form): ProtectedForm<NewPasswordForm>,
) -> Result<Response, WebError> {
    let (token, reset) = match usable(&state, &lang, &text).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    if !second_step_done(&state, &jar, &reset) {
        let back = format!("/password/reset/{}", token.expose());
        return Ok(Redirect::to(&back).into_response());
    }
    let t = lang.or_org(reset.org.lang);
    let user = &reset.user;
    let personal = personal_words(&user.username, &user.email);
    let checked = reset
        .org
        .policy
        .check_new(&form.password, &form.password_repeat, &personal);
    let password = match checked {
        Ok(password) => password,
        Err(problems) => {
            let csrf = form.csrf.clone();
            let html = render_password(&state, t, csrf, &token, &reset, problems)?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
        }
    };
    let hash = state.hasher.hash(password).await?;
    let now = state.clock.now();
    let notice = compose::notice_to_user(&state.settings, user, reset.org.lang, |t| {
        (
            t.recovery.reset_notice_subject,
            t.recovery.reset_notice_body,
        )
    })?;
    let record = AuditRecord::new(now, AuditEvent::PasswordSet, Outcome::Success)
        .user(reset.org.id, user.id, &user.username)
        .client(&client)
        .detail("reset");
    let completed = CompletedReset {
        token: token.hash(),
        browser: reset
            .two_step
            .then(|| browser_proof(&state, &jar))
            .flatten(),
        password_hash: &hash,
        notice: &notice,
        audit: &record,
        throttle_subject: Subject::account(Some(&user.username)).key(),
        now,
    };
    if state
        .store
        .complete_password_reset(&completed)
        .await?
        .is_none()
    {
        // Another request used the link first, or something changed meanwhile: say what
        // is true now.
        return match usable(&state, &lang, &text).await? {
            Err(page) => Ok(page),
            Ok((token, _)) => {
                let back = format!("/password/reset/{}", token.expose());
                Ok(Redirect::to(&back).into_response())
            }
        };
    }
    state.outbox_wake.notify_one();
    // The applications' sessions ended with ours: their back-channel logouts go out.
    state.logout_wake.notify_one();
    let removal = state
        .cookies
        .cookie(state.cookies.reset, String::new(), SameSite::Strict);
    let session_removal = state
        .cookies
        .cookie(state.cookies.session, String::new(), SameSite::Lax);
    let jar = jar.remove(removal).remove(session_removal);
    Ok((jar, Redirect::to("/login?notice=password_reset")).into_response())
}
