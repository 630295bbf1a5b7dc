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
use crate::mail::compose;
use crate::passkeys::CeremonyError;
use crate::store::{AddedPasskey, NewPasskey, Session, Settlement};
use crate::texts::Texts;
use crate::web::csrf::{CsrfField, ProtectedForm, token_for_page};
use crate::web::lang::{Preferred, chrome};
use crate::web::session::{self, CurrentSession};
use crate::web::totp_check::NotConfirmed;
use crate::web::{AppState, ClientAddress, PageChrome, WebError};

pub const PAGE: &str = "/account/passkeys";

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
        page: chrome(state, t, PAGE),
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
    let origin = crate::oidc::form_action_origin(&state, &jar).await;
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

impl CsrfField for AddForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
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
    let user = &session.user;
    let refused = |status: StatusCode, error: String| {
        let state = state.clone();
        let session = session.clone();
        let csrf = form.csrf.clone();
        let name = form.name.clone();
        async move {
            let html = render(&state, t, &session, csrf, None, Some(error), name).await?;
            Ok::<_, WebError>(with_script((status, Html(html)), None))
        }
    };
    let name = match PasskeyName::parse(&form.name) {
        Ok(name) => name,
        Err(NameError::Empty) => {
            return refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                t.passkeys.name_empty.into(),
            )
            .await;
        }
        Err(NameError::TooLong) => {
            return refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                t.passkeys.name_too_long.into(),
            )
            .await;
        }
    };
    let Some(rp) = state.relying_party.clone() else {
        return refused(StatusCode::NOT_FOUND, t.passkeys.unavailable.into()).await;
    };
    let now = state.clock.now();
    let record = AuditRecord::new(now, AuditEvent::PasskeyAdded, Outcome::Failure)
        .user(session.org.id, user.id, &user.username)
        .client(&client);
    let ceremony = match take(&state, &form.ceremony, Purpose::Register).await? {
        // A registration begun for another user is not this user's to finish.
        Ok(c) if c.user == Some(user.id) => c,
        Ok(_) => {
            state
                .store
                .record_audit(&[record.detail("other_user")])
                .await?;
            return refused(StatusCode::BAD_REQUEST, t.passkeys.expired.into()).await;
        }
        Err(outcome) => {
            let record = AuditRecord { outcome, ..record };
            state.store.record_audit(&[record]).await?;
            return refused(StatusCode::BAD_REQUEST, t.passkeys.expired.into()).await;
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
            return refused(StatusCode::BAD_REQUEST, t.passkeys.add_failed.into()).await;
        }
    };
    let notice =
        compose::passkey_notice(&state.settings, user, session.org.lang, true, name.as_str())?;
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
            return refused(StatusCode::CONFLICT, t.passkeys.already_added.into()).await;
        }
    }
    if session.stage == LoginStage::PasskeyRequired {
        // The login this page held back completes now, with a new session id.
        let (jar, next) = session::fresh(
            &state,
            jar,
            user.id,
            LoginStage::Complete,
            Some(crate::domain::login_method::LoginMethod::PasswordAndApp),
        );
        let settlement = Settlement {
            session: Some(next),
            now,
            ..Settlement::default()
        };
        state.store.settle_attempt(&settlement).await?;
        let next = crate::oidc::resume_target(&state, &jar).unwrap_or_else(|| "/".into());
        return Ok((jar, Redirect::to(&next)).into_response());
    }
    Ok(Redirect::to(&format!("{PAGE}?notice=added")).into_response())
}

#[derive(Deserialize)]
struct RemoveForm {
    #[serde(default)]
    csrf: String,
    id: i64,
    #[serde(default)]
    confirm: String,
}

impl CsrfField for RemoveForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
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
        let by_code = crate::web::totp_check::confirm_with_code(
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
    crate::web::password::check_current(state, t, session, client, typed, &record).await
}

async fn remove(
    State(state): State<AppState>,
    lang: Preferred,
    current: CurrentSession,
    ClientAddress(client): ClientAddress,
    ProtectedForm(form): ProtectedForm<RemoveForm>,
) -> Result<Response, WebError> {
    let Some(session) = current.complete() else {
        return Ok(Redirect::to("/login").into_response());
    };
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
        let message = if not.status == StatusCode::TOO_MANY_REQUESTS {
            not.message
        } else {
            t.passkeys.wrong_confirmation.into()
        };
        return shown_again(not.status, message).await;
    }
    let notice = compose::passkey_notice(
        &state.settings,
        user,
        session.org.lang,
        false,
        &passkey.name,
    )?;
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
