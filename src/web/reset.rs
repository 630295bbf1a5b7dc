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

use crate::domain::account::InvitationStatus;
use crate::domain::password::{NewPasswordProblems, Requirement};
use crate::domain::recovery::reset_link_status;
use crate::domain::token::{Token, TokenHash};
use crate::http::csrf::{ProtectedForm, token_for_page};
use crate::http::lang::{Preferred, chrome};
use crate::http::{AppState, ClientAddress, PageChrome, WebError};
use crate::login::reset_steps::{self, NewPassword, ResetStep, Typed};
use crate::store::PasswordReset;
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
    let html = if reset_steps::second_step_done(&reset, browser_proof(&state, &jar)) {
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
    let t = lang.or_org(reset.org.lang);
    let typed = match &form.recovery_code {
        Some(code) => Typed::RecoveryCode(code),
        None => Typed::App(form.code.as_deref().unwrap_or_default()),
    };
    let step = reset_steps::second_step(&state, t, &reset, token.hash(), &client, typed).await?;
    let (status, error) = match step {
        ResetStep::Passed(proof) => {
            let value = proof.expose().to_owned();
            let cookie = state
                .cookies
                .cookie(state.cookies.reset, value, SameSite::Strict);
            return Ok((jar.add(cookie), Redirect::to(&back)).into_response());
        }
        ResetStep::Unavailable => return Ok(Redirect::to(&back).into_response()),
        ResetStep::Waiting(wait) => (StatusCode::TOO_MANY_REQUESTS, wait),
        ResetStep::Refused(wrong) => (StatusCode::UNAUTHORIZED, wrong),
    };
    let recovery = form.recovery_code.is_some();
    let html = render_code(&state, t, form.csrf.clone(), &token, recovery, Some(error))?;
    Ok((status, Html(html)).into_response())
}

#[derive(Deserialize)]
pub(super) struct NewPasswordForm {
    #[serde(default)]
    pub(super) csrf: String,
    pub(super) password: String,
    pub(super) password_repeat: String,
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
    let proof = browser_proof(&state, &jar);
    if !reset_steps::second_step_done(&reset, proof) {
        let back = format!("/password/reset/{}", token.expose());
        return Ok(Redirect::to(&back).into_response());
    }
    let typed = (form.password.as_str(), form.password_repeat.as_str());
    match reset_steps::set_password(&state, &reset, token.hash(), proof, &client, typed).await? {
        NewPassword::Set => {}
        NewPassword::Problems(problems) => {
            let t = lang.or_org(reset.org.lang);
            let csrf = form.csrf.clone();
            let html = render_password(&state, t, csrf, &token, &reset, problems)?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
        }
        // Another request used the link first, or something changed meanwhile: say what is
        // true now.
        NewPassword::LinkGone => {
            return match usable(&state, &lang, &text).await? {
                Err(page) => Ok(page),
                Ok((token, _)) => {
                    let back = format!("/password/reset/{}", token.expose());
                    Ok(Redirect::to(&back).into_response())
                }
            };
        }
    }
    let removal = state
        .cookies
        .cookie(state.cookies.reset, String::new(), SameSite::Strict);
    let session_removal = state
        .cookies
        .cookie(state.cookies.session, String::new(), SameSite::Lax);
    let jar = jar.remove(removal).remove(session_removal);
    Ok((jar, Redirect::to("/login?notice=password_reset")).into_response())
}
