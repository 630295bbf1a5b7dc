//! Resetting a user's two-step verification from the console: a confirmation page that
//! says what happens, a required reason (kept in the audit line), and the app's code again
//! first when the beheerder's login is older than ten minutes.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::users::refuse;
use super::{Beheerder, Frame, Section};
use crate::http::csrf::ProtectedForm;
use crate::http::{AppState, PageChrome, WebError};
use crate::store::User;
use crate::texts::Texts;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/beheer/medewerkers/{username}/reset-2fa",
        get(reset_page).post(reset),
    )
}

fn page_of(user: &User) -> String {
    format!("/beheer/medewerkers/{}/reset-2fa", user.username)
}

/// The confirmation page; `missing`: the reason was left empty.
fn render(
    state: &AppState,
    beheerder: Beheerder,
    user: User,
    missing: bool,
) -> Result<Response, WebError> {
    let status = if missing {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ResetPage {
        t: beheerder.t,
        page: beheerder.chrome(state, &page_of(&user)),
        frame: Frame::new(&beheerder, Section::Users),
        csrf: beheerder.csrf.clone(),
        username: user.username,
        name: user.display_name,
        reason: String::new(),
        missing,
    };
    let html = page.render()?;
    Ok(beheerder.page(status, html))
}

#[derive(Template)]
#[template(path = "console/reset.html")]
struct ResetPage {
    t: &'static Texts,
    page: PageChrome,
    frame: Frame,
    csrf: String,
    username: String,
    name: String,
    reason: String,
    missing: bool,
}

async fn reset_page(
    State(state): State<AppState>,
    beheerder: Beheerder,
    Path(username): Path<String>,
) -> Result<Response, WebError> {
    let (_, user) = beheerder
        .admin
        .user_of(beheerder.org(), &username)
        .await
        .map_err(|_| WebError::NotFound)?;
    // Asked before the reason is typed, so that nothing typed is lost to the confirmation.
    if beheerder.must_confirm(&state) {
        return Ok(beheerder.confirm_first(&page_of(&user)));
    }
    render(&state, beheerder, user, false)
}

#[derive(Deserialize)]
struct ResetForm {
    #[serde(default)]
    reason: String,
}

async fn reset(
    State(state): State<AppState>,
    beheerder: Beheerder,
    Path(username): Path<String>,
    ProtectedForm(form): ProtectedForm<ResetForm>,
) -> Result<Response, WebError> {
    let (_, user) = beheerder
        .admin
        .user_of(beheerder.org(), &username)
        .await
        .map_err(|_| WebError::NotFound)?;
    if user.id == beheerder.session.user.id {
        return refuse(
            &state,
            &beheerder,
            &user.username,
            beheerder.t.console.not_yourself,
        )
        .await;
    }
    let reason = form.reason.trim();
    if reason.is_empty() {
        return render(&state, beheerder, user, true);
    }
    if beheerder.must_confirm(&state) {
        return Ok(beheerder.confirm_first(&page_of(&user)));
    }
    beheerder
        .admin
        .reset_two_step(beheerder.org(), &user.username, Some(reason))
        .await
        .map_err(anyhow::Error::from)?;
    Ok(Redirect::to(&format!(
        "/beheer/medewerkers/{}?notice=reset",
        user.username
    ))
    .into_response())
}
