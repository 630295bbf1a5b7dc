//! "Wachtwoord vergeten?": the user types a username or e-mail address and always reads the
//! same answer, in the same time, whether an account exists, is only invited, locked or
//! disabled. The accounts are looked up and the mail queued after the answer has gone, in
//! the background (see `reset_link`), so neither the page nor its timing tells.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use crate::domain::account::Username;
use crate::domain::throttle::Subject;
use crate::http::csrf::{ProtectedForm, token_for_page};
use crate::http::lang::{Preferred, chrome};
use crate::http::{AppState, ClientAddress, PageChrome, WebError};
use crate::reset_link;
use crate::store::{Admission, ResetRequester, ThrottleCheck};
use crate::texts::Texts;

/// An e-mail address may name the accounts of one person at several employers; more than a
/// few is not a person.
const MAX_ACCOUNTS_PER_REQUEST: i64 = 5;
/// Longer than any username or e-mail address (RFC 5321: 254).
const MAX_LOGIN_CHARS: usize = 254;

pub fn router() -> Router<AppState> {
    Router::new().route("/password/forgot", get(forgot_page).post(request))
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    t: &'static Texts,
    page: PageChrome,
    csrf: String,
    sent: Option<String>,
    error: Option<String>,
}

fn render(
    state: &AppState,
    t: &'static Texts,
    csrf: String,
    sent: bool,
    error: Option<String>,
) -> Result<String, WebError> {
    let page = ForgotPage {
        t,
        page: chrome(state, t, "/password/forgot"),
        csrf,
        sent: sent.then(|| t.fill(t.recovery.forgot_sent, state.settings.reset_link_minutes)),
        error,
    };
    Ok(page.render()?)
}

async fn forgot_page(
    State(state): State<AppState>,
    lang: Preferred,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let t = lang.texts();
    let (jar, csrf) = token_for_page(&state, jar);
    let html = render(&state, t, csrf, false, None)?;
    Ok((jar, Html(html)).into_response())
}

#[derive(Deserialize)]
pub(super) struct ForgotForm {
    #[serde(default)]
    pub(super) csrf: String,
    pub(super) login: String,
}

async fn request(
    State(state): State<AppState>,
    lang: Preferred,
    ClientAddress(client): ClientAddress,
    ProtectedForm(form): ProtectedForm<ForgotForm>,
) -> Result<Response, WebError> {
    let t = lang.texts();
    let login = form.login.trim().to_lowercase();
    if login.is_empty()
        || login.chars().count() > MAX_LOGIN_CHARS
        || login.contains(char::is_control)
    {
        let error = Some(t.recovery.forgot_invalid.to_owned());
        let html = render(&state, t, form.csrf.clone(), false, error)?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
    }
    // Requests from one address count under their own subject (a free share, then growing
    // waits): the answer is the same for every account, so this tells nothing about one.
    let policy = state.settings.address_throttle();
    let check = ThrottleCheck {
        subject: format!("reset-{}", Subject::address(&client).key()),
        policy: &policy,
    };
    let now = state.clock.now();
    if let Admission::Blocked { until } = state.store.reserve_attempt(&[check], None, now).await? {
        let wait = t.fill(t.attempts_wait, t.wait_time(until - now));
        let html = render(&state, t, form.csrf.clone(), false, Some(wait))?;
        return Ok((StatusCode::TOO_MANY_REQUESTS, Html(html)).into_response());
    }
    // Anything that is neither a username nor an address names no account: nothing to look
    // up, and the same answer.
    if Username::parse(&login).is_ok() || login.contains('@') {
        tokio::spawn(send_links(state.clone(), login, client));
    }
    let html = render(&state, t, form.csrf.clone(), true, None)?;
    Ok(Html(html).into_response())
}

/// After the answer: the accounts `login` names each get their link (or nothing).
async fn send_links(state: AppState, login: String, client: String) {
    let candidates = match state
        .store
        .reset_candidates(&login, MAX_ACCOUNTS_PER_REQUEST)
        .await
    {
        Ok(candidates) => candidates,
        Err(error) => {
            tracing::error!(%error, "password reset: the accounts could not be looked up");
            return;
        }
    };
    let mut queued = false;
    for candidate in &candidates {
        let issued = reset_link::issue(
            state.store.as_ref(),
            &state.settings,
            candidate,
            ResetRequester::User,
            Some(&client),
            state.clock.now(),
        )
        .await;
        match issued {
            Ok(reset_link::Issued::Sent | reset_link::Issued::AskEmployer) => queued = true,
            Ok(_) => {}
            Err(error) => {
                tracing::error!(%error, user = candidate.user.id, "password reset: no link queued");
            }
        }
    }
    if queued {
        state.outbox_wake.notify_one();
    }
}
