//! Tokens for machine clients (RFC 6749 §4.4, client credentials): Verzuimcoach's back end
//! and other systems that call the admin API for themselves, not for a user. The token is
//! an RFC 9068 JWT for the API's audience only, short-lived and never refreshed: a client
//! asks again with its credentials. It is checked against the client as it is now, so a
//! removed client or one whose organizations changed is refused at its next call.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::json_error;
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::oidc::request::Parameters;
use crate::domain::token::Token;
use crate::http::bearer::{ADMIN_SCOPE, MACHINE_TOKEN_SECONDS, api_audience};
use crate::http::{AppState, WebError};
use crate::store::Client;

/// `grant_type=client_credentials` for an authenticated machine client.
pub async fn client_credentials(
    state: &AppState,
    client: &Client,
    params: &Parameters,
    address: &str,
) -> Result<Response, WebError> {
    if let Some(asked) = params.get("scope")
        && asked.split(' ').any(|s| s != ADMIN_SCOPE)
    {
        return Ok(json_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "a machine client has the scope admin only",
        ));
    }
    let now = state.clock.now();
    let keys = state.keys.current().await.map_err(anyhow::Error::from)?;
    let key = keys
        .signer(Default::default(), now)
        .ok_or_else(|| anyhow::anyhow!("no signing key"))?;
    let jti = Token::generate(&mut rand::rngs::OsRng);
    let claims = json!({
        "iss": state.settings.issuer(),
        "sub": client.id,
        "aud": api_audience(state),
        "client_id": client.id,
        "iat": now,
        "exp": now + MACHINE_TOKEN_SECONDS,
        "jti": &jti.expose()[..22],
        "scope": ADMIN_SCOPE,
    });
    let access_token = key.sign("at+jwt", &claims);
    let record = AuditRecord::new(now, AuditEvent::TokensIssued, Outcome::Success)
        .client(address)
        .detail(format!("{} client_credentials", client.id));
    state.store.record_audit(&[record]).await?;
    let body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": MACHINE_TOKEN_SECONDS,
        "scope": ADMIN_SCOPE,
    });
    Ok((
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
        ],
        axum::Json(body),
    )
        .into_response())
}
