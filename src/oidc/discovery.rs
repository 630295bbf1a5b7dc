//! OpenID Provider metadata (OpenID Connect Discovery 1.0, RFC 8414) and the JWKS.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::domain::oidc::client::SigningAlg;
use crate::domain::oidc::scope;
use crate::http::{AppState, WebError};

/// Public, the same for everyone: any origin may read it, caches may keep it a while.
fn public_json(body: serde_json::Value, max_age: &'static str) -> Response {
    (
        [
            (header::CACHE_CONTROL, HeaderValue::from_static(max_age)),
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
        ],
        Json(body),
    )
        .into_response()
}

pub async fn configuration(State(state): State<AppState>) -> Response {
    let issuer = state.settings.issuer();
    let at = |path: &str| format!("{issuer}{path}");
    let algs: Vec<&str> = SigningAlg::ALL.iter().map(|a| a.as_str()).collect();
    public_json(
        json!({
            "issuer": issuer,
            "authorization_endpoint": at("/authorize"),
            "token_endpoint": at("/oauth2/token"),
            "userinfo_endpoint": at("/oauth2/userinfo"),
            "jwks_uri": at("/oauth2/jwks"),
            "revocation_endpoint": at("/oauth2/revoke"),
            "introspection_endpoint": at("/oauth2/introspect"),
            "end_session_endpoint": at("/logout/end-session"),
            "scopes_supported": scope::SUPPORTED,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": algs,
            "userinfo_signing_alg_values_supported": ["none"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": [
                "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "sid", "acr", "amr", "azp",
                "name", "preferred_username", "locale", "email", "email_verified", "organization"
            ],
            "acr_values_supported": crate::domain::login_method::ACR_VALUES,
            "prompt_values_supported": ["none", "login", "consent"],
            "ui_locales_supported": ["nl", "en"],
            "claims_parameter_supported": false,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "authorization_response_iss_parameter_supported": true,
            "backchannel_logout_supported": true,
            "backchannel_logout_session_supported": true,
            "frontchannel_logout_supported": false,
        }),
        "public, max-age=300",
    )
}

pub async fn jwks(State(state): State<AppState>) -> Result<Response, WebError> {
    let keys = state.keys.current().await.map_err(anyhow::Error::from)?;
    // Short: a rotated key must reach applications within its overlap.
    Ok(public_json(
        keys.jwks(state.clock.now()),
        "public, max-age=60",
    ))
}
