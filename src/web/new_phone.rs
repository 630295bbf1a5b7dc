//! "Nieuwe telefoon instellen": the authenticator set-up again, exactly as the guide describes
//! (a new key and QR code by e-mail, Nieuwe code), for a logged-in user — typically right
//! after logging in with a herstelcode. The old app keeps working until the new one has
//! been confirmed with its first code; then the old one stops and the user gets a notice.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::second_factor::CodeForm;
use super::setup_mail::{NEW_PHONE, new_code_wait, start_setup};
use crate::domain::account::EmailAddress;
use crate::http::csrf::{CsrfOnly, ProtectedForm, token_for_page};
use crate::http::lang::{Preferred, chrome_of_org};
use crate::http::session::LoggedIn;
use crate::http::{AppState, ClientAddress, PageChrome, WebError};
use crate::login::new_phone::{self, Replaced};
use crate::store::{Replacement, Session, SetupOutcome};
use crate::texts::Texts;

pub const PAGE: &str = "/account/new-phone";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PAGE, get(page).post(start))
        .route("/account/new-phone/verify", post(verify))
}

#[derive(Template)]
#[template(path = "new_phone.html")]
struct NewPhonePage {
    t: &'static Texts,
    page: PageChrome,
    csrf: String,
    /// A new secret was mailed and waits for its first code.
    waiting: bool,
    masked_email: String,
    notice: Option<String>,
    error: Option<String>,
}

fn waiting(replacement: Option<&Replacement>, now: i64) -> bool {
    replacement.is_some_and(|r| now < r.expires_at)
}

fn render(
    state: &AppState,
    t: &'static Texts,
    session: &Session,
    csrf: String,
    waiting: bool,
    notice: Option<String>,
    error: Option<String>,
) -> Result<String, WebError> {
    let page = NewPhonePage {
        t,
        page: chrome_of_org(state, t, PAGE, &session.org),
        csrf,
        waiting,
        masked_email: EmailAddress::parse(&session.user.email)
            .map(|e| e.masked())
            .unwrap_or_default(),
        notice,
        error,
    };
    Ok(page.render()?)
}

#[derive(Deserialize)]
struct PageQuery {
    notice: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    lang: Preferred,
    LoggedIn(session): LoggedIn,
    Query(query): Query<PageQuery>,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let Some(credential) = state
        .store
        .totp_credential(session.user.id)
        .await?
        .filter(|c| c.active)
    else {
        return Ok(Redirect::to("/").into_response());
    };
    let t = lang.or_org(session.org.lang);
    let now = state.clock.now();
    let notice = match query.notice.as_deref() {
        Some("wait") => new_code_wait(&state, session.user.id, now)
            .await?
            .map(|seconds| t.fill(t.new_code_wait, t.wait_time(seconds))),
        Some("sent") => Some(t.new_code_sent.to_owned()),
        _ => None,
    };
    let pending = credential.replacement.as_ref();
    let error = (pending.is_some() && !waiting(pending, now))
        .then(|| t.recovery.new_phone_expired.to_owned());
    let (jar, csrf) = token_for_page(&state, jar);
    let html = render(
        &state,
        t,
        &session,
        csrf,
        waiting(pending, now),
        notice,
        error,
    )?;
    Ok((jar, Html(html)).into_response())
}

/// NIEUWE TELEFOON INSTELLEN (and Nieuwe code): a new secret by e-mail, rate-limited like
/// the set-up mails.
async fn start(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    ClientAddress(client): ClientAddress,
    ProtectedForm(_): ProtectedForm<CsrfOnly>,
) -> Result<Response, WebError> {
    let target = match start_setup(&state, &session, &client, NEW_PHONE).await? {
        SetupOutcome::Started => "/account/new-phone?notice=sent",
        SetupOutcome::RateLimited => "/account/new-phone?notice=wait",
        SetupOutcome::AlreadyActive | SetupOutcome::NothingToReplace => "/",
    };
    Ok(Redirect::to(target).into_response())
}

/// The new phone's first code (OPSLAAN): it takes over from the old app.
async fn verify(
    State(state): State<AppState>,
    lang: Preferred,
    LoggedIn(session): LoggedIn,
    ClientAddress(client): ClientAddress,
    ProtectedForm(form): ProtectedForm<CodeForm>,
) -> Result<Response, WebError> {
    let t = lang.or_org(session.org.lang);
    let (status, error) = match new_phone::confirm(&state, t, &session, &client, &form.code).await?
    {
        Replaced::Done => return Ok(Redirect::to("/?notice=new_phone").into_response()),
        Replaced::NothingPending => return Ok(Redirect::to(PAGE).into_response()),
        Replaced::Waiting(wait) => (StatusCode::TOO_MANY_REQUESTS, wait),
        Replaced::Refused(wrong) => (StatusCode::UNAUTHORIZED, wrong),
    };
    let csrf = form.csrf.clone();
    let html = render(&state, t, &session, csrf, true, None, Some(error))?;
    Ok((status, Html(html)).into_response())
}
