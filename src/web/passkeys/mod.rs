//! The passkey pages: adding and removing passkeys (`account`), PASSKEY as the second step
//! (`second_step`) and "Inloggen met een passkey" (`login`). They are the only pages with a
//! script: `/static/passkey.js`, allowed by their CSP (`script-src 'self'`) and nothing else.
//!
//! Each page begins a ceremony: its state (with the challenge) is stored for five minutes
//! under a random id that the page's form carries; the answer takes it out of the store,
//! so a challenge is answered once, on any instance.

mod account;
mod login;
mod second_step;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use crate::domain::account::LoginStage;
use crate::domain::audit::{AuditRecord, Outcome};
use crate::domain::login_method::{KeyKind, LoginMethod};
use crate::domain::passkey::{CEREMONY_SECONDS, Purpose};
use crate::domain::token::Token;
use crate::http::session;
use crate::http::{AppState, WebError};
use crate::passkeys::{Started, StoredCredential, UsedCredential};
use crate::store::{Ceremony, NewCeremony, PasskeyRow, PasskeyUse, Settlement, StoreError, UserId};

pub use account::PAGE;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(account::router())
        .merge(second_step::router())
        .merge(login::router())
}

/// A ceremony begun: the id the page's form sends back, and the options for the script.
pub(super) struct Begun {
    pub ceremony: String,
    pub options: String,
}

pub(super) async fn begin(
    state: &AppState,
    purpose: Purpose,
    user: Option<UserId>,
    started: Started,
) -> Result<Begun, WebError> {
    let token = Token::generate(&mut rand::rngs::OsRng);
    let ceremony = NewCeremony {
        id: token.hash(),
        purpose,
        user,
        state: &started.state,
        expires_at: state.clock.now() + CEREMONY_SECONDS,
    };
    state.store.save_ceremony(&ceremony).await?;
    Ok(Begun {
        ceremony: token.expose().to_owned(),
        options: started.options.to_string(),
    })
}

/// The ceremony the form names, taken out of the store; otherwise how it is gone: never
/// made or answered before (`Replayed`), or past its five minutes (`Expired`).
pub(super) async fn take(
    state: &AppState,
    id: &str,
    purpose: Purpose,
) -> Result<Result<Ceremony, Outcome>, WebError> {
    let Some(token) = Token::parse(id) else {
        return Ok(Err(Outcome::Replayed));
    };
    Ok(
        match state.store.take_ceremony(&token.hash(), purpose).await? {
            None => Err(Outcome::Replayed),
            Some(c) if c.expires_at <= state.clock.now() => Err(Outcome::Expired),
            Some(c) => Ok(c),
        },
    )
}

/// The answer of a passkey page's form: the ceremony's id and the browser's JSON.
#[derive(Deserialize)]
pub(super) struct AnswerForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub ceremony: String,
    #[serde(default)]
    pub response: String,
}

pub(super) fn credentials(rows: &[PasskeyRow]) -> Result<Vec<StoredCredential>, WebError> {
    rows.iter()
        .map(|row| {
            let credential = serde_json::from_str(&row.credential)
                .map_err(|_| StoreError::Corrupt(format!("passkey {}", row.id)))?;
            Ok(StoredCredential {
                id: row.id,
                credential,
            })
        })
        .collect()
}

/// What the store keeps of a passkey after a successful use.
fn passkey_use(used: &UsedCredential) -> Result<PasskeyUse, WebError> {
    Ok(PasskeyUse {
        id: used.id,
        previous_counter: used.previous_counter,
        credential: serde_json::to_string(&used.credential).map_err(anyhow::Error::from)?,
        counter: used.credential.counter,
        backup_eligible: used.credential.backup_eligible,
        backup_state: used.credential.backup_state,
    })
}

/// The login completes with `used`: a new session (how: `method`), the audit line, and the
/// passkey's new counter, in one transaction. `Err(record)` (as `Replayed`) when another
/// answer of the same passkey was stored first; nothing happened then.
pub(super) async fn complete_login(
    state: &AppState,
    jar: CookieJar,
    used: &UsedCredential,
    method: fn(KeyKind) -> LoginMethod,
    record: AuditRecord,
    user: UserId,
) -> Result<Result<Response, AuditRecord>, WebError> {
    let method = method(KeyKind::from_backup_eligible(
        used.credential.backup_eligible,
    ));
    let (logged_in, next) =
        session::fresh(state, jar.clone(), user, LoginStage::Complete, Some(method));
    let settlement = Settlement {
        audit: vec![AuditRecord {
            outcome: Outcome::Success,
            ..record.clone()
        }],
        session: Some(next),
        now: record.at,
        ..Settlement::default()
    };
    if !state
        .store
        .use_passkey(&passkey_use(used)?, &settlement)
        .await?
    {
        return Ok(Err(AuditRecord {
            outcome: Outcome::Replayed,
            ..record
        }));
    }
    let after = crate::login::second_step::after_passkey(state, user).await?;
    let next = super::second_factor::next_page(state, &jar, after);
    Ok(Ok((logged_in, Redirect::to(&next)).into_response()))
}

/// A passkey page: its own script allowed, forms to ourselves and (where the login may
/// end in the redirect to an application) that application's origin.
pub(super) fn with_script(response: impl IntoResponse, form_origin: Option<&str>) -> Response {
    let mut response = response.into_response();
    let csp = crate::http::content_security_policy(form_origin, true);
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}
