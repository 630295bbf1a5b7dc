//! Herstelcodes: shown once at the end of the authenticator set-up (with a download and a
//! print version) until the user confirms having saved them; typed instead of the app's code
//! at login ("Geen toegang tot je app?"); counted on the account page and made anew there.
//!
//! A code is used by one conditional statement, so of two parallel uses one wins; a wrong
//! code counts against the throttle and the session like a wrong app code.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::second_factor::{CodeForm, step_answer};
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::recovery::{self, FEW_CODES_LEFT, RecoveryCode};
use crate::http::csrf::{ProtectedForm, token_for_page};
use crate::http::lang::{Preferred, chrome, chrome_of_org};
use crate::http::session::{HalfLoggedIn, LoggedIn};
use crate::http::{AppState, ClientAddress, PageChrome, WebError};
use crate::login::second_step::{self, CodeAttempt};
use crate::store::{Session, UserId};
use crate::texts::Texts;

/// The account's herstelcodes page.
pub const PAGE: &str = "/account/recovery-codes";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PAGE, get(codes_page))
        .route("/account/recovery-codes.txt", get(download))
        .route("/account/recovery-codes/print", get(print_page))
        .route("/account/recovery-codes/saved", post(saved))
        .route("/account/recovery-codes/new", post(regenerate))
        .route("/2fa/recovery", get(use_page).post(use_code))
}

/// The user's unsaved new set, grouped for reading, if there is one.
async fn unsaved_codes(state: &AppState, user: UserId) -> Result<Option<Vec<String>>, WebError> {
    let Some(sealed) = state.store.recovery_codes_reveal(user).await? else {
        return Ok(None);
    };
    let codes = state
        .keyring
        .open_recovery_codes(user, &sealed)
        .and_then(|bytes| {
            let text = std::str::from_utf8(secrecy::ExposeSecret::expose_secret(&bytes)).ok()?;
            recovery::split_set(text)
        })
        .ok_or_else(|| {
            anyhow::anyhow!(
                "the new herstelcodes of user {user} do not open with the configured keys"
            )
        })?;
    Ok(Some(codes.iter().map(RecoveryCode::grouped).collect()))
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct CodesPage {
    t: &'static Texts,
    page: PageChrome,
    csrf: String,
    /// The new set, while it is not saved.
    codes: Option<Vec<String>>,
    left: i64,
    two_step: bool,
    notice: Option<String>,
    error: Option<String>,
    /// Where VERDER goes: back to the application that sent the user, or the account.
    next: String,
}

impl CodesPage {
    fn few_left(&self) -> bool {
        self.two_step && self.codes.is_none() && self.left < FEW_CODES_LEFT
    }
}

#[derive(Deserialize)]
struct PageQuery {
    notice: Option<String>,
}

async fn codes_page(
    State(state): State<AppState>,
    lang: Preferred,
    LoggedIn(session): LoggedIn,
    Query(query): Query<PageQuery>,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let t = lang.or_org(session.org.lang);
    let left = state.store.recovery_codes_left(session.user.id).await?;
    let notice = match query.notice.as_deref() {
        Some("used") => Some(t.fill(t.recovery.used_notice, left)),
        _ => None,
    };
    let (jar, csrf) = token_for_page(&state, jar);
    let html = render(&state, t, &session, &jar, csrf, notice, None).await?;
    // VERDER may lead on to the application that sent the user (its origin must be allowed
    // as a form target, or the browser stops at the redirect).
    let origin = crate::http::continuation::form_action_origin(&state, &jar).await;
    Ok(crate::http::with_form_action(
        (jar, Html(html)),
        origin.as_deref(),
    ))
}

async fn render(
    state: &AppState,
    t: &'static Texts,
    session: &Session,
    jar: &CookieJar,
    csrf: String,
    notice: Option<String>,
    error: Option<String>,
) -> Result<String, WebError> {
    let user = session.user.id;
    let two_step = state
        .store
        .totp_credential(user)
        .await?
        .is_some_and(|c| c.active);
    let page = CodesPage {
        t,
        page: chrome_of_org(state, t, PAGE, &session.org),
        csrf,
        codes: unsaved_codes(state, user).await?,
        left: state.store.recovery_codes_left(user).await?,
        two_step,
        notice,
        error,
        next: crate::http::continuation::after_login(state, jar),
    };
    Ok(page.render()?)
}

/// The unsaved set with its heading ("Herstelcodes van jan (Poortwachter)") for the download
/// and the print page; otherwise where to go instead (no login, or nothing unsaved).
async fn unsaved_set(
    state: &AppState,
    lang: &Preferred,
    LoggedIn(session): LoggedIn,
) -> Result<Result<(&'static Texts, String, Vec<String>), Response>, WebError> {
    let Some(codes) = unsaved_codes(state, session.user.id).await? else {
        return Ok(Err(Redirect::to(PAGE).into_response()));
    };
    let t = lang.or_org(session.org.lang);
    let who = format!(
        "{} ({})",
        session.user.username, state.settings.service_name
    );
    Ok(Ok((t, t.fill(t.recovery.codes_file_heading, who), codes)))
}

/// The unsaved set as a text file ("Downloaden (.txt)").
async fn download(
    State(state): State<AppState>,
    lang: Preferred,
    logged_in: LoggedIn,
) -> Result<Response, WebError> {
    let (t, heading, codes) = match unsaved_set(&state, &lang, logged_in).await? {
        Ok(set) => set,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let mut text = format!("{heading}\r\n{}\r\n\r\n", t.recovery.codes_file_use);
    for (i, code) in codes.iter().enumerate() {
        text.push_str(&format!("{:>2}. {code}\r\n", i + 1));
    }
    let name = match t.lang {
        crate::domain::lang::Lang::Nl => "herstelcodes.txt",
        crate::domain::lang::Lang::En => "recovery-codes.txt",
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        text,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "recovery_codes_print.html")]
struct PrintPage {
    t: &'static Texts,
    page: PageChrome,
    heading: String,
    codes: Vec<String>,
}

/// The unsaved set alone on a page, for the browser's print command ("Afdrukken").
async fn print_page(
    State(state): State<AppState>,
    lang: Preferred,
    logged_in: LoggedIn,
) -> Result<Response, WebError> {
    let (t, heading, codes) = match unsaved_set(&state, &lang, logged_in).await? {
        Ok(set) => set,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let page = PrintPage {
        t,
        page: chrome(&state, t, "/account/recovery-codes/print"),
        heading,
        codes,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
struct SavedForm {
    #[serde(default)]
    csrf: String,
    saved: Option<String>,
}

/// "Ik heb mijn herstelcodes bewaard" → VERDER: the readable copy goes, and the user goes on
/// to where the login was heading.
async fn saved(
    State(state): State<AppState>,
    lang: Preferred,
    LoggedIn(session): LoggedIn,
    jar: CookieJar,
    ProtectedForm(form): ProtectedForm<SavedForm>,
) -> Result<Response, WebError> {
    if form.saved.is_none() {
        let t = lang.or_org(session.org.lang);
        let error = Some(t.recovery.codes_saved_missing.to_owned());
        let html = render(&state, t, &session, &jar, form.csrf.clone(), None, error).await?;
        let origin = crate::http::continuation::form_action_origin(&state, &jar).await;
        let page = (StatusCode::UNPROCESSABLE_ENTITY, Html(html));
        return Ok(crate::http::with_form_action(page, origin.as_deref()));
    }
    state
        .store
        .forget_recovery_codes_reveal(session.user.id)
        .await?;
    let next = crate::http::continuation::after_login(&state, &jar);
    Ok(Redirect::to(&next).into_response())
}

/// NIEUWE HERSTELCODES: a new set after the app's current code; the old set dies with it.
async fn regenerate(
    State(state): State<AppState>,
    lang: Preferred,
    LoggedIn(session): LoggedIn,
    ClientAddress(client): ClientAddress,
    jar: CookieJar,
    ProtectedForm(form): ProtectedForm<CodeForm>,
) -> Result<Response, WebError> {
    let t = lang.or_org(session.org.lang);
    let user = &session.user;
    let record = AuditRecord::new(
        state.clock.now(),
        AuditEvent::RecoveryCodesCreated,
        Outcome::Failure,
    )
    .user(session.org.id, user.id, &user.username)
    .client(&client);
    let codes = second_step::new_recovery_codes(&state, user.id);
    let confirmed = crate::login::confirm::with_code(
        &state,
        t,
        &session,
        &client,
        &form.code,
        record,
        |then| {
            then.recovery_codes = Some(codes);
        },
    )
    .await?;
    let refused = match confirmed {
        None | Some(Ok(())) => return Ok(Redirect::to(PAGE).into_response()),
        Some(Err(refused)) => refused,
    };
    let status = refused.status();
    let html = render(
        &state,
        t,
        &session,
        &jar,
        form.csrf.clone(),
        None,
        Some(refused.message),
    )
    .await?;
    Ok((status, Html(html)).into_response())
}

#[derive(Template)]
#[template(path = "recovery_use.html")]
struct UsePage {
    t: &'static Texts,
    page: PageChrome,
    csrf: String,
    error: Option<String>,
}

fn render_use_page(
    state: &AppState,
    t: &'static Texts,
    csrf: String,
    error: Option<String>,
) -> Result<String, WebError> {
    let page = UsePage {
        t,
        page: chrome(state, t, "/2fa/recovery"),
        csrf,
        error,
    };
    Ok(page.render()?)
}

/// Whether the half-logged-in user can use a herstelcode: only with an active app.
async fn has_active_app(state: &AppState, user: UserId) -> Result<bool, WebError> {
    Ok(state
        .store
        .totp_credential(user)
        .await?
        .is_some_and(|c| c.active))
}

async fn use_page(
    State(state): State<AppState>,
    lang: Preferred,
    HalfLoggedIn(session): HalfLoggedIn,
    jar: CookieJar,
) -> Result<Response, WebError> {
    if !has_active_app(&state, session.user.id).await? {
        return Ok(Redirect::to("/2fa").into_response());
    }
    let t = lang.or_org(session.org.lang);
    let (jar, csrf) = token_for_page(&state, jar);
    let html = render_use_page(&state, t, csrf, None)?;
    let origin = crate::http::continuation::form_action_origin(&state, &jar).await;
    Ok(crate::http::with_form_action(
        (jar, Html(html)),
        origin.as_deref(),
    ))
}

/// A herstelcode as the second step of a login.
async fn use_code(
    State(state): State<AppState>,
    lang: Preferred,
    HalfLoggedIn(session): HalfLoggedIn,
    ClientAddress(client): ClientAddress,
    jar: CookieJar,
    ProtectedForm(form): ProtectedForm<CodeForm>,
) -> Result<Response, WebError> {
    let t = lang.or_org(session.org.lang);
    let attempt = CodeAttempt {
        session: &session,
        client: &client,
        typed: &form.code,
        remember: None,
    };
    let outcome = second_step::with_recovery_code(&state, t, attempt).await?;
    let (status, error, jar) = match step_answer(&state, &session, &client, jar, outcome).await? {
        Ok(answer) => return Ok(answer),
        Err(shown_again) => shown_again,
    };
    let (jar, csrf) = token_for_page(&state, jar);
    let html = render_use_page(&state, t, csrf, Some(error))?;
    let origin = crate::http::continuation::form_action_origin(&state, &jar).await;
    Ok(crate::http::with_form_action(
        (status, jar, Html(html)),
        origin.as_deref(),
    ))
}
