//! Log in with username and password, the logged-in page, and log-out.
//!
//! An unknown user, a wrong password and an account that is not activated get the same page,
//! the same status and (through the dummy hash) about the same time (ASVS V2.2.1, V3.2.x).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::csrf::{CsrfField, CsrfOnly, ProtectedForm, token_for_page};
use super::i18n::Texts;
use super::lang::{Preferred, chrome};
use super::session::{self, CurrentSession};
use super::{AppState, PageChrome, WebError};
use crate::domain::account::{AccountState, LoginStage, Username};
use crate::domain::password::Password;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
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
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    t: &'static Texts,
    page: PageChrome,
    csrf: String,
    display_name: &'a str,
    username: &'a str,
    org_name: &'a str,
}

#[derive(Deserialize)]
struct Notice {
    notice: Option<String>,
}

async fn login_page(
    State(state): State<AppState>,
    lang: Preferred,
    current: CurrentSession,
    Query(query): Query<Notice>,
    jar: CookieJar,
) -> Result<Response, WebError> {
    if current.complete().is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let t = lang.texts();
    let notice = match query.notice.as_deref() {
        Some("activated") => Some(t.activated_notice),
        Some("logged_out") => Some(t.logged_out_notice),
        Some("too_many_codes") => Some(t.too_many_codes),
        _ => None,
    };
    let (jar, csrf) = token_for_page(&state, jar);
    let page = LoginPage {
        t,
        page: chrome(&state, t, "/login"),
        csrf,
        username: "",
        failed: false,
        notice,
    };
    Ok((jar, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    username: String,
    password: String,
}

impl CsrfField for LoginForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn login(
    State(state): State<AppState>,
    lang: Preferred,
    jar: CookieJar,
    ProtectedForm(form): ProtectedForm<LoginForm>,
) -> Result<Response, WebError> {
    if let Some(user_id) = check_password(&state, &form.username, &form.password).await? {
        // The password alone never completes a login: the second step follows.
        let jar = session::begin(&state, jar, user_id, LoginStage::SecondFactor).await?;
        tracing::info!(user_id, "password accepted; second step next");
        return Ok((jar, Redirect::to("/2fa")).into_response());
    }
    tracing::info!("login failed");
    let t = lang.texts();
    let page = LoginPage {
        t,
        page: chrome(&state, t, "/login"),
        csrf: form.csrf.clone(),
        username: form.username.trim(),
        failed: true,
        notice: None,
    };
    Ok((StatusCode::UNAUTHORIZED, Html(page.render()?)).into_response())
}

/// The user id when `password` is right for an active account; `None` in every other case,
/// after the same amount of hashing work.
async fn check_password(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<Option<i64>, WebError> {
    // Longer than any password we accept: refused before hashing, whoever the user is.
    let Ok(password) = Password::parse(password) else {
        return Ok(None);
    };
    let candidate = match Username::parse(username) {
        Ok(name) => state.store.login_candidate(name.as_str()).await?,
        Err(_) => None,
    };
    let (user_id, stored_hash) = match candidate {
        Some(c) if c.user.state == AccountState::Active => (Some(c.user.id), c.password_hash),
        _ => (None, None),
    };
    let valid = state.hasher.verify(password, stored_hash).await?;
    Ok(user_id.filter(|_| valid))
}

async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    ProtectedForm(_): ProtectedForm<CsrfOnly>,
) -> Result<Response, WebError> {
    let jar = session::end(&state, jar).await?;
    Ok((jar, Redirect::to("/login?notice=logged_out")).into_response())
}

async fn home(
    State(state): State<AppState>,
    lang: Preferred,
    current: CurrentSession,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let Some(session) = current.complete() else {
        return Ok(Redirect::to("/login").into_response());
    };
    let t = lang.or_org(session.org.lang);
    let (jar, csrf) = token_for_page(&state, jar);
    let page = HomePage {
        t,
        page: chrome(&state, t, "/"),
        csrf,
        display_name: &session.user.display_name,
        username: &session.user.username,
        org_name: &session.org.name,
    };
    Ok((jar, Html(page.render()?)).into_response())
}
