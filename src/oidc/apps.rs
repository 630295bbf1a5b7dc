//! "Gekoppelde apps" on the logged-in page: the applications the user allowed, and
//! withdrawing that consent (which also revokes what those applications hold).

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;

use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::store::{Consent, UserId};
use crate::web::csrf::{CsrfField, ProtectedForm};
use crate::web::session::CurrentSession;
use crate::web::{AppState, ClientAddress, WebError};

pub fn withdraw_router() -> Router<AppState> {
    Router::new().route("/apps/withdraw", post(withdraw))
}

/// The user's consents, for the logged-in page.
pub async fn apps_of(state: &AppState, user: UserId) -> Result<Vec<Consent>, WebError> {
    Ok(state.store.consents_of_user(user).await?)
}

#[derive(Deserialize)]
pub struct WithdrawForm {
    #[serde(default)]
    csrf: String,
    client_id: String,
}

impl CsrfField for WithdrawForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn withdraw(
    State(state): State<AppState>,
    current: CurrentSession,
    ClientAddress(address): ClientAddress,
    ProtectedForm(form): ProtectedForm<WithdrawForm>,
) -> Result<Response, WebError> {
    let Some(session) = current.complete() else {
        return Ok(Redirect::to("/login").into_response());
    };
    let now = state.clock.now();
    let record = AuditRecord::new(now, AuditEvent::ConsentWithdrawn, Outcome::Success)
        .user(session.org.id, session.user.id, &session.user.username)
        .client(&address)
        .detail(form.client_id.chars().take(100).collect::<String>());
    state
        .store
        .withdraw_consent(session.user.id, &form.client_id, now, &record)
        .await?;
    Ok(Redirect::to("/?notice=app_withdrawn").into_response())
}
