//! Client authentication at the token, revocation and introspection endpoints (RFC 6749
//! §2.3.1): `client_secret_basic` or `client_secret_post` for confidential clients, the
//! `client_id` alone for public ones. Failures are counted against the caller's address in
//! the same throttle as failed logins; an address that must wait is refused unchecked.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use subtle::ConstantTimeEq;

use super::json_error;
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::oidc::request::Parameters;
use crate::domain::throttle::Subject;
use crate::domain::token::Token;
use crate::http::{AppState, WebError, form};
use crate::store::{Client, ThrottleCheck};

/// Who may call: any registered client, or only confidential ones (introspection).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Callers {
    Any,
    Confidential,
}

/// The credentials a request carries.
struct Credentials {
    client_id: String,
    secret: Option<String>,
}

fn credentials(
    headers: &HeaderMap,
    params: &Parameters,
) -> Result<Option<Credentials>, &'static str> {
    let basic = crate::http::authorization::credentials(headers, "Basic");
    match basic {
        Some(encoded) => {
            if params.get("client_secret").is_some() {
                return Err("use one client authentication method, not two");
            }
            let decoded = STANDARD
                .decode(encoded.trim())
                .map_err(|_| "malformed Basic credentials")?;
            let decoded = String::from_utf8(decoded).map_err(|_| "malformed Basic credentials")?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or("malformed Basic credentials")?;
            // RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined.
            let decode = |s: &str| form::decode(s.as_bytes());
            let client_id = decode(id).map_err(|_| "malformed Basic credentials")?;
            if params
                .get("client_id")
                .is_some_and(|body| body != client_id)
            {
                return Err("client_id differs from the authenticated client");
            }
            Ok(Some(Credentials {
                client_id,
                secret: Some(decode(secret).map_err(|_| "malformed Basic credentials")?),
            }))
        }
        None => Ok(params.get("client_id").map(|id| Credentials {
            client_id: id.to_owned(),
            secret: params.get("client_secret").map(str::to_owned),
        })),
    }
}

/// The parameters of a form body, each at most once; `None` when it cannot be read.
fn form_parameters(body: &[u8]) -> Option<Parameters> {
    let pairs = form::pairs(body).ok()?;
    Parameters::from_pairs(pairs)
}

/// A request to the token, revocation or introspection endpoint: its form and the calling
/// client, or the answer to give instead (`invalid_request`, `invalid_client`).
pub async fn authenticated_request(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    address: &str,
    callers: Callers,
) -> Result<Result<(Parameters, Client), Response>, WebError> {
    let Some(params) = form_parameters(body) else {
        return Ok(Err(json_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body is not a form, or a parameter is repeated or too long",
        )));
    };
    Ok(authenticate(state, headers, &params, address, callers)
        .await?
        .map(|client| (params, client)))
}

/// The calling client, or the answer to give instead (RFC 6749 §5.2 `invalid_client`).
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    params: &Parameters,
    address: &str,
    callers: Callers,
) -> Result<Result<Client, Response>, WebError> {
    let credentials = match credentials(headers, params) {
        Ok(Some(credentials)) => credentials,
        Ok(None) => return Ok(Err(invalid_client("client authentication is required"))),
        Err(reason) => {
            return Ok(Err(json_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                reason,
            )));
        }
    };
    let now = state.clock.now();
    let address_subject = Subject::address(address).key();
    if let Some(until) = state.store.waiting_until(&address_subject, now).await? {
        let mut refused =
            invalid_client("too many failed attempts from this address; try again later");
        if let Ok(value) = HeaderValue::from_str(&(until - now).max(1).to_string()) {
            refused.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Ok(Err(refused));
    }
    let client = state.store.client(&credentials.client_id).await?;
    let verified = client.filter(|client| match (&client.secret_hash, &credentials.secret) {
        (Some(stored), Some(given)) => {
            Token::parse(given).is_some_and(|given| bool::from(given.hash().0.ct_eq(&stored.0)))
        }
        (None, None) => callers == Callers::Any,
        _ => false,
    });
    if let Some(client) = verified {
        return Ok(Ok(client));
    }
    let policy = state.settings.address_throttle();
    let check = ThrottleCheck {
        subject: address_subject,
        policy: &policy,
    };
    state.store.reserve_attempt(&[check], None, now).await?;
    let mut record = AuditRecord::new(now, AuditEvent::ClientAuthentication, Outcome::Failure)
        .client(address)
        .detail(credentials.client_id.chars().take(100).collect::<String>());
    record.username = None;
    state.store.record_audit(&[record]).await?;
    Ok(Err(invalid_client("client authentication failed")))
}

fn invalid_client(description: &str) -> Response {
    let mut response = json_error(StatusCode::UNAUTHORIZED, "invalid_client", description);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"poortwachter\""),
    );
    response
}
