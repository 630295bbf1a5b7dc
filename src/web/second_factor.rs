//! The second login step: choose AUTHENTICATOR APP, set it up from the e-mail (with
//! "Nieuwe code"), and type the app's code (INLOGGEN).
//!
//! Only a session that passed the password step reaches these pages; the login completes
//! (with a new session id) only when a code is accepted.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::devices::{self, UserAgent};
use super::passkeys;
use super::recovery_codes;
use super::setup_mail::{new_code_wait, start_setup};
use crate::domain::account::EmailAddress;
use crate::domain::passkey::Requirement;
use crate::http::csrf::{CsrfOnly, ProtectedForm, token_for_page};
use crate::http::lang::{Preferred, chrome_of_org};
use crate::http::session::{self, HalfLoggedIn};
use crate::http::{AppState, ClientAddress, PageChrome, WebError};
use crate::login::second_step::{self, AfterStep, CodeAttempt, StepOutcome};
use crate::login::totp_check;
use crate::store::{Session, SetupOutcome, TotpCredential};
use crate::texts::Texts;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/2fa", get(choose_page))
        .route("/2fa/app", get(code_page).post(choose_app))
        .route("/2fa/app/verify", post(verify))
        .route("/2fa/app/new", post(new_code))
}

/// A way to do the second step: AUTHENTICATOR APP, PASSKEY.
struct Method {
    label: &'static str,
    hint: &'static str,
    action: &'static str,
}

#[derive(Template)]
#[template(path = "choose.html")]
struct ChoosePage {
    t: &'static Texts,
    page: PageChrome,
    csrf: String,
    methods: Vec<Method>,
    notice: Option<&'static str>,
    /// The organization's deadline for adding a passkey, while it lies ahead.
    grace: Option<String>,
}

#[derive(Template)]
#[template(path = "totp_code.html")]
struct CodePage {
    t: &'static Texts,
    page: PageChrome,
    csrf: String,
    setup: bool,
    /// Days the browser may be remembered for; 0: the organization does not allow it.
    remember_days: u8,
    masked_email: String,
    notice: Option<String>,
    error: Option<String>,
}

async fn choose_page(
    State(state): State<AppState>,
    lang: Preferred,
    HalfLoggedIn(session): HalfLoggedIn,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let t = lang.or_org(session.org.lang);
    let (jar, csrf) = token_for_page(&state, jar);
    let (steps, requirement) = second_step::available(&state, &session).await?;
    let mut methods = Vec::new();
    if steps.app {
        methods.push(Method {
            label: t.method_app,
            hint: t.method_app_hint,
            action: "/2fa/app",
        });
    }
    if steps.passkey {
        methods.push(Method {
            label: t.passkeys.method,
            hint: t.passkeys.method_hint,
            action: "/2fa/passkey/choose",
        });
    }
    let page = ChoosePage {
        t,
        page: chrome_of_org(&state, t, "/2fa", &session.org),
        csrf,
        methods,
        notice: (!steps.app).then_some(t.passkeys.only_passkey),
        grace: match requirement {
            Requirement::Grace { until } if !steps.passkey => Some(t.moment(until)),
            _ => None,
        },
    };
    Ok((jar, Html(page.render()?)).into_response())
}

/// AUTHENTICATOR APP chosen: on the first login this sends the set-up e-mail automatically.
async fn choose_app(
    State(state): State<AppState>,
    HalfLoggedIn(session): HalfLoggedIn,
    ClientAddress(client): ClientAddress,
    ProtectedForm(_): ProtectedForm<CsrfOnly>,
) -> Result<Response, WebError> {
    if !second_step::available(&state, &session).await?.0.app {
        return Ok(Redirect::to("/2fa").into_response());
    }
    let credential = state.store.totp_credential(session.user.id).await?;
    let now = state.clock.now();
    let needs_mail = match &credential {
        None => true,
        Some(c) => !c.active && !totp_check::setup_usable(c, now),
    };
    if needs_mail {
        // The page itself says the e-mail was sent: no extra notice the first time.
        let outcome = start_setup(&state, &session, &client, "first").await?;
        return Ok(setup_redirect(outcome, "/2fa/app"));
    }
    Ok(Redirect::to("/2fa/app").into_response())
}

/// Where to go after a set-up mail was requested; `on_sent` is the page when it went out.
/// A refusal only says "wait": the page works out how long from the store, so no link can
/// make it show a waiting time of its choosing.
fn setup_redirect(outcome: SetupOutcome, on_sent: &str) -> Response {
    match outcome {
        SetupOutcome::Started => Redirect::to(on_sent).into_response(),
        SetupOutcome::RateLimited => Redirect::to("/2fa/app?notice=wait").into_response(),
        SetupOutcome::AlreadyActive | SetupOutcome::NothingToReplace => {
            Redirect::to("/2fa/app").into_response()
        }
    }
}

#[derive(Deserialize)]
struct CodePageQuery {
    notice: Option<String>,
}

async fn code_page(
    State(state): State<AppState>,
    lang: Preferred,
    HalfLoggedIn(session): HalfLoggedIn,
    Query(query): Query<CodePageQuery>,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let Some(credential) = state.store.totp_credential(session.user.id).await? else {
        return Ok(Redirect::to("/2fa").into_response());
    };
    let t = lang.or_org(session.org.lang);
    let now = state.clock.now();
    let notice = match query.notice.as_deref() {
        Some("wait") => new_code_wait(&state, session.user.id, now)
            .await?
            .map(|seconds| t.fill(t.new_code_wait, t.wait_time(seconds))),
        Some("sent") if !credential.active => Some(t.new_code_sent.to_owned()),
        _ => None,
    };
    let error = (!credential.active && !totp_check::setup_usable(&credential, now))
        .then(|| t.setup_expired.to_owned());
    let (jar, csrf) = token_for_page(&state, jar);
    let html = render_code_page(&state, t, &session, &credential, csrf, notice, error)?;
    let origin = crate::http::continuation::form_action_origin(&state, &jar).await;
    Ok(crate::http::with_form_action(
        (jar, Html(html)),
        origin.as_deref(),
    ))
}

fn render_code_page(
    state: &AppState,
    t: &'static Texts,
    session: &Session,
    credential: &TotpCredential,
    csrf: String,
    notice: Option<String>,
    error: Option<String>,
) -> Result<String, WebError> {
    let masked_email = EmailAddress::parse(&session.user.email)
        .map(|e| e.masked())
        .unwrap_or_default();
    let page = CodePage {
        t,
        page: chrome_of_org(state, t, "/2fa/app", &session.org),
        csrf,
        setup: !credential.active,
        remember_days: if credential.active {
            session.org.self_service.remember_device_days
        } else {
            0
        },
        masked_email,
        notice,
        error,
    };
    Ok(page.render()?)
}

#[derive(Deserialize)]
pub(super) struct CodeForm {
    #[serde(default)]
    pub(super) csrf: String,
    pub(super) code: String,
    /// "Dit apparaat onthouden", ticked.
    #[serde(default)]
    pub(super) remember: Option<String>,
}

async fn verify(
    State(state): State<AppState>,
    lang: Preferred,
    HalfLoggedIn(session): HalfLoggedIn,
    ClientAddress(client): ClientAddress,
    UserAgent(user_agent): UserAgent,
    jar: CookieJar,
    ProtectedForm(form): ProtectedForm<CodeForm>,
) -> Result<Response, WebError> {
    let t = lang.or_org(session.org.lang);
    let attempt = CodeAttempt {
        session: &session,
        client: &client,
        typed: &form.code,
        remember: form.remember.is_some().then_some(user_agent.as_str()),
    };
    let outcome = second_step::with_app(&state, t, attempt).await?;
    let (status, error, jar) = match step_answer(&state, &session, &client, jar, outcome).await? {
        Ok(answer) => return Ok(answer),
        Err(shown_again) => shown_again,
    };
    let Some(credential) = state.store.totp_credential(session.user.id).await? else {
        return Ok(Redirect::to("/2fa").into_response());
    };
    let (jar, csrf) = token_for_page(&state, jar);
    let html = render_code_page(&state, t, &session, &credential, csrf, None, Some(error))?;
    let origin = crate::http::continuation::form_action_origin(&state, &jar).await;
    Ok(crate::http::with_form_action(
        (status, jar, Html(html)),
        origin.as_deref(),
    ))
}

/// What a second step's outcome answers: the next page (a passed step sets the new session's
/// cookie, and a remembered device's), or — for a refusal — the status and message with which
/// the caller shows its form again.
pub(super) async fn step_answer(
    state: &AppState,
    session: &Session,
    client: &str,
    jar: CookieJar,
    outcome: StepOutcome,
) -> Result<Result<Response, (StatusCode, String, CookieJar)>, WebError> {
    let (token, device, next) = match outcome {
        StepOutcome::Passed {
            session: token,
            device,
            next,
        } => (token, device, next),
        StepOutcome::Unavailable => return Ok(Ok(Redirect::to("/2fa").into_response())),
        StepOutcome::TooManyCodes => {
            return too_many_codes(state, session, client, jar).await.map(Ok);
        }
        StepOutcome::Waiting(wait) => return Ok(Err((StatusCode::TOO_MANY_REQUESTS, wait, jar))),
        StepOutcome::Refused(wrong) => return Ok(Err((StatusCode::UNAUTHORIZED, wrong, jar))),
    };
    let mut logged_in = session::with_session(state, jar.clone(), &token);
    if let Some((token, days)) = device {
        logged_in = logged_in.add(devices::cookie(state, &token, days));
    }
    let target = next_page(state, &jar, next);
    Ok(Ok((logged_in, Redirect::to(&target)).into_response()))
}

/// The page a passed step leads to. Every page on the way keeps the waiting authorization
/// request, so that the last one's VERDER still goes back to the application.
pub(super) fn next_page(state: &AppState, jar: &CookieJar, next: AfterStep) -> String {
    match next {
        AfterStep::AddPasskey => passkeys::PAGE.to_owned(),
        AfterStep::SaveRecoveryCodes => recovery_codes::PAGE.to_owned(),
        AfterStep::RecoveryCodeUsed => format!("{}?notice=used", recovery_codes::PAGE),
        // Back to the application that sent the user here, if one did.
        AfterStep::Continue => crate::http::continuation::after_login(state, jar),
    }
}

async fn too_many_codes(
    state: &AppState,
    session: &Session,
    client: &str,
    jar: CookieJar,
) -> Result<Response, WebError> {
    session::record_end(state, session, client, "too_many_codes").await?;
    let jar = session::end(state, jar).await?;
    Ok((jar, Redirect::to("/login?notice=too_many_codes")).into_response())
}

/// "Nieuwe code": a new secret and e-mail while set-up is pending. An account whose
/// two-step verification is active cannot restart set-up here; an administrator resets it.
async fn new_code(
    State(state): State<AppState>,
    HalfLoggedIn(session): HalfLoggedIn,
    ClientAddress(client): ClientAddress,
    ProtectedForm(_): ProtectedForm<CsrfOnly>,
) -> Result<Response, WebError> {
    let credential = state.store.totp_credential(session.user.id).await?;
    if credential.is_some_and(|c| c.active) {
        return Ok(Redirect::to("/2fa/app").into_response());
    }
    let outcome = start_setup(&state, &session, &client, "new_code").await?;
    Ok(setup_redirect(outcome, "/2fa/app?notice=sent"))
}
