//! Dit apparaat onthouden: after a correct code, a browser may skip the code step (never the
//! password) for the days the organization allows. The browser holds a random id in an
//! HttpOnly cookie; the store keeps its digest, and forgets it on a password change or
//! reset, a reset of two-step verification, OVERAL UITLOGGEN and disabling.

use axum::extract::FromRequestParts;
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};

use crate::domain::token::{Token, TokenHash};
use crate::http::AppState;
use crate::login::devices;

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

/// The cookie that keeps a remembered browser's secret for `days`.
pub fn cookie(state: &AppState, token: &Token, days: u8) -> Cookie<'static> {
    let value = token.expose().to_owned();
    let mut cookie = state
        .cookies
        .cookie(state.cookies.device, value, SameSite::Lax);
    cookie.set_max_age(time::Duration::seconds(devices::remembered_seconds(days)));
    cookie
}

/// The remembered-device id this browser holds, if any.
pub fn held_by(state: &AppState, jar: &CookieJar) -> Option<TokenHash> {
    jar.get(state.cookies.device)
        .and_then(|c| Token::parse(c.value()))
        .map(|token| token.hash())
}
