//! Dit apparaat onthouden: after a correct code, a browser may skip the code step (never the
//! password) for the days the organization allows. The browser holds a random id in an
//! HttpOnly cookie; the store keeps its digest, and forgets it on a password change or
//! reset, a reset of two-step verification, OVERAL UITLOGGEN and disabling.

use axum::extract::FromRequestParts;
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};

use super::AppState;
use super::WebError;
use crate::domain::recovery::browser_label;
use crate::domain::token::Token;
use crate::store::{NewDevice, UserId};

/// The request's User-Agent, for naming a remembered device (a label, never a check).
pub struct UserAgent(pub String);

impl<S: Send + Sync> FromRequestParts<S> for UserAgent {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        Ok(UserAgent(agent.chars().take(512).collect()))
    }
}

/// The cookie for this browser and the record to store with the login step.
pub fn remember(
    state: &AppState,
    user: UserId,
    user_agent: &str,
    days: u8,
) -> (Cookie<'static>, NewDevice) {
    let token = Token::generate(&mut rand::rngs::OsRng);
    let seconds = i64::from(days) * 24 * 60 * 60;
    let device = NewDevice {
        id_hash: token.hash(),
        user,
        browser: browser_label(user_agent),
        expires_at: state.clock.now() + seconds,
    };
    let mut cookie = state.cookies.cookie(
        state.cookies.device,
        token.expose().to_owned(),
        SameSite::Lax,
    );
    cookie.set_max_age(time::Duration::seconds(seconds));
    (cookie, device)
}

/// Whether this browser is remembered for `user` and may skip the code step now.
pub async fn skips_code(state: &AppState, jar: &CookieJar, user: UserId) -> Result<bool, WebError> {
    let Some(token) = jar
        .get(state.cookies.device)
        .and_then(|c| Token::parse(c.value()))
    else {
        return Ok(false);
    };
    let now = state.clock.now();
    Ok(state
        .store
        .device_skips_code(&token.hash(), user, now)
        .await?)
}
