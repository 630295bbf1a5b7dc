//! The login continuation: an authorization request waiting for the login, kept in a cookie
//! while the user logs in (password, AUTHENTICATOR APP, code), then resumed. OpenID Connect
//! writes it (`oidc::authorize`); the login pages only read where to go next and which
//! application origin their form may end at. It holds only the request the
//! application sent, which the browser already had in its address bar; it is checked again,
//! as a whole, when it is resumed.

use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::SameSite;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{AppState, form};
use crate::domain::oidc::request::Parameters;

/// Longest request kept (a cookie holds about 4 KiB).
pub const MAX_QUERY_BYTES: usize = 3000;

pub struct Pending {
    /// `prompt=login` or `max_age` asked for a login after this time.
    pub login_after: i64,
    pub query: String,
}

fn name(state: &AppState) -> &'static str {
    if state.cookies.secure {
        "__Host-pw_authorize"
    } else {
        "pw_authorize"
    }
}

pub fn read(state: &AppState, jar: &CookieJar) -> Option<Pending> {
    let value = jar.get(name(state))?.value().to_owned();
    let (after, query) = value.split_once('.')?;
    let query = String::from_utf8(URL_SAFE_NO_PAD.decode(query).ok()?).ok()?;
    Some(Pending {
        login_after: after.parse().ok()?,
        query,
    })
}

/// Keeps `pending` (Lax: it must come along when the login's last step sends the browser on).
pub fn keep(state: &AppState, jar: CookieJar, pending: &Pending) -> CookieJar {
    let value = format!(
        "{}.{}",
        pending.login_after,
        URL_SAFE_NO_PAD.encode(&pending.query)
    );
    let mut cookie = state.cookies.cookie(name(state), value, SameSite::Lax);
    cookie.set_max_age(time::Duration::minutes(30));
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

/// Where a completed login goes on to: the waiting authorization request, else Mijn account.
pub fn after_login(state: &AppState, jar: &CookieJar) -> String {
    resume_target(state, jar).unwrap_or_else(|| "/".into())
}

/// The origin of the waiting request's registered redirect URI: a page whose form may end
/// in the redirect to the application lists it in its CSP `form-action` (browsers check that
/// directive along the redirects that follow a form).
pub async fn form_action_origin(state: &AppState, jar: &CookieJar) -> Option<String> {
    let pending = read(state, jar)?;
    let pairs = form::pairs(pending.query.as_bytes()).ok()?;
    let params = Parameters::from_pairs(pairs)?;
    let (client_id, redirect_uri) = params.target().ok()?;
    let client = state.store.client(client_id).await.ok()??;
    if !client.redirect_uris.iter().any(|u| u == redirect_uri) {
        return None;
    }
    let origin = url::Url::parse(redirect_uri).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}
