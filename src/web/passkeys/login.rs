//! "Inloggen met een passkey": one step instead of password and code. The authenticator
//! picks a discoverable credential and sends its user handle; the credential must be that
//! user's, the account active, and the organization must allow passkey login. User
//! verification (PIN or biometrics on the device) is required, so the step is two factors.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;

use super::second_step::{StepPage, refusal_detail};
use super::{AnswerForm, begin, complete_login, credentials, take, with_script};
use crate::domain::account::AccountState;
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::login_method::LoginMethod;
use crate::domain::passkey::Purpose;
use crate::http::csrf::{ProtectedForm, token_for_page};
use crate::http::lang::{Preferred, chrome};
use crate::http::session::CurrentSession;
use crate::http::{AppState, ClientAddress, WebError};
use crate::store::{PasskeyRow, User};
use crate::texts::Texts;

pub const PAGE: &str = "/login/passkey";

pub fn router() -> Router<AppState> {
    Router::new().route(PAGE, get(login_page).post(login))
}

async fn render(
    state: &AppState,
    t: &'static Texts,
    csrf: String,
    error: Option<&'static str>,
) -> Result<String, WebError> {
    let begun = match &state.relying_party {
        Some(rp) => Some(begin(state, Purpose::Login, None, rp.start_login()?).await?),
        None => None,
    };
    let page = StepPage {
        t,
        page: chrome(state, t, PAGE),
        csrf,
        title: t.passkeys.login_title,
        intro: t.passkeys.login_intro,
        button: t.passkeys.login_button,
        action: PAGE,
        notice: None,
        error,
        begun,
        back: Some(("/login", t.passkeys.password_login)),
        logout: false,
    };
    Ok(page.render()?)
}

async fn login_page(
    State(state): State<AppState>,
    lang: Preferred,
    current: CurrentSession,
    ClientAddress(client): ClientAddress,
    jar: CookieJar,
) -> Result<Response, WebError> {
    if current.complete().is_some() {
        let next = crate::http::continuation::after_login(&state, &jar);
        return Ok(Redirect::to(&next).into_response());
    }
    // Every visit stores a ceremony: anyone may ask, so not without limit.
    if state.ceremonies.wait(&client, state.clock.now()).is_some() {
        return Err(WebError::Busy);
    }
    let t = lang.texts();
    let (jar, csrf) = token_for_page(&state, jar);
    let html = render(&state, t, csrf, None).await?;
    let origin = crate::http::continuation::form_action_origin(&state, &jar).await;
    Ok(with_script((jar, Html(html)), origin.as_deref()))
}

async fn login(
    State(state): State<AppState>,
    lang: Preferred,
    ClientAddress(client): ClientAddress,
    jar: CookieJar,
    ProtectedForm(form): ProtectedForm<AnswerForm>,
) -> Result<Response, WebError> {
    let t = lang.texts();
    let now = state.clock.now();
    let record = AuditRecord::new(now, AuditEvent::LoginPasskey, Outcome::Failure).client(&client);
    let origin = crate::http::continuation::form_action_origin(&state, &jar).await;
    let refused = |record: AuditRecord, status: StatusCode, error: &'static str| {
        let state = state.clone();
        let csrf = form.csrf.clone();
        let origin = origin.clone();
        async move {
            state.store.record_audit(&[record]).await?;
            let html = render(&state, t, csrf, Some(error)).await?;
            Ok::<_, WebError>(with_script((status, Html(html)), origin.as_deref()))
        }
    };
    let Some(rp) = state.relying_party.clone() else {
        return Ok(Redirect::to(PAGE).into_response());
    };
    let ceremony = match take(&state, &form.ceremony, Purpose::Login).await? {
        Ok(c) => c,
        Err(outcome) => {
            let record = AuditRecord { outcome, ..record }.detail("login");
            return refused(record, StatusCode::BAD_REQUEST, t.passkeys.expired).await;
        }
    };
    let failed = t.passkeys.login_failed;
    let (handle, credential_id) = match rp.identify(&form.response) {
        Ok(named) => named,
        Err(error) => {
            let record = record.detail(refusal_detail(&error));
            return refused(record, StatusCode::UNAUTHORIZED, failed).await;
        }
    };
    let (row, user) = match owner(&state, handle.as_bytes(), &credential_id, record).await? {
        Ok(found) => found,
        Err((record, status, error)) => return refused(record, status, error(t)).await,
    };
    let record = AuditRecord::new(now, AuditEvent::LoginPasskey, Outcome::Failure)
        .client(&client)
        .user(user.org_id, user.id, &user.username);
    let user = &user;
    let stored = credentials(std::slice::from_ref(&row))?;
    let used = match rp.finish_login(&form.response, &ceremony.state, &stored[0]) {
        Ok(used) => used,
        Err(error) => {
            let record = record.detail(refusal_detail(&error));
            return refused(record, StatusCode::UNAUTHORIZED, failed).await;
        }
    };
    let record = record.detail("login");
    match complete_login(&state, jar, &used, LoginMethod::Passkey, record, user.id).await? {
        Ok(logged_in) => Ok(logged_in),
        // Another answer of this passkey was stored first (its counter moved on).
        Err(record) => refused(record, StatusCode::UNAUTHORIZED, failed).await,
    }
}

/// Why a passkey login was refused: the audit line, the status, and the page's message.
type PasskeyRefusal = (AuditRecord, StatusCode, fn(&Texts) -> &'static str);

/// The passkey the answer names, and its user, who may log in with it: the credential must
/// be registered to the user the authenticator names (a credential of one user presented with
/// another's handle is refused), the account active, and passkey login allowed by the
/// organization.
async fn owner(
    state: &AppState,
    handle: &[u8],
    credential_id: &[u8],
    record: AuditRecord,
) -> Result<Result<(PasskeyRow, User), PasskeyRefusal>, WebError> {
    let failed = |t: &Texts| t.passkeys.login_failed;
    let Some(row) = state.store.passkey_by_credential_id(credential_id).await? else {
        let record = record.detail("unknown_credential");
        return Ok(Err((record, StatusCode::UNAUTHORIZED, failed)));
    };
    let named = state.store.user_by_passkey_handle(handle).await?;
    let Some((user, org)) = state.store.passkey_owner(row.user_id).await? else {
        let record = record.detail("unknown_credential");
        return Ok(Err((record, StatusCode::UNAUTHORIZED, failed)));
    };
    let record = record.user(user.org_id, user.id, &user.username);
    if named != Some(row.user_id) {
        let record = record.detail("other_user");
        return Ok(Err((record, StatusCode::UNAUTHORIZED, failed)));
    }
    if user.state != AccountState::Active {
        let record = record.detail("account_not_active");
        return Ok(Err((record, StatusCode::UNAUTHORIZED, failed)));
    }
    if !org.passkeys.login {
        let record = record.detail("passkey_login_off");
        let off = |t: &Texts| t.passkeys.login_off;
        return Ok(Err((record, StatusCode::FORBIDDEN, off)));
    }
    Ok(Ok((row, user)))
}
