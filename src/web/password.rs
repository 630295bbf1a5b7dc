//! Changing the password of a logged-in user: the current password (checked under the same
//! throttle as a login), the new one under the organization's policy (OPSLAAN). Every other
//! session of the user ends, this browser gets a new session id, and the user is told by
//! e-mail (ASVS V2.1.5, V2.1.6, V3.3.3).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::attempts::{self, Admitted};
use super::csrf::{CsrfField, ProtectedForm, token_for_page};
use super::lang::{Preferred, chrome};
use super::session::{self, CurrentSession};
use super::totp_check::NotConfirmed;
use super::{AppState, ClientAddress, PageChrome, WebError};
use crate::domain::account::LoginStage;
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::password::{Password, Requirement, personal_words};
use crate::mail::compose;
use crate::store::Session;
use crate::texts::Texts;

pub fn router() -> Router<AppState> {
    Router::new().route("/password", get(change_page).post(change))
}

#[derive(Template)]
#[template(path = "password.html")]
struct ChangePage<'a> {
    t: &'static Texts,
    page: PageChrome,
    csrf: String,
    username: &'a str,
    requirements: Vec<Requirement>,
    current_error: Option<String>,
    errors: Vec<Requirement>,
    mismatch: bool,
}

#[derive(Deserialize)]
pub(super) struct ChangeForm {
    #[serde(default)]
    pub(super) csrf: String,
    pub(super) current: String,
    pub(super) password: String,
    pub(super) password_repeat: String,
}

impl CsrfField for ChangeForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// What went wrong with a submitted form, for the page that shows it again.
#[derive(Default)]
struct Problems {
    current: Option<String>,
    errors: Vec<Requirement>,
    mismatch: bool,
}

fn render(
    state: &AppState,
    t: &'static Texts,
    session: &Session,
    csrf: String,
    problems: Problems,
) -> Result<String, WebError> {
    let page = ChangePage {
        t,
        page: chrome(state, t, "/password"),
        csrf,
        username: &session.user.username,
        requirements: session.org.policy.requirements(),
        current_error: problems.current,
        errors: problems.errors,
        mismatch: problems.mismatch,
    };
    Ok(page.render()?)
}

async fn change_page(
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
    let html = render(&state, t, &session, csrf, Problems::default())?;
    Ok((jar, Html(html)).into_response())
}

async fn change(
    State(state): State<AppState>,
    lang: Preferred,
    current: CurrentSession,
    ClientAddress(client): ClientAddress,
    jar: CookieJar,
    ProtectedForm(form): ProtectedForm<ChangeForm>,
) -> Result<Response, WebError> {
    let Some(session) = current.complete() else {
        return Ok(Redirect::to("/login").into_response());
    };
    let t = lang.or_org(session.org.lang);
    let user = &session.user;
    let shown_again = |status: StatusCode, problems: Problems| -> Result<Response, WebError> {
        let html = render(&state, t, &session, form.csrf.clone(), problems)?;
        Ok((status, Html(html)).into_response())
    };

    // The new password first: a refusal here costs no hashing and no attempt.
    let personal = personal_words(&user.username, &user.email);
    let new = match session
        .org
        .policy
        .check_new(&form.password, &form.password_repeat, &personal)
    {
        Ok(new) => new,
        Err(refused) => {
            let problems = Problems {
                errors: refused.broken,
                mismatch: refused.mismatch,
                ..Problems::default()
            };
            return shown_again(StatusCode::UNPROCESSABLE_ENTITY, problems);
        }
    };

    // The current password, counted before it is checked, like a login.
    let record = AuditRecord::new(state.clock.now(), AuditEvent::PasswordSet, Outcome::Failure)
        .user(session.org.id, user.id, &user.username)
        .client(&client)
        .detail("change");
    if let Err(refused) =
        check_current(&state, t, &session, &client, &form.current, &record).await?
    {
        let problems = Problems {
            current: Some(refused.message),
            ..Problems::default()
        };
        return shown_again(refused.status, problems);
    }
    let now = state.clock.now();

    let hash = state.hasher.hash(new).await?;
    let notice = compose::notice_to_user(&state.settings, user, session.org.lang, |t| {
        (t.changed_subject, t.changed_body)
    })?;
    let record = AuditRecord {
        outcome: Outcome::Success,
        at: now,
        ..record
    };
    // A new session id for this browser as well (ASVS V3.2.1: new id at re-authentication).
    let (jar, (next, _)) = session::fresh(
        &state,
        jar,
        user.id,
        LoginStage::Complete,
        Some(session.method),
    );
    state
        .store
        .change_password(user.id, &hash, &next, &notice, &record)
        .await?;
    state.outbox_wake.notify_one();
    Ok((jar, Redirect::to("/?notice=password_changed")).into_response())
}

/// The logged-in user's current password, typed again (a password change, removing a
/// passkey): counted before it is checked, under the same throttle as a login. A wrong one
/// is recorded as `record`; a right one clears nothing else and records nothing.
pub(super) async fn check_current(
    state: &AppState,
    t: &Texts,
    session: &Session,
    client: &str,
    typed: &str,
    record: &AuditRecord,
) -> Result<Result<(), NotConfirmed>, WebError> {
    let user = &session.user;
    let attempt = match attempts::admit(state, client, Some(user.username.as_str()), None).await? {
        Admitted::Yes(attempt) => attempt,
        Admitted::No { until } => {
            let message = attempts::refused(state, t, record.clone(), until).await?;
            return Ok(Err(NotConfirmed {
                message,
                status: StatusCode::TOO_MANY_REQUESTS,
            }));
        }
    };
    let stored = state
        .store
        .login_candidate(&user.username)
        .await?
        .and_then(|c| c.password_hash);
    let right = match Password::parse(typed) {
        Ok(current) => match state.hasher.verify(current, stored).await {
            Ok(right) => right,
            Err(busy) => {
                // Not checked (the hashing queue is full): the attempt gives its places back.
                let released = attempt.succeeded(false, state.clock.now());
                state.store.settle_attempt(&released).await?;
                return Err(busy.into());
            }
        },
        Err(_) => false,
    };
    if !right {
        attempt
            .failed(state, Some((user, session.org.lang)), record.clone())
            .await?;
        return Ok(Err(NotConfirmed {
            message: t.current_wrong.to_owned(),
            status: StatusCode::UNAUTHORIZED,
        }));
    }
    let now = state.clock.now();
    state
        .store
        .settle_attempt(&attempt.succeeded(false, now))
        .await?;
    Ok(Ok(()))
}
