//! The userinfo endpoint (OIDC Core §5.3): the claims of the access token's scopes, for a
//! bearer token (RFC 6750 §2.1) whose grant still stands.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::liveness;
use super::token::access_token_claims;
use crate::domain::oidc::claims::person_claims;
use crate::domain::oidc::scope::Scopes;
use crate::http::{AppState, WebError};

pub async fn userinfo(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let bearer = crate::http::authorization::credentials(&headers, "Bearer");
    let Some(token) = bearer else {
        return Ok(unauthorized("Bearer realm=\"poortwachter\""));
    };
    // The grant, its session and the person in one read: userinfo is called often.
    let person = match access_token_claims(&state, token).await? {
        Some((grant_id, claims)) => state
            .store
            .live_grant_person(&grant_id, liveness(&state))
            .await?
            .map(|person| (person, claims)),
        None => None,
    };
    let Some((person, claims)) = person else {
        return Ok(unauthorized(
            "Bearer realm=\"poortwachter\", error=\"invalid_token\", error_description=\"the access token is invalid, expired or revoked, or its account is disabled\"",
        ));
    };
    let scopes = claims["scope"]
        .as_str()
        .and_then(Scopes::parse)
        .unwrap_or_default();
    let body = Value::Object(person_claims(&person, &scopes));
    Ok((
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
        ],
        axum::Json(body),
    )
        .into_response())
}

fn unauthorized(challenge: &'static str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        )],
    )
        .into_response()
}
