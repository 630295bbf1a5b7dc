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

use super::attempts::{self, Admitted};
use super::csrf::{CsrfField, CsrfOnly, ProtectedForm, token_for_page};
use super::devices::{self, UserAgent};
use super::lang::{Preferred, chrome};
use super::passkeys;
use super::recovery_codes;
use super::session::{self, HalfLoggedIn};
use super::setup_mail::{new_code_wait, start_setup};
use super::totp_check::{self, Refusal};
use super::{AppState, ClientAddress, PageChrome, WebError};
use crate::domain::account::{EmailAddress, LoginStage};
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::login_method::LoginMethod;
use crate::domain::passkey::Requirement;
use crate::domain::second_factor::MAX_WRONG_CODES;
use crate::mail::compose;
use crate::oidc;
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
    let (steps, requirement) = passkeys::second_steps_of(&state, &session).await?;
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
        page: chrome(&state, t, "/2fa"),
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

fn is_pending_and_usable(credential: &TotpCredential, now: i64) -> bool {
    !credential.active && credential.expires_at.is_some_and(|at| now < at)
}

/// AUTHENTICATOR APP chosen: on the first login this sends the set-up e-mail automatically.
async fn choose_app(
    State(state): State<AppState>,
    HalfLoggedIn(session): HalfLoggedIn,
    ClientAddress(client): ClientAddress,
    ProtectedForm(_): ProtectedForm<CsrfOnly>,
) -> Result<Response, WebError> {
    if !passkeys::second_steps_of(&state, &session).await?.0.app {
        return Ok(Redirect::to("/2fa").into_response());
    }
    let credential = state.store.totp_credential(session.user.id).await?;
    let now = state.clock.now();
    let needs_mail = match &credential {
        None => true,
        Some(c) => !c.active && !is_pending_and_usable(c, now),
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
    let error = (!credential.active && !is_pending_and_usable(&credential, now))
        .then(|| t.setup_expired.to_owned());
    let (jar, csrf) = token_for_page(&state, jar);
    let html = render_code_page(&state, t, &session, &credential, csrf, notice, error)?;
    let origin = oidc::form_action_origin(&state, &jar).await;
    Ok(oidc::with_form_action((jar, Html(html)), origin.as_deref()))
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
        page: chrome(state, t, "/2fa/app"),
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

impl CsrfField for CodeForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
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
    let user_id = session.user.id;
    let t = lang.or_org(session.org.lang);
    // Where the organization requires passkeys, the app's code no longer passes (for a
    // user with a passkey), or passes only on to adding one.
    let (steps, _) = passkeys::second_steps_of(&state, &session).await?;
    if !steps.app {
        return Ok(Redirect::to("/2fa").into_response());
    }
    let stage = if steps.must_add_passkey {
        LoginStage::PasskeyRequired
    } else {
        LoginStage::Complete
    };
    let Some(credential) = state.store.totp_credential(user_id).await? else {
        return Ok(Redirect::to("/2fa").into_response());
    };
    let record = AuditRecord::new(state.clock.now(), AuditEvent::LoginCode, Outcome::Failure)
        .user(session.org.id, user_id, &session.user.username)
        .client(&client);
    // Counted before checking, for the account across all its sessions (the throttle) …
    let username = Some(session.user.username.as_str());
    let admitted = attempts::admit(&state, &client, username, Some(&session.id_hash)).await?;
    let attempt = match admitted {
        Admitted::Yes(attempt) => attempt,
        Admitted::No { until } => {
            let wait = attempts::refused(&state, t, record, until).await?;
            let (jar, csrf) = token_for_page(&state, jar);
            let html = render_code_page(&state, t, &session, &credential, csrf, None, Some(wait))?;
            let origin = oidc::form_action_origin(&state, &jar).await;
            let page = (StatusCode::TOO_MANY_REQUESTS, jar, Html(html));
            return Ok(oidc::with_form_action(page, origin.as_deref()));
        }
    };
    // … and for this session, which must enter the password again after a few.
    let attempts = attempt.session_codes.unwrap_or(i64::MAX);
    if attempts > MAX_WRONG_CODES {
        return too_many_codes(&state, &session, &client, jar).await;
    }
    let now = state.clock.now();
    let pending = !credential.active;
    let outcome = if pending && !is_pending_and_usable(&credential, now) {
        Err(Refusal::new(t.setup_expired, Outcome::Expired))
    } else {
        totp_check::check(
            &state,
            t,
            user_id,
            &credential.sealed,
            credential.last_step,
            &form.code,
            now,
        )?
    };
    let error = match outcome {
        Ok(step) => {
            let notice = if pending {
                let lang = session.org.lang;
                Some(compose::notice_to_user(
                    &state.settings,
                    &session.user,
                    lang,
                    |t| (t.enabled_subject, t.enabled_body),
                )?)
            } else {
                None
            };
            // If the step is accepted, the login completes in the same transaction: a new
            // session, the account's count cleared, the audit lines and the notice.
            let (logged_in, next) = session::fresh(
                &state,
                jar.clone(),
                user_id,
                stage,
                Some(LoginMethod::PasswordAndApp),
            );
            let mut then = attempt.succeeded(true, now);
            then.mail = notice.as_ref();
            then.session = Some(next);
            let days = session.org.self_service.remember_device_days;
            let remembered = (form.remember.is_some() && !pending && days > 0).then(|| {
                let device = devices::remember(&state, user_id, &user_agent, days);
                then.audit.push(AuditRecord {
                    event: AuditEvent::DeviceRemembered,
                    outcome: Outcome::Success,
                    detail: Some(device.1.browser.clone().into()),
                    ..record.clone()
                });
                device
            });
            let logged_in = match remembered {
                Some((cookie, device)) => {
                    then.remember_device = Some(device);
                    logged_in.add(cookie)
                }
                None => logged_in,
            };
            if pending {
                then.audit.push(AuditRecord {
                    event: AuditEvent::TwoStepEnabled,
                    outcome: Outcome::Success,
                    ..record.clone()
                });
            }
            then.audit.push(AuditRecord {
                outcome: Outcome::Success,
                ..record.clone()
            });
            // The end of the set-up: the herstelcodes, shown next until the user saved them.
            if pending {
                then.recovery_codes = Some(recovery_codes::new_set(&state, user_id));
                then.audit.push(AuditRecord {
                    event: AuditEvent::RecoveryCodesCreated,
                    outcome: Outcome::Success,
                    ..record.clone()
                });
            }
            let accepted = state
                .store
                .accept_totp_step(user_id, &credential.sealed, step, pending, &then)
                .await?;
            if accepted {
                if steps.must_add_passkey {
                    state.outbox_wake.notify_one();
                    return Ok((logged_in, Redirect::to(passkeys::PAGE)).into_response());
                }
                if pending {
                    state.outbox_wake.notify_one();
                    return Ok((logged_in, Redirect::to(recovery_codes::PAGE)).into_response());
                }
                // Back to the application that sent the user here, if one did.
                let next = oidc::resume_target(&state, &jar).unwrap_or_else(|| "/".into());
                return Ok((logged_in, Redirect::to(&next)).into_response());
            }
            // Another request used this step first (or the secret was replaced meanwhile).
            Refusal::new(t.code_used, Outcome::Replayed)
        }
        Err(refusal) => refusal,
    };
    let Refusal {
        message: error,
        outcome,
    } = error;
    let user = Some((&session.user, session.org.lang));
    let record = AuditRecord {
        outcome,
        at: now,
        ..record
    };
    attempt.failed(&state, user, record).await?;
    if attempts >= MAX_WRONG_CODES {
        return too_many_codes(&state, &session, &client, jar).await;
    }
    let html = render_code_page(
        &state,
        t,
        &session,
        &credential,
        form.csrf.clone(),
        None,
        Some(error),
    )?;
    let origin = oidc::form_action_origin(&state, &jar).await;
    Ok(oidc::with_form_action(
        (StatusCode::UNAUTHORIZED, Html(html)),
        origin.as_deref(),
    ))
}

pub(super) async fn too_many_codes(
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
