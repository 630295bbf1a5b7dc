//! Toegang controleren: the test login a look-ahead mail links to. Opening the page starts
//! it (a cookie holding when); the login pages then ask for a new login even from a browser
//! that is logged in, and the login's end comes back to the page instead of going on.
//!
//! The cookie holds only a time, unsealed: a browser that alters it can at most skip its
//! own test login or be asked to log in again; it decides nothing about anyone's access.

use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::SameSite;

use super::AppState;
use crate::store::Session;

/// Where the test login starts and ends.
pub const PAGE: &str = "/toegang";

/// How long a started test login waits for its login.
const LIFETIME_SECONDS: i64 = 30 * 60;

fn name(state: &AppState) -> &'static str {
    if state.cookies.secure {
        "__Host-pw_access_check"
    } else {
        "pw_access_check"
    }
}

/// Starts a test login now.
pub fn start(state: &AppState, jar: CookieJar) -> CookieJar {
    let mut cookie =
        state
            .cookies
            .cookie(name(state), state.clock.now().to_string(), SameSite::Lax);
    cookie.set_max_age(time::Duration::seconds(LIFETIME_SECONDS));
    jar.add(cookie)
}

/// The browser's test login, if it started less than half an hour ago.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    pub started: i64,
    /// Its result was shown (and recorded): a reload shows it again, nothing more.
    pub done: bool,
}

pub fn read(state: &AppState, jar: &CookieJar) -> Option<Check> {
    let value = jar.get(name(state))?.value();
    let (started, done) = match value.strip_suffix(".done") {
        Some(started) => (started, true),
        None => (value, false),
    };
    let started: i64 = started.parse().ok()?;
    (0..=LIFETIME_SECONDS)
        .contains(&(state.clock.now() - started))
        .then_some(Check { started, done })
}

/// A test login that waits for its login: the end of a login comes back to the page.
pub fn waiting(state: &AppState, jar: &CookieJar) -> bool {
    read(state, jar).is_some_and(|check| !check.done)
}

/// The test login is waiting for a login newer than `session`.
pub fn awaits_login(state: &AppState, jar: &CookieJar, session: &Session) -> bool {
    read(state, jar).is_some_and(|check| !check.done && session.created_at < check.started)
}

/// Marks the test login done (its result shown), keeping when it started.
pub fn finish(state: &AppState, jar: CookieJar, check: Check) -> CookieJar {
    let value = format!("{}.done", check.started);
    let mut cookie = state.cookies.cookie(name(state), value, SameSite::Lax);
    cookie.set_max_age(time::Duration::seconds(
        LIFETIME_SECONDS - (state.clock.now() - check.started).max(0),
    ));
    jar.add(cookie)
}
