//! The login continuation: an authorization request waiting for the login, kept in a cookie
//! while the user logs in (password, AUTHENTICATOR APP, code), then resumed. OpenID Connect
//! writes it (`oidc::authorize`); the login pages only read where to go next and which
//! application origin their form may end at, and whether the request asks for a new login.
//!
//! The cookie is sealed with the keyring (AES-256-GCM, its own associated data) and carries
//! its own time: a browser cannot make one up, alter one (say, to claim that a `prompt=login`
//! was already answered) or keep one past half an hour; anything else in the cookie is
//! ignored as if there were none. Every instance holds the same keyring, so any of them
//! reads what another wrote.

use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::SameSite;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::{AppState, form};
use crate::domain::keyring::Sealed;
use crate::domain::oidc::request::Parameters;
use crate::domain::token::TokenHash;

/// Longest request kept: sealed and encoded it must fit a cookie (about 4 KiB).
pub const MAX_QUERY_BYTES: usize = 2900;

/// How long a waiting request lasts.
const LIFETIME_SECONDS: i64 = 30 * 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// `prompt=login` or `max_age` asked for a login after this time (0: no such demand).
    pub login_after: i64,
    pub query: String,
    /// The complete session the browser held when a new login was asked for: it lives on
    /// until that login succeeded, and is then handed over to it (never ended before).
    pub previous: Option<TokenHash>,
}

impl Pending {
    /// `session` is the new login this request asked for (`prompt=login`, `max_age`): made
    /// at or after the demand, and not the session the browser held when it was made (which
    /// may be from the same second).
    pub fn answered_by(&self, session: &crate::store::Session) -> bool {
        self.login_after > 0
            && session.created_at >= self.login_after
            && self.previous != Some(session.id_hash)
    }
}

/// What the sealed cookie holds.
#[derive(Serialize, Deserialize)]
struct Kept {
    after: i64,
    made: i64,
    query: String,
    previous: Option<String>,
}

fn name(state: &AppState) -> &'static str {
    if state.cookies.secure {
        "__Host-pw_authorize"
    } else {
        "pw_authorize"
    }
}

/// The waiting request, if the cookie holds one this service sealed less than half an hour ago.
pub fn read(state: &AppState, jar: &CookieJar) -> Option<Pending> {
    let value = jar.get(name(state))?.value();
    let (version, blob) = value.split_once('.')?;
    let sealed = Sealed {
        key_version: version.parse().ok()?,
        blob: URL_SAFE_NO_PAD.decode(blob).ok()?,
    };
    let opened = state.keyring.open_continuation(&sealed)?;
    let kept: Kept = serde_json::from_slice(secrecy::ExposeSecret::expose_secret(&opened)).ok()?;
    let age = state.clock.now() - kept.made;
    if !(0..=LIFETIME_SECONDS).contains(&age) {
        return None;
    }
    let previous = match kept.previous {
        None => None,
        Some(hex) => {
            let bytes = data_encoding::HEXLOWER.decode(hex.as_bytes()).ok()?;
            Some(TokenHash(bytes.try_into().ok()?))
        }
    };
    Some(Pending {
        login_after: kept.after,
        query: kept.query,
        previous,
    })
}

/// Keeps `pending` (Lax: it must come along when the login's last step sends the browser on).
pub fn keep(state: &AppState, jar: CookieJar, pending: &Pending) -> CookieJar {
    let kept = Kept {
        after: pending.login_after,
        made: state.clock.now(),
        query: pending.query.clone(),
        previous: pending
            .previous
            .as_ref()
            .map(|hash| data_encoding::HEXLOWER.encode(&hash.0)),
    };
    let plain = serde_json::to_vec(&kept).expect("a continuation serialises");
    let sealed = state
        .keyring
        .seal_continuation(&plain, &mut rand::rngs::OsRng);
    let value = format!(
        "{}.{}",
        sealed.key_version,
        URL_SAFE_NO_PAD.encode(&sealed.blob)
    );
    let mut cookie = state.cookies.cookie(name(state), value, SameSite::Lax);
    cookie.set_max_age(time::Duration::seconds(LIFETIME_SECONDS));
    jar.add(cookie)
}

pub fn clear(state: &AppState, jar: CookieJar) -> CookieJar {
    jar.remove(
        state
            .cookies
            .cookie(name(state), String::new(), SameSite::Lax),
    )
}

/// Where a completed login goes on to: the waiting authorization request, if there is one.
pub fn resume_target(state: &AppState, jar: &CookieJar) -> Option<String> {
    read(state, jar).map(|p| format!("/authorize?{}", p.query))
}

/// Where a completed login goes on to: the waiting authorization request, else the test
/// login of Toegang controleren that asked for it, else Mijn account.
pub fn after_login(state: &AppState, jar: &CookieJar) -> String {
    resume_target(state, jar)
        .or_else(|| {
            super::access_check::waiting(state, jar).then(|| super::access_check::PAGE.into())
        })
        .unwrap_or_else(|| "/".into())
}

/// The waiting request asks for a new login that `session` is not (`prompt=login`,
/// `max_age`): the login page then asks again instead of sending the browser on.
pub fn wants_new_login(state: &AppState, jar: &CookieJar, session: &crate::store::Session) -> bool {
    read(state, jar).is_some_and(|p| p.login_after > 0 && !p.answered_by(session))
}

/// The origin of the waiting request's registered redirect URI: a page whose form may end
/// in the redirect to the application lists it in its CSP `form-action` (browsers check that
/// directive along the redirects that follow a form).
pub async fn form_action_origin(state: &AppState, jar: &CookieJar) -> Option<String> {
    let (_, redirect_uri) = waiting_client(state, jar).await?;
    let origin = url::Url::parse(&redirect_uri).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// The name of the application whose request waits for this login: the login page says
/// where the user is logging in.
pub async fn application_name(state: &AppState, jar: &CookieJar) -> Option<String> {
    waiting_client(state, jar)
        .await
        .map(|(client, _)| client.name)
}

/// The application whose request waits, by name, and where to resume it (Mijn account's
/// way back to it).
pub async fn waiting_application(state: &AppState, jar: &CookieJar) -> Option<(String, String)> {
    let pending = read(state, jar)?;
    let (client, _) = client_of(state, &pending).await?;
    Some((client.name, format!("/authorize?{}", pending.query)))
}

/// The registered client of the waiting request, and its (registered) redirect URI.
async fn waiting_client(
    state: &AppState,
    jar: &CookieJar,
) -> Option<(crate::store::Client, String)> {
    client_of(state, &read(state, jar)?).await
}

async fn client_of(state: &AppState, pending: &Pending) -> Option<(crate::store::Client, String)> {
    let pairs = form::pairs(pending.query.as_bytes()).ok()?;
    let params = Parameters::from_pairs(pairs)?;
    let (client_id, redirect_uri) = params.target().ok()?;
    let client = state.store.client(client_id).await.ok()??;
    let redirect_uri = redirect_uri.to_owned();
    client
        .redirect_uris
        .contains(&redirect_uri)
        .then_some((client, redirect_uri))
}
