//! The invitation link: the activation page where the user creates a password (OPSLAAN), and
//! the clear pages for a link that was used, replaced, expired or never existed.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use crate::domain::account::InvitationStatus;
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::password::{Requirement, personal_words};
use crate::domain::token::Token;
use crate::http::csrf::{ProtectedForm, token_for_page};
use crate::http::lang::{Preferred, chrome};
use crate::http::{AppState, ClientAddress, PageChrome, WebError};
use crate::store::Invitation;
use crate::texts::Texts;

pub fn router() -> Router<AppState> {
    Router::new().route("/invite/{token}", get(activation_page).post(activate))
}

#[derive(Template)]
#[template(path = "activate.html")]
struct ActivatePage<'a> {
    t: &'static Texts,
    page: PageChrome,
    csrf: String,
    action: String,
    display_name: &'a str,
    username: &'a str,
    org_name: &'a str,
    requirements: Vec<Requirement>,
    errors: Vec<Requirement>,
    mismatch: bool,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    t: &'static Texts,
    page: PageChrome,
    title: &'static str,
    body: &'static str,
    /// A second way on beside the login: "Wachtwoord vergeten?" for an account already active.
    forgot: bool,
}

/// Why a link cannot be used; `Invalid` covers unknown, altered and cut-short links alike.
#[derive(Clone, Copy)]
enum LinkProblem {
    Used,
    Superseded,
    Expired,
    Invalid,
    Unavailable,
}

/// The invitation behind `text`, if it can still be used.
async fn usable_invitation(
    state: &AppState,
    text: &str,
) -> Result<Result<(Token, Invitation), (LinkProblem, Option<Invitation>)>, WebError> {
    let Some(token) = Token::parse(text) else {
        return Ok(Err((LinkProblem::Invalid, None)));
    };
    let Some(invitation) = state.store.invitation(&token.hash()).await? else {
        return Ok(Err((LinkProblem::Invalid, None)));
    };
    let status = invitation
        .record
        .status(invitation.user.state, state.clock.now());
    let problem = match status {
        InvitationStatus::Usable => return Ok(Ok((token, invitation))),
        InvitationStatus::AccountUnavailable => LinkProblem::Unavailable,
        InvitationStatus::Used => LinkProblem::Used,
        InvitationStatus::Superseded => LinkProblem::Superseded,
        InvitationStatus::Expired => LinkProblem::Expired,
    };
    Ok(Err((problem, Some(invitation))))
}

fn problem_page(
    state: &AppState,
    lang: &Preferred,
    problem: LinkProblem,
    invitation: Option<&Invitation>,
) -> Result<Response, WebError> {
    let t = match invitation {
        Some(i) => lang.or_org(i.org.lang),
        None => lang.texts(),
    };
    let mut forgot = false;
    let (status, title, body) = match problem {
        // The account is active: the way back in is the password reset, not a new invitation.
        LinkProblem::Used => {
            let reset = invitation.is_none_or(|i| i.org.self_service.reset);
            forgot = reset;
            let body = match reset {
                true => t.link_used_body,
                false => t.link_used_body_no_reset,
            };
            (StatusCode::GONE, t.link_used_title, body)
        }
        LinkProblem::Superseded => (
            StatusCode::GONE,
            t.link_superseded_title,
            t.link_superseded_body,
        ),
        LinkProblem::Expired => (StatusCode::GONE, t.link_expired_title, t.link_expired_body),
        LinkProblem::Invalid => (
            StatusCode::NOT_FOUND,
            t.link_invalid_title,
            t.link_invalid_body,
        ),
        LinkProblem::Unavailable => (
            StatusCode::FORBIDDEN,
            t.link_unavailable_title,
            t.link_unavailable_body,
        ),
    };
    let page = MessagePage {
        t,
        page: chrome(state, t, "/login"),
        title,
        body,
        forgot,
    };
    Ok((status, Html(page.render()?)).into_response())
}

fn render_form(
    state: &AppState,
    t: &'static Texts,
    csrf: String,
    token_text: &str,
    invitation: &Invitation,
    errors: Vec<Requirement>,
    mismatch: bool,
) -> Result<String, WebError> {
    let action = format!("/invite/{token_text}");
    let page = ActivatePage {
        t,
        page: chrome(state, t, &action),
        csrf,
        action: action.clone(),
        display_name: &invitation.user.display_name,
        username: &invitation.user.username,
        org_name: &invitation.org.name,
        requirements: invitation.org.policy.requirements(),
        errors,
        mismatch,
    };
    Ok(page.render()?)
}

async fn activation_page(
    State(state): State<AppState>,
    Path(text): Path<String>,
    lang: Preferred,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let (token, invitation) = match usable_invitation(&state, &text).await? {
        Ok(found) => found,
        Err((problem, invitation)) => {
            return problem_page(&state, &lang, problem, invitation.as_ref());
        }
    };
    let t = lang.or_org(invitation.org.lang);
    let (jar, csrf) = token_for_page(&state, jar);
    let html = render_form(&state, t, csrf, token.expose(), &invitation, vec![], false)?;
    Ok((jar, Html(html)).into_response())
}

#[derive(Deserialize)]
pub(super) struct ActivateForm {
    #[serde(default)]
    pub(super) csrf: String,
    pub(super) password: String,
    pub(super) password_repeat: String,
}

async fn activate(
    State(state): State<AppState>,
    Path(text): Path<String>,
    lang: Preferred,
    ClientAddress(client): ClientAddress,
    ProtectedForm(form): ProtectedForm<ActivateForm>,
) -> Result<Response, WebError> {
    let (token, invitation) = match usable_invitation(&state, &text).await? {
        Ok(found) => found,
        Err((problem, invitation)) => {
            return problem_page(&state, &lang, problem, invitation.as_ref());
        }
    };
    let personal = personal_words(&invitation.user.username, &invitation.user.email);
    let checked = invitation
        .org
        .policy
        .check_new(&form.password, &form.password_repeat, &personal);
    let password = match checked {
        Ok(password) => password,
        Err(problems) => {
            let t = lang.or_org(invitation.org.lang);
            let html = render_form(
                &state,
                t,
                form.csrf.clone(),
                token.expose(),
                &invitation,
                problems.broken,
                problems.mismatch,
            )?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
        }
    };
    let hash = state.hasher.hash(password).await?;
    let activated = state
        .store
        .activate(&token.hash(), &hash, state.clock.now())
        .await?;
    match activated {
        Some(user_id) => {
            let user = &invitation.user;
            let now = state.clock.now();
            let records = [AuditEvent::InvitationUsed, AuditEvent::PasswordSet].map(|event| {
                AuditRecord::new(now, event, Outcome::Success)
                    .user(user.org_id, user_id, &user.username)
                    .client(&client)
            });
            state.store.record_audit(&records).await?;
            // The login page with the username filled in: the one thing the user has not
            // typed yet on this device.
            let to = format!(
                "/login?notice=activated&username={}",
                url::form_urlencoded::byte_serialize(user.username.as_bytes()).collect::<String>()
            );
            Ok(Redirect::to(&to).into_response())
        }
        // The link changed between our check and our update (another request used it, or
        // the account was disabled): say what is true now.
        None => match usable_invitation(&state, &text).await? {
            Err((problem, now)) => problem_page(&state, &lang, problem, now.as_ref()),
            Ok(_) => problem_page(&state, &lang, LinkProblem::Used, Some(&invitation)),
        },
    }
}
