//! Machine tokens (OAuth 2.0 client credentials, RFC 6749 §4.4) as the admin API sees them:
//! which audience and scope they carry, and what a bearer token presented to `/api/v1` is.
//! In the kit because two features share it: OpenID Connect issues these tokens, the admin
//! API checks them.

use serde_json::Value;

use super::{AppState, WebError};
use crate::domain::oidc::client::GrantKind;
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
