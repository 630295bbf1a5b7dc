//! Toegang controleren (`/toegang`): the test login the look-ahead mail links to. Opening it
//! starts a test login (see `http::access_check`); the login pages ask for password and
//! second step as always and come back here, where the user reads whether all is well or
//! what to fix (new herstelcodes, a new phone) — with the links to do it. Nothing else
//! happens: no application is opened, nothing about the account changes.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;

use crate::admin::{describe, readiness_for};
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::expected_login::{UserFix, user_fix};
use crate::domain::readiness::Readiness;
use crate::http::access_check::{self, PAGE};
use crate::http::lang::{Preferred, chrome, chrome_of_org};
use crate::http::session::CurrentSession;
use crate::http::{AppState, ClientAddress, PageChrome, WebError};
use crate::store::Session;
use crate::texts::{Texts, access};

pub fn router() -> Router<AppState> {
    Router::new().route(PAGE, get(check_page))
}

#[derive(Template)]
#[template(path = "access.html")]
struct AccessPage {
    t: &'static Texts,
    page: PageChrome,
    /// `None`: the test login has not happened yet (the intro and INLOGGEN).
    result: Option<CheckResult>,
}

struct CheckResult {
    ready: bool,
    /// The next expected login's day, if there is one.
    next: Option<String>,
    items: Vec<Item>,
}

struct Item {
    text: &'static str,
    /// The fix's words and where it is; `None`: the employer helps.
    fix: Option<(&'static str, &'static str)>,
}

fn fix_path(fix: UserFix) -> &'static str {
    match fix {
        UserFix::NewRecoveryCodes | UserFix::SaveRecoveryCodes => super::recovery_codes::PAGE,
        UserFix::NewPhone => super::new_phone::PAGE,
    }
}

async fn check_page(
    State(state): State<AppState>,
    lang: Preferred,
    current: CurrentSession,
    ClientAddress(client): ClientAddress,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let now = state.clock.now();
    let check = access_check::read(&state, &jar);
    // The login this test asked for has happened (a reload of the result too).
    let tested = current
        .complete()
        .filter(|s| check.is_some_and(|c| s.created_at >= c.started));
    let (Some(session), Some(check)) = (tested, check) else {
        let t = lang.texts();
        let jar = access_check::start(&state, jar);
        let page = AccessPage {
            t,
            page: chrome(&state, t, PAGE),
            result: None,
        };
        return Ok((jar, Html(page.render()?)).into_response());
    };
    let t = lang.or_org(session.org.lang);
    let (result, readiness) = judge(&state, t, &session).await?;
    let jar = if check.done {
        jar
    } else {
        // The test login is done: recorded once; the next login goes on as usual.
        let record = AuditRecord::new(now, AuditEvent::AccessChecked, Outcome::Success)
            .user(session.user.org_id, session.user.id, &session.user.username)
            .client(&client)
            .detail(describe(&readiness));
        state.store.record_audit(&[record]).await?;
        access_check::finish(&state, jar, check)
    };
    let page = AccessPage {
        t,
        page: chrome_of_org(&state, t, PAGE, &session.org),
        result: Some(result),
    };
    Ok((jar, Html(page.render()?)).into_response())
}

/// The user's next expected login, and their readiness for it.
async fn next_and_readiness(
    state: &AppState,
    session: &Session,
) -> Result<(Option<i64>, Readiness), WebError> {
    let now = state.clock.now();
    let next = state
        .store
        .expected_logins_of_user(session.user.id)
        .await?
        .into_iter()
        .map(|e| e.due_at)
        .find(|due| *due > now);
    let access = state
        .store
        .user_access(session.user.id)
        .await?
        .ok_or(WebError::NotFound)?;
    Ok((next, readiness_for(&access, now, next)))
}

async fn judge(
    state: &AppState,
    t: &'static Texts,
    session: &Session,
) -> Result<(CheckResult, Readiness), WebError> {
    let (next, readiness) = next_and_readiness(state, session).await?;
    let items = readiness
        .reasons()
        .iter()
        .map(|reason| Item {
            text: access::for_user(t.lang, *reason),
            fix: user_fix(*reason).map(|fix| (access::fix_words(t.lang, fix), fix_path(fix))),
        })
        .collect();
    let result = CheckResult {
        ready: readiness == Readiness::Ready,
        next: next.map(|at| t.day(at)),
        items,
    };
    Ok((result, readiness))
}
