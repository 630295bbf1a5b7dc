//! Mijn account: the page after login that gathers what a user can do for themselves — the
//! password, two-step verification (since when, herstelcodes left, a new phone), remembered
//! devices, sessions, connected applications, and their own recent security events in plain
//! words, so a user sees when someone else tried.

use crate::domain::oidc::client::GrantKind;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use crate::domain::account::LoginStage;
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::passkey::Requirement;
use crate::domain::recovery::FEW_CODES_LEFT;
use crate::domain::token::TokenHash;
use crate::http::csrf::{ProtectedForm, token_for_page};
use crate::http::lang::{Preferred, chrome_of_org};
use crate::http::session::LoggedIn;
use crate::http::{AppState, ClientAddress, PageChrome, WebError};
use crate::store::{AuditFilter, Session, UserId};
use crate::texts::Texts;

/// How many of the user's own events the page shows.
const EVENTS_SHOWN: usize = 15;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(account_page))
        .route("/account/devices/forget", post(forget_device))
}

#[derive(Template)]
#[template(path = "home.html")]
struct AccountPage<'a> {
    t: &'static Texts,
    page: PageChrome,
    csrf: String,
    notice: Option<&'static str>,
    display_name: &'a str,
    username: &'a str,
    org_name: &'a str,
    /// Since when the app is on; `None`: not set up yet.
    two_step_since: Option<String>,
    codes_left: i64,
    /// A set of herstelcodes the user has not confirmed as saved: the page sends them back.
    codes_unsaved: bool,
    /// The application whose login waits (the user left the herstelcodes page without
    /// VERDER, say): its name and the way back to it.
    waiting_app: Option<(String, String)>,
    devices: Vec<DeviceLine>,
    sessions: Vec<SessionLine>,
    apps: Vec<AppLine>,
    /// The organization's own applications (first-party: no consent, so not in `apps`), by
    /// name, so that an empty list does not read as "no application uses my account".
    own_apps: Option<String>,
    events: Vec<EventLine>,
    /// A beheerder of the organization: the page links to the console.
    beheerder: bool,
    passkeys: usize,
    /// The organization's deadline for adding a passkey, for a user who has none yet.
    passkey_deadline: Option<String>,
}

impl AccountPage<'_> {
    fn few_codes(&self) -> bool {
        self.two_step_since.is_some() && self.codes_left < FEW_CODES_LEFT
    }
}

/// An application the user allowed ("Gekoppelde apps").
struct AppLine {
    client_id: String,
    name: String,
    since: String,
}

/// One of the user's sessions.
struct SessionLine {
    started: String,
    this_device: bool,
    password_only: bool,
}

/// A remembered browser; `id` is its digest in hex (never the cookie itself).
struct DeviceLine {
    id: String,
    text: String,
}

/// A security event in plain words.
struct EventLine {
    at: String,
    what: String,
}

#[derive(Deserialize)]
struct PageQuery {
    notice: Option<String>,
}

async fn account_page(
    State(state): State<AppState>,
    lang: Preferred,
    LoggedIn(session): LoggedIn,
    Query(query): Query<PageQuery>,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let t = lang.or_org(session.org.lang);
    let user = session.user.id;
    let (jar, csrf) = token_for_page(&state, jar);
    let passkeys = state.store.passkeys_of_user(user).await?.len();
    let passkey_deadline = match session.org.passkeys.requirement(state.clock.now()) {
        Requirement::Grace { until } if passkeys == 0 => Some(t.moment(until)),
        _ => None,
    };
    let notice = match query.notice.as_deref() {
        Some("password_changed") => Some(t.password_changed),
        Some("app_withdrawn") => Some(t.oidc.withdrawn_notice),
        Some("new_phone") => Some(t.recovery.replaced_notice),
        Some("device_forgotten") => Some(t.recovery.device_forgotten),
        _ => None,
    };
    let credential = state.store.totp_credential(user).await?;
    let two_step_since = credential
        .filter(|c| c.active)
        .map(|c| t.moment(c.activated_at.unwrap_or(0)));
    let apps = app_lines(&state, t, user).await?;
    let own_apps = own_app_names(&state, session.org.id).await?;
    let sessions = session_lines(&state, t, &session).await?;
    let devices = device_lines(&state, t, user).await?;
    let events = event_lines(&state, t, user).await?;
    let page = AccountPage {
        t,
        page: chrome_of_org(&state, t, "/", &session.org),
        csrf,
        notice,
        display_name: &session.user.display_name,
        username: &session.user.username,
        org_name: &session.org.name,
        two_step_since,
        codes_left: state.store.recovery_codes_left(user).await?,
        codes_unsaved: crate::login::second_step::codes_unsaved(&state, user).await?,
        waiting_app: crate::http::continuation::waiting_application(&state, &jar).await,
        devices,
        sessions,
        apps,
        own_apps,
        events,
        beheerder: state
            .store
            .has_role(user, crate::store::Role::Beheerder)
            .await?,
        passkeys,
        passkey_deadline,
    };
    Ok((jar, Html(page.render()?)).into_response())
}

/// The names of the first-party applications open to the organization, joined for a sentence.
async fn own_app_names(
    state: &AppState,
    org: crate::store::OrgId,
) -> Result<Option<String>, WebError> {
    let names: Vec<String> = state
        .store
        .clients()
        .await?
        .into_iter()
        .filter(|c| c.first_party && c.serves(org) && c.grant != GrantKind::ClientCredentials)
        .map(|c| c.name)
        .collect();
    Ok((!names.is_empty()).then(|| names.join(", ")))
}

/// The applications the user allowed (Gekoppelde apps).
async fn app_lines(
    state: &AppState,
    t: &'static Texts,
    user: UserId,
) -> Result<Vec<AppLine>, WebError> {
    let consents = state.store.consents_of_user(user).await?;
    Ok(consents
        .into_iter()
        .map(|app| AppLine {
            since: t.moment(app.granted_at),
            client_id: app.client_id,
            name: app.client_name,
        })
        .collect())
}

/// Where the user is logged in, this browser marked.
async fn session_lines(
    state: &AppState,
    t: &'static Texts,
    current: &Session,
) -> Result<Vec<SessionLine>, WebError> {
    let sessions = state.store.sessions_of_user(current.user.id).await?;
    Ok(sessions
        .into_iter()
        .map(|s| SessionLine {
            started: t.moment(s.created_at),
            this_device: s.id_hash == current.id_hash,
            password_only: s.stage == LoginStage::SecondFactor,
        })
        .collect())
}

/// The remembered browsers (Dit apparaat onthouden).
async fn device_lines(
    state: &AppState,
    t: &'static Texts,
    user: UserId,
) -> Result<Vec<DeviceLine>, WebError> {
    let devices = state.store.devices_of_user(user).await?;
    Ok(devices
        .into_iter()
        .map(|d| DeviceLine {
            id: hex(&d.id_hash),
            text: t.fill(
                &t.fill(t.recovery.device_line, &d.browser),
                t.moment(d.created_at),
            ),
        })
        .collect())
}

/// The user's own recent security events, newest first, in the user's words.
async fn event_lines(
    state: &AppState,
    t: &'static Texts,
    user: UserId,
) -> Result<Vec<EventLine>, WebError> {
    let filter = AuditFilter {
        user: Some(user),
        limit: 100,
        ..AuditFilter::default()
    };
    let entries = state.store.audit_entries(&filter).await?;
    let names = state.store.client_names().await?;
    let name_of = |id: &str| names.get(id).cloned();
    Ok(entries
        .into_iter()
        // The store gives the newest lines oldest first; the page shows the newest first.
        .rev()
        .filter_map(|e| {
            let what = t.security_event(e.event, e.outcome, e.detail.as_deref(), name_of)?;
            Some(EventLine {
                at: t.moment(e.at),
                what,
            })
        })
        .take(EVENTS_SHOWN)
        .collect())
}

fn hex(id: &TokenHash) -> String {
    id.0.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<TokenHash> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(TokenHash(bytes))
}

#[derive(Deserialize)]
struct ForgetForm {
    device: String,
}

/// VERGETEN: this browser (or another) asks for the app's code again. Only the user's own
/// devices can be named; another id changes nothing.
async fn forget_device(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    ClientAddress(client): ClientAddress,
    ProtectedForm(form): ProtectedForm<ForgetForm>,
) -> Result<Response, WebError> {
    let Some(id) = from_hex(&form.device) else {
        return Ok(Redirect::to("/").into_response());
    };
    let user = &session.user;
    let record = AuditRecord::new(
        state.clock.now(),
        AuditEvent::DeviceForgotten,
        Outcome::Success,
    )
    .user(session.org.id, user.id, &user.username)
    .client(&client);
    state.store.forget_device(user.id, &id, &record).await?;
    Ok(Redirect::to("/?notice=device_forgotten").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_round_trip_through_hex_and_nothing_else_parses() {
        let id = TokenHash([0xab; 32]);
        assert_eq!(from_hex(&hex(&id)), Some(id));
        assert_eq!(from_hex("ab"), None);
        assert_eq!(from_hex(&"zz".repeat(32)), None);
        assert_eq!(from_hex(&"é".repeat(32)), None);
    }
}
