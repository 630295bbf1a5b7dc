//! Server-side sessions. The browser holds only a random id in an HttpOnly cookie; the store
//! holds its SHA-256 digest, the user and how far the login has come.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};

use super::{AppState, ClientAddress, WebError};
use crate::domain::account::LoginStage;
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::login_method::LoginMethod;
use crate::domain::token::{Token, TokenHash};
use crate::login::session_start::{self, StoredSession};
#[allow(unused_imports)] // for the doc link
use crate::store::Settlement;
use crate::store::{Session, UserId};

/// Where a session whose organization requires a passkey is sent until it has one.
pub const ADD_PASSKEY_PAGE: &str = "/account/passkeys";

/// Writing `last_seen_at` on every request would make every page a database write.
const TOUCH_INTERVAL_SECONDS: i64 = 60;

#[derive(Clone)]
pub struct CookieNames {
    pub session: &'static str,
    pub csrf: &'static str,
    /// The proof that this browser passed a reset link's second step.
    pub reset: &'static str,
    /// A remembered device's id (Dit apparaat onthouden).
    pub device: &'static str,
    pub secure: bool,
}

impl CookieNames {
    /// Over https the `__Host-` prefix binds the cookie to this exact host, path `/` and
    /// `Secure` (RFC 6265bis §4.1.3.2); over plain http (development) it cannot be used.
    pub fn for_settings(settings: &crate::config::Settings) -> CookieNames {
        if settings.is_https() {
            CookieNames {
                session: "__Host-pw_session",
                csrf: "__Host-pw_csrf",
                reset: "__Host-pw_reset",
                device: "__Host-pw_device",
                secure: true,
            }
        } else {
            CookieNames {
                session: "pw_session",
                csrf: "pw_csrf",
                reset: "pw_reset",
                device: "pw_device",
                secure: false,
            }
        }
    }

    pub fn cookie(
        &self,
        name: &'static str,
        value: String,
        same_site: SameSite,
    ) -> Cookie<'static> {
        Cookie::build((name, value))
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(same_site)
            .build()
    }
}

/// The request's session, if it has a live one.
pub struct CurrentSession(pub Option<Session>);

impl CurrentSession {
    /// The session only if the login is complete.
    pub fn complete(self) -> Option<Session> {
        self.0.filter(|s| s.stage == LoginStage::Complete)
    }
}

impl FromRequestParts<AppState> for CurrentSession {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = jar
            .get(state.cookies.session)
            .and_then(|c| Token::parse(c.value()))
        else {
            return Ok(CurrentSession(None));
        };
        let id = token.hash();
        let Some(session) = state.store.session(&id).await? else {
            return Ok(CurrentSession(None));
        };
        let now = state.clock.now();
        // Idle (ASVS V3.3.1) and absolute (V3.3.2) timeouts, both from the settings.
        let idle = now >= session.last_seen_at + state.settings.session_idle_seconds();
        if idle || now >= session.expires_at {
            state.store.delete_session(&id).await?;
            let reason = if idle { "idle" } else { "expired" };
            let Ok(ClientAddress(client)) = ClientAddress::from_request_parts(parts, state).await;
            record_end(state, &session, &client, reason).await?;
            return Ok(CurrentSession(None));
        }
        if now >= session.last_seen_at + TOUCH_INTERVAL_SECONDS {
            state.store.touch_session(&id, now).await?;
        }
        Ok(CurrentSession(Some(session)))
    }
}

/// A session that passed the password step and not yet the second one. Any other request
/// is sent where it belongs: a complete session to `/`, no session to the login page.
pub struct HalfLoggedIn(pub Session);

impl FromRequestParts<AppState> for HalfLoggedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let current = CurrentSession::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match current.0 {
            Some(session) if session.stage == LoginStage::SecondFactor => Ok(HalfLoggedIn(session)),
            Some(session) if session.stage == LoginStage::PasskeyRequired => {
                Err(Redirect::to(ADD_PASSKEY_PAGE).into_response())
            }
            Some(_) => Err(Redirect::to("/").into_response()),
            None => Err(Redirect::to("/login").into_response()),
        }
    }
}

/// A complete login: the pages of a logged-in user. Without one the browser goes to the login
/// page (a half-finished login too: its second step is asked there again).
pub struct LoggedIn(pub Session);

impl FromRequestParts<AppState> for LoggedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let current = CurrentSession::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match current.complete() {
            Some(session) => Ok(LoggedIn(session)),
            None => Err(Redirect::to("/login").into_response()),
        }
    }
}

/// A fresh session for `user` at `stage`, replacing the one the browser had: the id is
/// always new after a login step, so an id planted before login is worthless (ASVS V3.2.1).
/// The new row is written with the rest of the login step
/// ([`Settlement::session`](crate::store::Settlement::session)).
pub fn fresh(
    state: &AppState,
    jar: CookieJar,
    user: UserId,
    stage: LoginStage,
    method: Option<LoginMethod>,
) -> (CookieJar, StoredSession) {
    let previous = held_by(state, &jar);
    let (token, stored) = session_start::start(state, user, stage, method, previous);
    (with_session(state, jar, &token), stored)
}

/// The session this browser holds (whether or not it is still alive), which a new login
/// replaces.
pub fn held_by(state: &AppState, jar: &CookieJar) -> Option<TokenHash> {
    jar.get(state.cookies.session)
        .and_then(|c| Token::parse(c.value()))
        .map(|t| t.hash())
}

/// The browser's session cookie set to a session the login service started.
pub fn with_session(state: &AppState, jar: CookieJar, token: &Token) -> CookieJar {
    let value = token.expose().to_owned();
    jar.add(
        state
            .cookies
            .cookie(state.cookies.session, value, SameSite::Lax),
    )
}

/// Writes the end of `session` to the audit log; `reason` says why (`logout`, `idle` …).
pub async fn record_end(
    state: &AppState,
    session: &Session,
    client: &str,
    reason: &'static str,
) -> Result<(), WebError> {
    let record = end_record(state, session, client, reason);
    Ok(state.store.record_audit(&[record]).await?)
}

/// The audit line for the end of `session` (and of the user's others, for "everywhere").
pub fn end_record(
    state: &AppState,
    session: &Session,
    client: &str,
    reason: &'static str,
) -> AuditRecord {
    AuditRecord::new(
        state.clock.now(),
        AuditEvent::SessionEnded,
        Outcome::Success,
    )
    .user(session.org.id, session.user.id, &session.user.username)
    .client(client)
    .detail(reason)
}

/// Deletes the browser's session from the store and the cookie from the browser.
pub async fn end(state: &AppState, jar: CookieJar) -> Result<CookieJar, WebError> {
    if let Some(token) = jar
        .get(state.cookies.session)
        .and_then(|c| Token::parse(c.value()))
    {
        state.store.delete_session(&token.hash()).await?;
    }
    let removal = state
        .cookies
        .cookie(state.cookies.session, String::new(), SameSite::Lax);
    Ok(jar.remove(removal))
}
