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

use crate::domain::account::LoginStage;
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::password::{Requirement, personal_words};
use crate::http::csrf::{ProtectedForm, token_for_page};
use crate::http::lang::{Preferred, chrome_of_org};
use crate::http::session::{self, LoggedIn};
use crate::http::{AppState, ClientAddress, PageChrome, WebError};
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
        page: chrome_of_org(state, t, "/password", &session.org),
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
    LoggedIn(session): LoggedIn,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let t = lang.or_org(session.org.lang);
    let (jar, csrf) = token_for_page(&state, jar);
    let html = render(&state, t, &session, csrf, Problems::default())?;
    Ok((jar, Html(html)).into_response())
}

async fn change(
    State(state): State<AppState>,
    lang: Preferred,
    LoggedIn(session): LoggedIn,
    ClientAddress(client): ClientAddress,
    jar: CookieJar,
    ProtectedForm(form): ProtectedForm<ChangeForm>,
) -> Result<Response, WebError> {
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
        crate::login::confirm::with_password(&state, t, &session, &client, &form.current, &record)
            .await?
    {
        let status = refused.status();
        let problems = Problems {
            current: Some(refused.message),
            ..Problems::default()
        };
        return shown_again(status, problems);
    }
    let now = state.clock.now();

    let hash = state.hasher.hash(new).await?;
    let notice = compose::notice_to_user(&state.settings, user, &session.org, |t| {
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
