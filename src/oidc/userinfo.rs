//! The userinfo endpoint (OIDC Core §5.3): the claims of the access token's scopes, for a
//! bearer token (RFC 6750 §2.1) whose grant still stands.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::token::{check_access_token, person};
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
    let Some((grant, claims)) = check_access_token(&state, token).await? else {
        return Ok(unauthorized(
            "Bearer realm=\"poortwachter\", error=\"invalid_token\", error_description=\"the access token is invalid, expired or revoked\"",
        ));
    };
    let Some(person) = person(&state, grant.user_id).await? else {
        return Ok(unauthorized(
            "Bearer realm=\"poortwachter\", error=\"invalid_token\"",
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
