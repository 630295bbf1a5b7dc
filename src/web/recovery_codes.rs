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

use super::attempts::{self, Admitted};
use super::csrf::{CsrfField, ProtectedForm, token_for_page};
use super::lang::{Preferred, chrome};
use super::second_factor::{CodeForm, too_many_codes};
use super::session::{self, CurrentSession, HalfLoggedIn};
use super::totp_check;
use super::{AppState, ClientAddress, PageChrome, WebError};
use crate::domain::account::LoginStage;
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::login_method::LoginMethod;
use crate::domain::recovery::{self, FEW_CODES_LEFT, RecoveryCode};
use crate::domain::second_factor::MAX_WRONG_CODES;
use crate::mail::compose;
use crate::oidc;
use crate::store::{NewRecoveryCodes, Session, UserId};
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

/// A new set for `user`: the digests to store, and the codes sealed until they are saved.
pub fn new_set(state: &AppState, user: UserId) -> NewRecoveryCodes {
    let mut rng = rand::rngs::OsRng;
    let codes = recovery::new_set(&mut rng);
    let text = recovery::join_set(&codes);
    NewRecoveryCodes {
        user,
        digests: codes.iter().map(|c| c.digest(user)).collect(),
        reveal: state
            .keyring
            .seal_recovery_codes(user, text.as_bytes(), &mut rng),
    }
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
    current: CurrentSession,
    Query(query): Query<PageQuery>,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let Some(session) = current.complete() else {
        return Ok(Redirect::to("/login").into_response());
    };
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
    let origin = oidc::form_action_origin(&state, &jar).await;
    Ok(oidc::with_form_action((jar, Html(html)), origin.as_deref()))
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
        page: chrome(state, t, PAGE),
        csrf,
        codes: unsaved_codes(state, user).await?,
        left: state.store.recovery_codes_left(user).await?,
        two_step,
        notice,
        error,
        next: oidc::resume_target(state, jar).unwrap_or_else(|| "/".into()),
    };
    Ok(page.render()?)
}

/// The unsaved set with its heading ("Herstelcodes van jan (Poortwachter)") for the download
/// and the print page; otherwise where to go instead (no login, or nothing unsaved).
async fn unsaved_set(
    state: &AppState,
    lang: &Preferred,
    current: CurrentSession,
) -> Result<Result<(&'static Texts, String, Vec<String>), Response>, WebError> {
    let Some(session) = current.complete() else {
        return Ok(Err(Redirect::to("/login").into_response()));
    };
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
    current: CurrentSession,
) -> Result<Response, WebError> {
    let (t, heading, codes) = match unsaved_set(&state, &lang, current).await? {
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
    current: CurrentSession,
) -> Result<Response, WebError> {
    let (t, heading, codes) = match unsaved_set(&state, &lang, current).await? {
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

impl CsrfField for SavedForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// "Ik heb mijn herstelcodes bewaard" → VERDER: the readable copy goes, and the user goes on
/// to where the login was heading.
async fn saved(
    State(state): State<AppState>,
    lang: Preferred,
    current: CurrentSession,
    jar: CookieJar,
    ProtectedForm(form): ProtectedForm<SavedForm>,
) -> Result<Response, WebError> {
    let Some(session) = current.complete() else {
        return Ok(Redirect::to("/login").into_response());
    };
    if form.saved.is_none() {
        let t = lang.or_org(session.org.lang);
        let error = Some(t.recovery.codes_saved_missing.to_owned());
        let html = render(&state, t, &session, &jar, form.csrf.clone(), None, error).await?;
        let origin = oidc::form_action_origin(&state, &jar).await;
        let page = (StatusCode::UNPROCESSABLE_ENTITY, Html(html));
        return Ok(oidc::with_form_action(page, origin.as_deref()));
    }
    state
        .store
        .forget_recovery_codes_reveal(session.user.id)
        .await?;
    let next = oidc::resume_target(&state, &jar).unwrap_or_else(|| "/".into());
    Ok(Redirect::to(&next).into_response())
}

/// NIEUWE HERSTELCODES: a new set after the app's current code; the old set dies with it.
async fn regenerate(
    State(state): State<AppState>,
    lang: Preferred,
    current: CurrentSession,
    ClientAddress(client): ClientAddress,
    jar: CookieJar,
    ProtectedForm(form): ProtectedForm<CodeForm>,
) -> Result<Response, WebError> {
    let Some(session) = current.complete() else {
        return Ok(Redirect::to("/login").into_response());
    };
    let t = lang.or_org(session.org.lang);
    let user = &session.user;
    let record = AuditRecord::new(
        state.clock.now(),
        AuditEvent::RecoveryCodesCreated,
        Outcome::Failure,
    )
    .user(session.org.id, user.id, &user.username)
    .client(&client);
    let codes = new_set(&state, user.id);
    let confirmed =
        totp_check::confirm_with_code(&state, t, &session, &client, &form.code, record, |then| {
            then.recovery_codes = Some(codes);
        })
        .await?;
    let refused = match confirmed {
        None | Some(Ok(())) => return Ok(Redirect::to(PAGE).into_response()),
        Some(Err(refused)) => refused,
    };
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
    Ok((refused.status, Html(html)).into_response())
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
    let origin = oidc::form_action_origin(&state, &jar).await;
    Ok(oidc::with_form_action((jar, Html(html)), origin.as_deref()))
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
    let user = &session.user;
    if !has_active_app(&state, user.id).await? {
        return Ok(Redirect::to("/2fa").into_response());
    }
    // Where passkeys are required, a herstelcode passes no more than the app's code does.
    let (steps, _) = super::passkeys::second_steps_of(&state, &session).await?;
    if !steps.app {
        return Ok(Redirect::to("/2fa").into_response());
    }
    let t = lang.or_org(session.org.lang);
    let record = AuditRecord::new(
        state.clock.now(),
        AuditEvent::RecoveryCodeUsed,
        Outcome::Failure,
    )
    .user(session.org.id, user.id, &user.username)
    .client(&client)
    .detail("login");
    let admitted = attempts::admit(
        &state,
        &client,
        Some(&user.username),
        Some(&session.id_hash),
    )
    .await?;
    let attempt = match admitted {
        Admitted::Yes(attempt) => attempt,
        Admitted::No { until } => {
            let wait = attempts::refused(&state, t, record, until).await?;
            let html = render_use_page(&state, t, form.csrf.clone(), Some(wait))?;
            return Ok((StatusCode::TOO_MANY_REQUESTS, Html(html)).into_response());
        }
    };
    let attempts = attempt.session_codes.unwrap_or(i64::MAX);
    if attempts > MAX_WRONG_CODES {
        return too_many_codes(&state, &session, &client, jar).await;
    }
    let now = state.clock.now();
    if let Some(code) = RecoveryCode::parse(&form.code) {
        // Left after this one (parallel uses can only make it fewer: the page reads again).
        let left = state.store.recovery_codes_left(user.id).await? - 1;
        let warning = if left < FEW_CODES_LEFT {
            let t_org = Texts::of(session.org.lang);
            let body = t_org.fill(
                &t_org.fill(t_org.recovery.few_body, &user.username),
                left.max(0),
            );
            Some(
                compose::notice(
                    &state.settings.mail_from,
                    compose::mailbox(&user.display_name, &user.email)
                        .map_err(anyhow::Error::from)?,
                    session.org.lang,
                    &state.settings.service_name,
                    t_org.recovery.few_subject,
                    &body,
                )
                .map_err(anyhow::Error::from)?,
            )
        } else {
            None
        };
        let (logged_in, next) = session::fresh(
            &state,
            jar.clone(),
            user.id,
            if steps.must_add_passkey {
                LoginStage::PasskeyRequired
            } else {
                LoginStage::Complete
            },
            Some(LoginMethod::PasswordAndRecoveryCode),
        );
        let mut then = attempt.succeeded(true, now);
        then.session = Some(next);
        then.mail = warning.as_ref();
        then.audit.push(AuditRecord {
            outcome: Outcome::Success,
            at: now,
            ..record.clone()
        });
        if state
            .store
            .use_recovery_code(user.id, &code.digest(user.id), &then)
            .await?
        {
            if warning.is_some() {
                state.outbox_wake.notify_one();
            }
            if steps.must_add_passkey {
                return Ok((logged_in, Redirect::to(super::passkeys::PAGE)).into_response());
            }
            let page = format!("{PAGE}?notice=used");
            return Ok((logged_in, Redirect::to(&page)).into_response());
        }
    }
    let record = AuditRecord { at: now, ..record };
    attempt
        .failed(&state, Some((user, session.org.lang)), record)
        .await?;
    if attempts >= MAX_WRONG_CODES {
        return too_many_codes(&state, &session, &client, jar).await;
    }
    let error = Some(t.recovery.use_wrong.to_owned());
    let html = render_use_page(&state, t, form.csrf.clone(), error)?;
    let origin = oidc::form_action_origin(&state, &jar).await;
    Ok(oidc::with_form_action(
        (StatusCode::UNAUTHORIZED, Html(html)),
        origin.as_deref(),
    ))
}
