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

use super::attempts::{self, Admitted};
use super::csrf::{CsrfField, CsrfOnly, ProtectedForm, token_for_page};
use super::devices;
use super::lang::{Preferred, chrome};
use super::session::{self, CurrentSession};
use super::{AppState, ClientAddress, PageChrome, WebError};
use crate::domain::account::{AccountState, LoginStage, Username};
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::login_method::LoginMethod;
use crate::domain::password::Password;
use crate::hashing::Verified;
use crate::store::Rehash;
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
    match current.0.as_ref().map(|s| s.stage) {
        Some(LoginStage::Complete) => {
            let next = crate::oidc::resume_target(&state, &jar).unwrap_or_else(|| "/".into());
            return Ok(Redirect::to(&next).into_response());
        }
        // Logged in but for the passkey the organization requires: that page first.
        Some(LoginStage::PasskeyRequired) => {
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
        username: query.username.as_deref().unwrap_or("").trim(),
        failed: false,
        notice,
        passkeys: state.relying_party.is_some(),
    };
    // A remembered device completes the login with the password: the redirect may then go
    // straight on to the application, whose origin the form must be allowed to reach.
    let origin = crate::oidc::form_action_origin(&state, &jar).await;
    Ok(crate::oidc::with_form_action(
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

impl CsrfField for LoginForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn login(
    State(state): State<AppState>,
    lang: Preferred,
    ClientAddress(client): ClientAddress,
    jar: CookieJar,
    ProtectedForm(form): ProtectedForm<LoginForm>,
) -> Result<Response, WebError> {
    // Anything that is not a valid username cannot be an account; it is not kept in the log
    // either (it might be a password typed into the wrong field).
    let username = Username::parse(&form.username).ok();
    let username = username.as_ref().map(Username::as_str);
    // Counted before the password is checked: parallel guesses each take a place.
    let admitted = attempts::admit(&state, &client, username, None).await?;
    let candidate = match username {
        Some(name) => state.store.login_candidate(name).await?,
        None => None,
    };
    let user = candidate
        .as_ref()
        .filter(|c| c.user.state == AccountState::Active);
    // The same hashing work in every case: a locked, unknown or inactive account is checked
    // against the dummy hash and answers in the same time as a wrong password.
    let stored_hash = match admitted {
        Admitted::Yes(_) => user.and_then(|c| c.password_hash.clone()),
        Admitted::No { .. } => None,
    };
    let verified = match Password::parse(&form.password) {
        Ok(password) => match state.hasher.verify_and_upgrade(password, stored_hash).await {
            Ok(verified) => verified,
            Err(busy) => {
                // Not checked (the hashing queue is full): the attempt gives its places back,
                // so a flood of 503s does not lock anyone out.
                if let Admitted::Yes(attempt) = admitted {
                    let now = state.clock.now();
                    state
                        .store
                        .settle_attempt(&attempt.succeeded(false, now))
                        .await?;
                }
                return Err(busy.into());
            }
        },
        // Longer than any password we accept, or untypable: refused before hashing,
        // whoever the user is.
        Err(_) => Verified::Wrong,
    };
    let valid = verified.is_right();
    let now = state.clock.now();
    let mut record =
        AuditRecord::new(now, AuditEvent::LoginPassword, Outcome::Failure).client(&client);
    match candidate.as_ref() {
        Some(c) => record = record.user(c.user.org_id, c.user.id, &c.user.username),
        None => record.username = username.map(str::to_owned),
    }
    match admitted {
        Admitted::Yes(attempt) => match user.filter(|_| valid) {
            Some(c) => {
                record.outcome = Outcome::Success;
                // The password alone never completes a login: the second step follows,
                // unless this browser is remembered for the user (then it was taken on this
                // browser before, within the organization's days).
                let remembered = devices::skips_code(&state, &jar, c.user.id).await?;
                let stage = if remembered {
                    LoginStage::Complete
                } else {
                    LoginStage::SecondFactor
                };
                let method = remembered.then_some(LoginMethod::PasswordOnRememberedDevice);
                let (jar, next) = session::fresh(&state, jar, c.user.id, stage, method);
                let mut settlement = attempt.succeeded(remembered, now);
                if remembered {
                    settlement.audit.push(record.clone());
                    record.event = AuditEvent::LoginCode;
                    record.detail = Some("remembered_device".into());
                }
                settlement.audit.push(record);
                settlement.session = Some(next);
                // Hashed anew with raised Argon2 settings: stored with the login step.
                if let (Verified::RightAndRehashed(new), Some(old)) =
                    (verified, c.password_hash.clone())
                {
                    settlement.rehash = Some(Rehash {
                        user: c.user.id,
                        old,
                        new,
                    });
                }
                state.store.settle_attempt(&settlement).await?;
                if remembered {
                    let next =
                        crate::oidc::resume_target(&state, &jar).unwrap_or_else(|| "/".into());
                    return Ok((jar, Redirect::to(&next)).into_response());
                }
                return Ok((jar, Redirect::to("/2fa")).into_response());
            }
            None => {
                if candidate.is_some() && user.is_none() {
                    record.detail = Some("account_not_active".into());
                }
                let real_user = user.map(|c| (&c.user, c.lang));
                attempt.failed(&state, real_user, record).await?;
            }
        },
        Admitted::No { until } => {
            // The wait is not shown: a locked account must look like a wrong password.
            attempts::refused(&state, lang.texts(), record, until).await?;
        }
    }
    // Wrong password, unknown or inactive account, or a locked one: one answer for all.
    let t = lang.texts();
    let page = LoginPage {
        t,
        page: chrome(&state, t, "/login"),
        csrf: form.csrf.clone(),
        username: form.username.trim(),
        failed: true,
        notice: None,
        passkeys: state.relying_party.is_some(),
    };
    let origin = crate::oidc::form_action_origin(&state, &jar).await;
    Ok(crate::oidc::with_form_action(
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
    current: CurrentSession,
    ClientAddress(client): ClientAddress,
    jar: CookieJar,
    ProtectedForm(_): ProtectedForm<CsrfOnly>,
) -> Result<Response, WebError> {
    let Some(session) = current.complete() else {
        return Ok(Redirect::to("/login").into_response());
    };
    let record = session::end_record(&state, &session, &client, "everywhere");
    state
        .store
        .end_sessions_of_user(session.user.id, &record)
        .await?;
    let jar = session::end(&state, jar).await?;
    Ok((jar, Redirect::to("/login?notice=logged_out_everywhere")).into_response())
}
