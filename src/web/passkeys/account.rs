//! "Passkey toevoegen" and the list of the user's passkeys, with removal (which asks for
//! the password or a current code again). Also the page a user must pass when their
//! organization requires a passkey and they have none yet.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::{Begun, begin, credentials, take, with_script};
use crate::domain::account::LoginStage;
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::passkey::{NameError, PasskeyName, Purpose, RemovalRefused, may_remove};
use crate::http::csrf::{ProtectedForm, token_for_page};
use crate::http::lang::{Preferred, chrome_of_org};
use crate::http::session::{self, CurrentSession, LoggedIn};
use crate::http::{AppState, ClientAddress, PageChrome, WebError};
use crate::login::confirm::NotConfirmed;
use crate::mail::compose;
use crate::passkeys::CeremonyError;
use crate::store::{AddedPasskey, NewPasskey, Session, Settlement};
use crate::texts::Texts;

pub const PAGE: &str = crate::http::session::ADD_PASSKEY_PAGE;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PAGE, get(passkeys_page).post(add))
        .route("/account/passkeys/remove", post(remove))
}

#[derive(Template)]
#[template(path = "passkeys.html")]
struct PasskeysPage {
    t: &'static Texts,
    page: PageChrome,
    csrf: String,
    /// The organization requires a passkey and the user has none: only the form to add one.
    required: bool,
    notice: Option<&'static str>,
    error: Option<String>,
    passkeys: Vec<PasskeyLine>,
    begun: Option<Begun>,
    name: String,
}

struct PasskeyLine {
    id: i64,
    name: String,
    text: String,
}

/// A session that may add a passkey: a complete login, or one that must add one to complete.
fn adding_session(current: CurrentSession) -> Option<Session> {
    current
        .0
        .filter(|s| matches!(s.stage, LoginStage::Complete | LoginStage::PasskeyRequired))
}

async fn render(
    state: &AppState,
    t: &'static Texts,
    session: &Session,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
    name: String,
) -> Result<String, WebError> {
    let user = &session.user;
    let rows = state.store.passkeys_of_user(user.id).await?;
    let passkeys = rows
        .iter()
        .map(|row| {
            let used = match row.last_used_at {
                Some(at) => t.fill(t.passkeys.last_used, t.moment(at)),
                None => t.passkeys.never_used.to_owned(),
            };
            PasskeyLine {
                id: row.id,
                name: row.name.clone(),
                text: format!(
                    "{}; {used}",
                    t.fill(
                        &t.fill(t.passkeys.line, &row.name),
                        t.moment(row.created_at)
                    )
                ),
            }
        })
        .collect();
    let begun = match &state.relying_party {
        Some(rp) => {
            let fresh: [u8; 16] = rand::random();
            let handle = state.store.passkey_handle(user.id, fresh).await?;
            let started = rp.start_registration(
                webauthn_rs::prelude::Uuid::from_bytes(handle),
                &user.username,
                &user.display_name,
                &credentials(&rows)?,
            )?;
            Some(begin(state, Purpose::Register, Some(user.id), started).await?)
        }
        None => None,
    };
    let page = PasskeysPage {
        t,
        page: chrome_of_org(state, t, PAGE, &session.org),
        csrf,
        required: session.stage == LoginStage::PasskeyRequired,
        notice,
        error,
        passkeys,
        begun,
        name,
    };
    Ok(page.render()?)
}

#[derive(Deserialize)]
struct PageQuery {
    notice: Option<String>,
}

async fn passkeys_page(
    State(state): State<AppState>,
    lang: Preferred,
    current: CurrentSession,
    Query(query): Query<PageQuery>,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let Some(session) = adding_session(current) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let t = lang.or_org(session.org.lang);
    let notice = match query.notice.as_deref() {
        Some("added") => Some(t.passkeys.added_notice),
        Some("removed") => Some(t.passkeys.removed_notice),
        _ => None,
    };
    let (jar, csrf) = token_for_page(&state, jar);
    let html = render(&state, t, &session, csrf, notice, None, String::new()).await?;
    let origin = crate::http::continuation::form_action_origin(&state, &jar).await;
    Ok(with_script((jar, Html(html)), origin.as_deref()))
}

#[derive(Deserialize)]
struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    response: String,
    #[serde(default)]
    name: String,
}

async fn add(
    State(state): State<AppState>,
    lang: Preferred,
    current: CurrentSession,
    ClientAddress(client): ClientAddress,
    jar: CookieJar,
    ProtectedForm(form): ProtectedForm<AddForm>,
) -> Result<Response, WebError> {
    let Some(session) = adding_session(current) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let t = lang.or_org(session.org.lang);
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let added = match PasskeyName::parse(&form.name) {
        Ok(name) => register(&state, t, &session, &client, &name, &form).await?,
        Err(NameError::Empty) => Err((unprocessable, t.passkeys.name_empty)),
        Err(NameError::TooLong) => Err((unprocessable, t.passkeys.name_too_long)),
    };
    if let Err((status, error)) = added {
        let (csrf, name) = (form.csrf.clone(), form.name.clone());
        let error = Some(error.into());
        let html = render(&state, t, &session, csrf, None, error, name).await?;
        return Ok(with_script((status, Html(html)), None));
    }
    if session.stage == LoginStage::PasskeyRequired {
        return complete_held_login(&state, jar, &session).await;
    }
    Ok(Redirect::to(&format!("{PAGE}?notice=added")).into_response())
}

/// Why a passkey was not added: the status and what the page says.
type NotAdded = (StatusCode, &'static str);

/// The browser's answer to the registration this user began: checked by webauthn-rs, then
/// stored with a notice e-mail and an audit line (a refusal is audited too).
async fn register(
    state: &AppState,
    t: &'static Texts,
    session: &Session,
    client: &str,
    name: &PasskeyName,
    form: &AddForm,
) -> Result<Result<(), NotAdded>, WebError> {
    let Some(rp) = state.relying_party.clone() else {
        return Ok(Err((StatusCode::NOT_FOUND, t.passkeys.unavailable)));
    };
    let user = &session.user;
    let now = state.clock.now();
    let record = AuditRecord::new(now, AuditEvent::PasskeyAdded, Outcome::Failure)
        .user(session.org.id, user.id, &user.username)
        .client(client);
    let expired = Err((StatusCode::BAD_REQUEST, t.passkeys.expired));
    let ceremony = match take(state, &form.ceremony, Purpose::Register).await? {
        // A registration begun for another user is not this user's to finish.
        Ok(c) if c.user == Some(user.id) => c,
        Ok(_) => {
            let record = record.detail("other_user");
            state.store.record_audit(&[record]).await?;
            return Ok(expired);
        }
        Err(outcome) => {
            let record = AuditRecord { outcome, ..record };
            state.store.record_audit(&[record]).await?;
            return Ok(expired);
        }
    };
    let new = match rp.finish_registration(&form.response, &ceremony.state) {
        Ok(new) => new,
        Err(error) => {
            tracing::info!(%error, "passkey registration refused");
            let detail = match error {
                CeremonyError::Malformed => "malformed",
                _ => "refused",
            };
            state.store.record_audit(&[record.detail(detail)]).await?;
            return Ok(Err((StatusCode::BAD_REQUEST, t.passkeys.add_failed)));
        }
    };
    let notice = compose::passkey_notice(&state.settings, user, &session.org, true, name.as_str())?;
    let passkey = NewPasskey {
        user: user.id,
        credential_id: &new.credential_id,
        name: name.as_str(),
        credential: serde_json::to_string(&new.credential).map_err(anyhow::Error::from)?,
        counter: new.credential.counter,
        backup_eligible: new.credential.backup_eligible,
        backup_state: new.credential.backup_state,
        now,
    };
    let record = AuditRecord {
        outcome: Outcome::Success,
        ..record
    }
    .detail(name.to_string());
    match state.store.add_passkey(&passkey, &notice, &record).await? {
        AddedPasskey::Added => state.outbox_wake.notify_one(),
        AddedPasskey::AlreadyRegistered => {
            return Ok(Err((StatusCode::CONFLICT, t.passkeys.already_added)));
        }
    }
    Ok(Ok(()))
}

/// The login this page held back (the organization requires a passkey) completes now that
/// one was added, with a new session id.
async fn complete_held_login(
    state: &AppState,
    jar: CookieJar,
    session: &Session,
) -> Result<Response, WebError> {
    let method = Some(crate::domain::login_method::LoginMethod::PasswordAndApp);
    let (jar, next) = session::fresh(state, jar, session.user.id, LoginStage::Complete, method);
    let settlement = Settlement {
        session: Some(next),
        now: state.clock.now(),
        ..Settlement::default()
    };
    state.store.settle_attempt(&settlement).await?;
    let after = crate::login::second_step::after_passkey(state, session.user.id).await?;
    let next = super::super::second_factor::next_page(state, &jar, after);
    Ok((jar, Redirect::to(&next)).into_response())
}

#[derive(Deserialize)]
struct RemoveForm {
    #[serde(default)]
    csrf: String,
    id: i64,
    #[serde(default)]
    confirm: String,
}

/// The user's password or the app's current code, typed again before a removal.
async fn confirmed(
    state: &AppState,
    t: &'static Texts,
    session: &Session,
    client: &str,
    typed: &str,
) -> Result<Result<(), NotConfirmed>, WebError> {
    let user = &session.user;
    let record = AuditRecord::new(state.clock.now(), AuditEvent::LoginCode, Outcome::Failure)
        .user(session.org.id, user.id, &user.username)
        .client(client)
        .detail("passkey removal");
    let digits: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
        let by_code = crate::login::confirm::with_code(
            state,
            t,
            session,
            client,
            &digits,
            record.clone(),
            |_| {},
        )
        .await?;
        if let Some(outcome) = by_code {
            return Ok(outcome);
        }
    }
    let record = AuditRecord {
        event: AuditEvent::PasswordSet,
        detail: Some("passkey removal".into()),
        ..record
    };
    Ok(crate::login::confirm::with_password(state, t, session, client, typed, &record).await?)
}

async fn remove(
    State(state): State<AppState>,
    lang: Preferred,
    LoggedIn(session): LoggedIn,
    ClientAddress(client): ClientAddress,
    ProtectedForm(form): ProtectedForm<RemoveForm>,
) -> Result<Response, WebError> {
    let t = lang.or_org(session.org.lang);
    let user = &session.user;
    let shown_again = |status: StatusCode, error: String| {
        let state = state.clone();
        let session = session.clone();
        let csrf = form.csrf.clone();
        async move {
            let html = render(&state, t, &session, csrf, None, Some(error), String::new()).await?;
            Ok::<_, WebError>(with_script((status, Html(html)), None))
        }
    };
    let rows = state.store.passkeys_of_user(user.id).await?;
    let Some(passkey) = rows.iter().find(|p| p.id == form.id) else {
        // Not one of the user's passkeys: nothing to remove, nothing told.
        return Ok(Redirect::to(PAGE).into_response());
    };
    let has_app = state
        .store
        .totp_credential(user.id)
        .await?
        .is_some_and(|c| c.active);
    let requirement = session.org.passkeys.requirement(state.clock.now());
    if let Err(refusal) = may_remove(rows.len(), has_app, requirement) {
        let message = match refusal {
            RemovalRefused::LastSecondFactor => t.passkeys.last_factor,
            RemovalRefused::RequiredByOrganization => t.passkeys.required_last,
        };
        return shown_again(StatusCode::CONFLICT, message.into()).await;
    }
    if let Err(not) = confirmed(&state, t, &session, &client, &form.confirm).await? {
        let status = not.status();
        let message = if not.waiting {
            not.message
        } else {
            t.passkeys.wrong_confirmation.into()
        };
        return shown_again(status, message).await;
    }
    let notice =
        compose::passkey_notice(&state.settings, user, &session.org, false, &passkey.name)?;
    let record = AuditRecord::new(
        state.clock.now(),
        AuditEvent::PasskeyRemoved,
        Outcome::Success,
    )
    .user(session.org.id, user.id, &user.username)
    .client(&client)
    .detail(passkey.name.clone());
    if state
        .store
        .remove_passkey(user.id, passkey.id, &notice, &record)
        .await?
    {
        state.outbox_wake.notify_one();
    }
    Ok(Redirect::to(&format!("{PAGE}?notice=removed")).into_response())
}
