//! `Idempotency-Key` on the requests that send mail (invitations): a retried request with
//! the same key gets the first answer again and sends nothing. The answer is stored in the
//! same transaction as the invitations, so there is no moment at which the mail is queued
//! but the key not yet taken.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::caller::Caller;
use super::problem::{Kind, Problem};
use crate::domain::token::TokenHash;
use crate::http::AppState;
use crate::store::{IDEMPOTENCY_SECONDS, IdempotentAnswer};

/// A request that carries an `Idempotency-Key`.
pub struct Keyed {
    pub key: String,
    pub fingerprint: TokenHash,
}

impl Keyed {
    /// The key of the request, if it has one; refused if it is not 1 to 255 visible
    /// characters.
    pub fn of(
        caller: &Caller,
        headers: &HeaderMap,
        method: &Method,
        path: &str,
        body: &[u8],
    ) -> Result<Option<Keyed>, Problem> {
        let Some(value) = headers.get("idempotency-key") else {
            return Ok(None);
        };
        let key = value
            .to_str()
            .ok()
            .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| {
                caller.problem(
                    Kind::InvalidRequest,
                    "Idempotency-Key: 1 to 255 visible ASCII characters",
                )
            })?;
        let mut digest = Sha256::new();
        for part in [method.as_str().as_bytes(), path.as_bytes(), body] {
            digest.update((part.len() as u64).to_be_bytes());
            digest.update(part);
        }
        Ok(Some(Keyed {
            key: key.to_owned(),
            fingerprint: TokenHash(digest.finalize().into()),
        }))
    }

    /// The answer to give now if this key was used before: the stored one, or a refusal
    /// when it was used for another request.
    pub async fn earlier_answer(
        &self,
        state: &AppState,
        caller: &Caller,
    ) -> Result<Option<Response>, Problem> {
        let since = state.clock.now() - IDEMPOTENCY_SECONDS;
        let Some(stored) = state
            .store
            .idempotent_answer(&caller.client.id, &self.key, since)
            .await?
        else {
            return Ok(None);
        };
        if stored.fingerprint != self.fingerprint {
            return Err(caller.problem(
                Kind::IdempotencyMismatch,
                "this Idempotency-Key was used for a different request in the last 24 hours",
            ));
        }
        Ok(Some(replay(&stored)))
    }

    /// The answer to store with what the request does.
    pub fn answer(
        &self,
        state: &AppState,
        caller: &Caller,
        status: StatusCode,
        body: String,
    ) -> IdempotentAnswer {
        IdempotentAnswer {
            client_id: caller.client.id.clone(),
            key: self.key.clone(),
            fingerprint: self.fingerprint,
            status: status.as_u16(),
            body,
            created_at: state.clock.now(),
        }
    }
}

/// A stored answer, sent again.
pub fn replay(stored: &IdempotentAnswer) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::HeaderName::from_static("idempotent-replayed"),
                HeaderValue::from_static("true"),
            ),
        ],
        stored.body.clone(),
    )
        .into_response()
}

/// A JSON answer from its already serialised body.
pub fn json_answer(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}
