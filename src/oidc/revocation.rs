//! Token revocation (RFC 7009) and introspection (RFC 7662, confidential clients only).
//! A token stands for its grant: revoking either token revokes the grant, so the refresh
//! tokens and the access tokens of that login stop working together.

use axum::extract::{RawForm, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::client_auth::{Callers, authenticated_request};
use super::token::check_access_token;
use super::{json_error, liveness};
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::token::Token;
use crate::http::{AppState, ClientAddress, WebError};
use crate::store::{Client, Grant};

/// The grant behind `token`, if it is one of ours, live, and (for `own_only`) issued to
/// `client`: as a refresh token first, then as an access token.
async fn grant_of(
    state: &AppState,
    client: &Client,
    token: &str,
    own_only: bool,
) -> Result<Option<(Grant, Option<serde_json::Value>)>, WebError> {
    if let Some(refresh) = Token::parse(token)
        && let Some(grant) = state
            .store
            .grant_of_refresh_token(&refresh.hash(), &client.id, liveness(state))
            .await?
    {
        return Ok(Some((grant, None)));
    }
    Ok(check_access_token(state, token)
        .await?
        .filter(|(grant, _)| !own_only || grant.client_id == client.id)
        .map(|(grant, claims)| (grant, Some(claims))))
}

pub async fn revoke(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> Result<Response, WebError> {
    let request = authenticated_request(&state, &headers, &body, &address, Callers::Any).await?;
    let (params, client) = match request {
        Ok(request) => request,
        Err(refused) => return Ok(refused),
    };
    let Some(token) = params.get("token") else {
        return Ok(json_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "token is required",
        ));
    };
    // A client revokes only its own tokens; an unknown token is answered the same (§2.2).
    if let Some((grant, _)) = grant_of(&state, &client, token, true).await? {
        let now = state.clock.now();
        let record = AuditRecord::new(now, AuditEvent::TokensRevoked, Outcome::Success)
            .client(&address)
            .detail(client.id.clone());
        let record = super::about_user(state.store.as_ref(), record, grant.user_id).await?;
        state.store.revoke_grant(&grant.id, now, &record).await?;
    }
    Ok((
        StatusCode::OK,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
    )
        .into_response())
}

pub async fn introspect(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> Result<Response, WebError> {
    let request =
        authenticated_request(&state, &headers, &body, &address, Callers::Confidential).await?;
    let (params, client) = match request {
        Ok(request) => request,
        Err(refused) => return Ok(refused),
    };
    let Some(token) = params.get("token") else {
        return Ok(json_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "token is required",
        ));
    };
    // Access tokens may be checked by any confidential client (an API is a client of its
    // own); refresh tokens only by the client that holds them.
    let body = match grant_of(&state, &client, token, false).await? {
        Some((_, Some(claims))) => json!({
            "active": true,
            "token_type": "access_token",
            "scope": claims["scope"],
            "client_id": claims["client_id"],
            "sub": claims["sub"],
            "aud": claims["aud"],
            "iss": claims["iss"],
            "exp": claims["exp"],
            "iat": claims["iat"],
            "sid": claims["sid"],
        }),
        Some((grant, None)) => json!({
            "active": true,
            "token_type": "refresh_token",
            "scope": grant.scope,
            "client_id": grant.client_id,
            "iss": state.settings.issuer(),
        }),
        None => json!({ "active": false }),
    };
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(body),
    )
        .into_response())
}
