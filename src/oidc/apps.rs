//! "Gekoppelde apps" on the logged-in page: the applications the user allowed, and
//! withdrawing that consent (which also revokes what those applications hold).

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;

use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};

use crate::http::csrf::ProtectedForm;
use crate::http::session::LoggedIn;
use crate::http::{AppState, ClientAddress, WebError};

pub fn withdraw_router() -> Router<AppState> {
    Router::new().route("/apps/withdraw", post(withdraw))
}

#[derive(Deserialize)]
pub struct WithdrawForm {
    client_id: String,
}

async fn withdraw(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    ClientAddress(address): ClientAddress,
    ProtectedForm(form): ProtectedForm<WithdrawForm>,
) -> Result<Response, WebError> {
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
