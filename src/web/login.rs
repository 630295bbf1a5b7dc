//! Log in with username and password, and log out (here or everywhere).
//!
//! An unknown user, a wrong password, an account that is not activated and a locked account
//! get the same page, the same status and (through the dummy hash) about the same time
//! (ASVS V2.2.1, V3.2.x).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::devices;
use crate::domain::account::LoginStage;
use crate::http::csrf::{CsrfOnly, ProtectedForm, token_for_page};
use crate::http::lang::{Preferred, chrome};
use crate::http::session::{self, CurrentSession, LoggedIn};
use crate::http::{AppState, ClientAddress, PageChrome, WebError};
use crate::login::password_step::{self, PasswordAttempt, PasswordOutcome};
use crate::texts::Texts;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/logout/everywhere", post(logout_everywhere))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    t: &'static Texts,
    page: PageChrome,
    csrf: String,
    username: &'a str,
    failed: bool,
    notice: Option<&'static str>,
    /// "Inloggen met een passkey" is offered (WebAuthn works with this `public_url`).
    passkeys: bool,
    /// The application that sent the user here, by name.
    application: Option<String>,
}

#[derive(Deserialize)]
struct Notice {
    notice: Option<String>,
    /// Filled in from an application's `login_hint`.
    username: Option<String>,
}

async fn login_page(
    State(state): State<AppState>,
    lang: Preferred,
    current: CurrentSession,
    Query(query): Query<Notice>,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let asks_again =
        |s: &crate::store::Session| crate::http::continuation::wants_new_login(&state, &jar, s);
    let mut username = query.username.clone();
    match current.0.as_ref().map(|s| (s.stage, s)) {
        // An application asked for a new login (prompt=login, max_age): the form, filled in.
        Some((LoginStage::Complete, s)) if asks_again(s) => {
            username.get_or_insert_with(|| s.user.username.clone());
        }
        // Toegang controleren: the test login is a new login, from a logged-in browser too.
        Some((LoginStage::Complete, s))
            if crate::http::access_check::awaits_login(&state, &jar, s) =>
        {
            username.get_or_insert_with(|| s.user.username.clone());
        }
        Some((LoginStage::Complete, _)) => {
            let next = crate::http::continuation::after_login(&state, &jar);
            return Ok(Redirect::to(&next).into_response());
        }
        // Logged in but for the passkey the organization requires: that page first.
        Some((LoginStage::PasskeyRequired, _)) => {
            return Ok(Redirect::to(super::passkeys::PAGE).into_response());
        }
        _ => {}
    }
    let t = lang.texts();
    let notice = match query.notice.as_deref() {
        Some("activated") => Some(t.activated_notice),
        Some("password_reset") => Some(t.recovery.reset_done),
        Some("logged_out") => Some(t.logged_out_notice),
        Some("too_many_codes") => Some(t.too_many_codes),
        Some("logged_out_everywhere") => Some(t.logged_out_everywhere),
        _ => None,
    };
    let (jar, csrf) = token_for_page(&state, jar);
    let page = LoginPage {
        t,
        page: chrome(&state, t, "/login"),
        csrf,
        username: username.as_deref().unwrap_or("").trim(),
        failed: false,
        notice,
        passkeys: state.relying_party.is_some(),
        application: crate::http::continuation::application_name(&state, &jar).await,
    };
    // A remembered device completes the login with the password: the redirect may then go
    // straight on to the application, whose origin the form must be allowed to reach.
    let origin = crate::http::continuation::form_action_origin(&state, &jar).await;
    Ok(crate::http::with_form_action(
        (jar, Html(page.render()?)),
        origin.as_deref(),
    ))
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    pub(super) csrf: String,
    pub(super) username: String,
    pub(super) password: String,
}

async fn login(
    State(state): State<AppState>,
    lang: Preferred,
    current: CurrentSession,
    ClientAddress(client): ClientAddress,
    jar: CookieJar,
    ProtectedForm(form): ProtectedForm<LoginForm>,
) -> Result<Response, WebError> {
    let t = lang.texts();
    // A complete session when an application asked for a new login (prompt=login, max_age):
    // it lives on until that login has succeeded, and is then handed over (`oidc::authorize`).
    // Any other login replaces the browser's session at once.
    let reauthenticating = current.0.as_ref().is_some_and(|s| {
        s.stage == LoginStage::Complete
            && crate::http::continuation::wants_new_login(&state, &jar, s)
    });
    let attempt = PasswordAttempt {
        client: &client,
        username: &form.username,
        password: &form.password,
        device: devices::held_by(&state, &jar),
        previous_session: session::held_by(&state, &jar).filter(|_| !reauthenticating),
    };
    match password_step::log_in(&state, t, attempt).await? {
        PasswordOutcome::SecondFactorNeeded(token) => {
            let jar = session::with_session(&state, jar, &token);
            Ok((jar, Redirect::to("/2fa")).into_response())
        }
        PasswordOutcome::Complete(token) => {
            let next = crate::http::continuation::after_login(&state, &jar);
            let jar = session::with_session(&state, jar, &token);
            Ok((jar, Redirect::to(&next)).into_response())
        }
        PasswordOutcome::Refused => refused(&state, t, &form, &jar).await,
    }
}

/// Wrong password, unknown or inactive account, or a locked one: one answer for all.
async fn refused(
    state: &AppState,
    t: &'static Texts,
    form: &LoginForm,
    jar: &CookieJar,
) -> Result<Response, WebError> {
    let page = LoginPage {
        t,
        page: chrome(state, t, "/login"),
        csrf: form.csrf.clone(),
        username: form.username.trim(),
        failed: true,
        notice: None,
        passkeys: state.relying_party.is_some(),
        application: crate::http::continuation::application_name(state, jar).await,
    };
    let origin = crate::http::continuation::form_action_origin(state, jar).await;
    Ok(crate::http::with_form_action(
        (StatusCode::UNAUTHORIZED, Html(page.render()?)),
        origin.as_deref(),
    ))
}

async fn logout(
    State(state): State<AppState>,
    current: CurrentSession,
    ClientAddress(client): ClientAddress,
    jar: CookieJar,
    ProtectedForm(_): ProtectedForm<CsrfOnly>,
) -> Result<Response, WebError> {
    if let Some(session) = &current.0 {
        session::record_end(&state, session, &client, "logout").await?;
    }
    let jar = session::end(&state, jar).await?;
    Ok((jar, Redirect::to("/login?notice=logged_out")).into_response())
}

/// Ends every session of the user, this one too (ASVS V3.3.4).
async fn logout_everywhere(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    ClientAddress(client): ClientAddress,
    jar: CookieJar,
    ProtectedForm(_): ProtectedForm<CsrfOnly>,
) -> Result<Response, WebError> {
    let record = session::end_record(&state, &session, &client, "everywhere");
    state
        .store
        .end_sessions_of_user(session.user.id, &record)
        .await?;
    let jar = session::end(&state, jar).await?;
    Ok((jar, Redirect::to("/login?notice=logged_out_everywhere")).into_response())
}
