//! Poortwachter as an OpenID Connect provider (OpenID Connect Core 1.0, Discovery 1.0,
//! RP-Initiated and Back-Channel Logout 1.0; OAuth 2.0 with RFC 7009, 7636, 7662, 9068,
//! 9207 and the Security BCP, RFC 9700). The rules are in `domain::oidc`, the storage in
//! `store::{ClientStore, GrantStore}`; this module is the HTTP layer around them, beside `web`, whose login
//! pages it sends users through.

mod apps;
mod authorize;
pub mod backchannel;
mod client_auth;
mod discovery;
mod logout;
pub mod machine;
mod revocation;
mod token;
mod userinfo;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::http::{AppState, WebError};
use crate::store::Liveness;

pub use authorize::withdraw_router;

/// How long an authorization code can be redeemed (RFC 6749 §4.1.2: short; ten minutes at
/// most). One minute is plenty for a server-side exchange.
pub const CODE_SECONDS: i64 = 60;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::configuration),
        )
        .route("/oauth2/jwks", get(discovery::jwks))
        .route(
            "/authorize",
            get(authorize::authorize_get).post(authorize::authorize_post),
        )
        .route("/authorize/consent", post(authorize::consent))
        .merge(json_router())
        .route(
            "/logout/end-session",
            get(logout::end_session).post(logout::end_session_confirmed),
        )
        .merge(withdraw_router())
}

/// The endpoints applications call with code, not with a browser: every error they give is
/// OAuth JSON (RFC 6749 §5.2), also the ones no handler wrote (a wrong content type, a body
/// over the limit, a busy server, a database away).
fn json_router() -> Router<AppState> {
    Router::new()
        .route("/oauth2/token", post(token::token))
        .route(
            "/oauth2/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route("/oauth2/revoke", post(revocation::revoke))
        .route("/oauth2/introspect", post(revocation::introspect))
        .layer(axum::middleware::map_response(as_oauth_error))
}

/// An error page or plain-text rejection turned into OAuth JSON with the same status; what a
/// handler already wrote (JSON, or an empty 401 whose `WWW-Authenticate` says it all, RFC
/// 6750 §3) goes out as it is. `Retry-After`, `WWW-Authenticate` and `Allow` are kept.
async fn as_oauth_error(response: Response) -> Response {
    let status = response.status();
    let written_as_text = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/"));
    if !(status.is_client_error() || status.is_server_error()) || !written_as_text {
        return response;
    }
    let (error, description) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("invalid_request", "the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "invalid_request",
            "send the parameters as application/x-www-form-urlencoded",
        ),
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => (
            "temporarily_unavailable",
            "the server cannot answer right now; try again after Retry-After seconds",
        ),
        s if s.is_server_error() => ("server_error", "the server could not answer this request"),
        _ => ("invalid_request", "the request could not be read"),
    };
    let mut answer = json_error(status, error, description);
    for name in [header::RETRY_AFTER, header::WWW_AUTHENTICATE, header::ALLOW] {
        if let Some(value) = response.headers().get(&name) {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}

/// `record` about user `user`, with the organization and username the audit log is searched
/// by (when the account still exists).
pub async fn about_user(
    store: &dyn crate::store::Store,
    record: crate::domain::audit::AuditRecord,
    user: crate::store::UserId,
) -> Result<crate::domain::audit::AuditRecord, crate::store::StoreError> {
    Ok(match store.person(user).await? {
        Some(person) => record.user(person.org_id, user, &person.username),
        None => crate::domain::audit::AuditRecord {
            user_id: Some(user),
            ..record
        },
    })
}

/// When a login session counts as live, now.
pub fn liveness(state: &AppState) -> Liveness {
    let now = state.clock.now();
    Liveness {
        now,
        idle_cutoff: now - state.settings.session_idle_seconds(),
    }
}

/// An OAuth error as JSON (RFC 6749 §5.2), never cached.
pub fn json_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({ "error": error, "error_description": description });
    (
        status,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(body),
    )
        .into_response()
}

/// A redirect back to the client's registered `redirect_uri` with `params` added to its
/// query, and `iss` (RFC 9207) always.
pub fn to_client(
    state: &AppState,
    redirect_uri: &str,
    params: &[(&str, &str)],
) -> Result<Response, WebError> {
    let mut url = url::Url::parse(redirect_uri)
        .map_err(|e| anyhow::anyhow!("registered redirect URI: {e}"))?;
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
        query.append_pair("iss", &state.settings.issuer());
    }
    Ok(Redirect::to(url.as_str()).into_response())
}
