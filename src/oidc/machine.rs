//! Tokens for machine clients (RFC 6749 §4.4, client credentials): Verzuimcoach's back end
//! and other systems that call the admin API for themselves, not for a user. The token is
//! an RFC 9068 JWT for the API's audience only, short-lived and never refreshed: a client
//! asks again with its credentials. It is checked against the client as it is now, so a
//! removed client or one whose organizations changed is refused at its next call.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::json_error;
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::oidc::client::GrantKind;
use crate::domain::oidc::request::Parameters;
use crate::domain::token::Token;
use crate::http::{AppState, WebError};
use crate::store::Client;

/// The one scope a machine client gets: manage its organizations through `/api/v1`.
pub const ADMIN_SCOPE: &str = "admin";

/// How long a machine token works. Short, so a removed client or a changed secret is not
/// outlived by its tokens for long, and long enough for a batch of calls.
pub const MACHINE_TOKEN_SECONDS: i64 = 300;

/// The `aud` of machine tokens: the admin API, never an application.
pub fn api_audience(state: &AppState) -> String {
    format!("{}/api/v1", state.settings.issuer())
}

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

/// What a bearer token presented to the admin API is.
pub enum ApiToken {
    /// A machine token of a client that still exists as a machine client.
    Machine(Client),
    /// One of our valid access tokens, but not for the API (a user's token for an
    /// application): RFC 6750 §3.1 `insufficient_scope`.
    NotForApi,
    /// Not ours, altered, expired, or its client is gone: RFC 6750 `invalid_token`.
    Invalid,
}

/// Checks a bearer token presented to the admin API: our signature and issuer, unexpired,
/// and then whether it is a machine token for the API with the admin scope whose client
/// still exists as a machine client.
pub async fn check_api_token(state: &AppState, token: &str) -> Result<ApiToken, WebError> {
    let Some(kid) = crate::signing_keys::kid_of(token) else {
        return Ok(ApiToken::Invalid);
    };
    let keys = state.keys.current().await.map_err(anyhow::Error::from)?;
    let Some(claims) = keys
        .by_kid(&kid)
        .and_then(|key| key.verify("at+jwt", token))
    else {
        return Ok(ApiToken::Invalid);
    };
    let now = state.clock.now();
    let ours = claims["exp"].as_i64().is_some_and(|exp| exp > now)
        && claims["iss"] == state.settings.issuer().as_str();
    if !ours {
        return Ok(ApiToken::Invalid);
    }
    let for_api = claims["aud"] == api_audience(state).as_str() && claims["scope"] == ADMIN_SCOPE;
    let Some(client_id) = claims["client_id"].as_str().filter(|_| for_api) else {
        return Ok(ApiToken::NotForApi);
    };
    Ok(
        match state
            .store
            .client(client_id)
            .await?
            .filter(|c| c.grant == GrantKind::ClientCredentials && claims_sub(&claims) == c.id)
        {
            Some(client) => ApiToken::Machine(client),
            None => ApiToken::Invalid,
        },
    )
}

fn claims_sub(claims: &Value) -> &str {
    claims["sub"].as_str().unwrap_or_default()
}
