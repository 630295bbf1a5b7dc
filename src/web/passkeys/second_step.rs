//! PASSKEY as the second step, after the password: only the user's own passkeys, user
//! verification required. The login completes with a new session when the answer is right.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;

use super::{AnswerForm, Begun, begin, complete_login, credentials, take, with_script};
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::login_method::LoginMethod;
use crate::domain::passkey::Purpose;
use crate::http::csrf::{CsrfOnly, ProtectedForm, token_for_page};
use crate::http::lang::{Preferred, chrome_of_org};
use crate::http::session::HalfLoggedIn;
use crate::http::{AppState, ClientAddress, PageChrome, WebError};
use crate::passkeys::CeremonyError;
use crate::store::Session;
use crate::texts::Texts;

const PAGE: &str = "/2fa/passkey";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PAGE, get(step_page).post(verify))
        .route("/2fa/passkey/choose", post(choose))
}

#[derive(Template)]
#[template(path = "passkey_step.html")]
pub(super) struct StepPage {
    pub t: &'static Texts,
    pub page: PageChrome,
    pub csrf: String,
    pub title: &'static str,
    pub intro: &'static str,
    pub button: &'static str,
    pub action: &'static str,
    pub notice: Option<&'static str>,
    pub error: Option<&'static str>,
    pub begun: Option<Begun>,
    pub back: Option<(&'static str, &'static str)>,
    pub logout: bool,
}

/// PASSKEY on the choice page.
async fn choose(
    HalfLoggedIn(_): HalfLoggedIn,
    ProtectedForm(_): ProtectedForm<CsrfOnly>,
) -> Redirect {
    Redirect::to(PAGE)
}

async fn render(
    state: &AppState,
    t: &'static Texts,
    session: &Session,
    csrf: String,
    error: Option<&'static str>,
) -> Result<Option<String>, WebError> {
    let rows = state.store.passkeys_of_user(session.user.id).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let begun = match &state.relying_party {
        Some(rp) => {
            let started = rp.start_second_step(&credentials(&rows)?)?;
            Some(begin(state, Purpose::SecondStep, Some(session.user.id), started).await?)
        }
        None => None,
    };
    let page = StepPage {
        t,
        page: chrome_of_org(state, t, PAGE, &session.org),
        csrf,
        title: t.passkeys.step_title,
        intro: t.passkeys.step_intro,
        button: t.passkeys.step_button,
        action: PAGE,
        notice: None,
        error,
        begun,
        back: Some(("/2fa", t.passkeys.other_method)),
        logout: true,
    };
    Ok(Some(page.render()?))
}

async fn step_page(
    State(state): State<AppState>,
    lang: Preferred,
    HalfLoggedIn(session): HalfLoggedIn,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let t = lang.or_org(session.org.lang);
    let (jar, csrf) = token_for_page(&state, jar);
    let Some(html) = render(&state, t, &session, csrf, None).await? else {
        return Ok(Redirect::to("/2fa").into_response());
    };
    let origin = crate::http::continuation::form_action_origin(&state, &jar).await;
    Ok(with_script((jar, Html(html)), origin.as_deref()))
}

async fn verify(
    State(state): State<AppState>,
    lang: Preferred,
    HalfLoggedIn(session): HalfLoggedIn,
    ClientAddress(client): ClientAddress,
    jar: CookieJar,
    ProtectedForm(form): ProtectedForm<AnswerForm>,
) -> Result<Response, WebError> {
    let t = lang.or_org(session.org.lang);
    let user = &session.user;
    let now = state.clock.now();
    let record = AuditRecord::new(now, AuditEvent::LoginPasskey, Outcome::Failure)
        .user(session.org.id, user.id, &user.username)
        .client(&client);
    let origin = crate::http::continuation::form_action_origin(&state, &jar).await;
    let refused = |record: AuditRecord, status: StatusCode, error: &'static str| {
        let state = state.clone();
        let session = session.clone();
        let csrf = form.csrf.clone();
        let origin = origin.clone();
        async move {
            state.store.record_audit(&[record]).await?;
            let Some(html) = render(&state, t, &session, csrf, Some(error)).await? else {
                return Ok(Redirect::to("/2fa").into_response());
            };
            Ok::<_, WebError>(with_script((status, Html(html)), origin.as_deref()))
        }
    };
    let Some(rp) = state.relying_party.clone() else {
        return Ok(Redirect::to("/2fa").into_response());
    };
    let ceremony = match take(&state, &form.ceremony, Purpose::SecondStep).await? {
        Ok(c) if c.user == Some(user.id) => c,
        // A challenge made for another user's login: refused, whatever the answer says.
        Ok(_) => {
            let record = record.detail("other_user");
            return refused(record, StatusCode::BAD_REQUEST, t.passkeys.expired).await;
        }
        Err(outcome) => {
            let record = AuditRecord { outcome, ..record }.detail("second_step");
            return refused(record, StatusCode::BAD_REQUEST, t.passkeys.expired).await;
        }
    };
    let rows = state.store.passkeys_of_user(user.id).await?;
    let used = match rp.finish_second_step(&form.response, &ceremony.state, &credentials(&rows)?) {
        Ok(used) => used,
        Err(error) => {
            let record = record.detail(refusal_detail(&error));
            return refused(record, StatusCode::UNAUTHORIZED, t.passkeys.step_failed).await;
        }
    };
    let record = record.detail("second_step");
    match complete_login(
        &state,
        jar,
        &used,
        LoginMethod::PasswordAndPasskey,
        record,
        user.id,
    )
    .await?
    {
        Ok(logged_in) => Ok(logged_in),
        // Another answer of this passkey was stored first (its counter moved on).
        Err(record) => refused(record, StatusCode::UNAUTHORIZED, t.passkeys.step_failed).await,
    }
}

/// The audit log's word for why a passkey's answer was refused. The whole reason goes to the
/// operational log: an origin that does not match `public_url` (a proxy in front that changes
/// the host, say) shows there, not only as "refused".
pub(super) fn refusal_detail(error: &CeremonyError) -> &'static str {
    tracing::info!(%error, "passkey answer refused");
    match error {
        CeremonyError::Malformed => "malformed",
        CeremonyError::UnknownCredential => "unknown_credential",
        CeremonyError::CounterWentBack => "counter_went_back",
        CeremonyError::Refused(_) => "refused",
    }
}
