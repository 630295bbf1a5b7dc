//! BEVESTIGEN: the app's code again before a destructive action, when the beheerder's
//! login is older than ten minutes. Counted like any code attempt (the same throttle), a
//! code used once cannot be used again, and the way back is only ever a console page.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::{Beheerder, Frame, Section};
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::http::csrf::ProtectedForm;
use crate::http::{AppState, ClientAddress, PageChrome, WebError};
use crate::texts::Texts;

pub fn router() -> Router<AppState> {
    Router::new().route("/beheer/bevestigen", get(page).post(confirm))
}

/// Where to go after confirming: a console page, nothing else (no open redirect).
fn back_to(text: &str) -> String {
    let safe = text.starts_with("/beheer/")
        && !text.contains("//")
        && !text.contains('\\')
        && text.chars().all(|c| c.is_ascii_graphic());
    if safe {
        text.to_owned()
    } else {
        "/beheer".to_owned()
    }
}

#[derive(Template)]
#[template(path = "console/confirm.html")]
struct ConfirmPage {
    t: &'static Texts,
    page: PageChrome,
    frame: Frame,
    csrf: String,
    back: String,
}

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    terug: String,
}

async fn page(
    State(state): State<AppState>,
    beheerder: Beheerder,
    Query(query): Query<PageQuery>,
) -> Result<Response, WebError> {
    render(
        &state,
        beheerder,
        back_to(&query.terug),
        None,
        StatusCode::OK,
    )
}

fn render(
    state: &AppState,
    beheerder: Beheerder,
    back: String,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let mut frame = Frame::new(&beheerder, Section::Users);
    frame.error = error;
    let page = ConfirmPage {
        t: beheerder.t,
        page: beheerder.chrome(state, "/beheer/bevestigen"),
        frame,
        csrf: beheerder.csrf.clone(),
        back,
    };
    let html = page.render()?;
    Ok(beheerder.page(status, html))
}

#[derive(Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    terug: String,
}

async fn confirm(
    State(state): State<AppState>,
    beheerder: Beheerder,
    ClientAddress(client): ClientAddress,
    ProtectedForm(form): ProtectedForm<ConfirmForm>,
) -> Result<Response, WebError> {
    let t = beheerder.t;
    let back = back_to(&form.terug);
    let session = &beheerder.session;
    let user = &session.user;
    let record = AuditRecord::new(state.clock.now(), AuditEvent::LoginCode, Outcome::Failure)
        .user(session.org.id, user.id, &user.username)
        .client(&client)
        .detail("console confirmation");
    let id = session.id_hash;
    let confirmed =
        crate::login::confirm::with_code(&state, t, session, &client, &form.code, record, |then| {
            then.confirm_session = Some(id);
        })
        .await?;
    match confirmed {
        None => Err(WebError::NotFound),
        Some(Ok(())) => Ok(Redirect::to(&back).into_response()),
        Some(Err(refused)) => {
            let status = refused.status();
            render(&state, beheerder, back, Some(refused.message), status)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::back_to;

    #[test]
    fn only_console_pages_are_a_way_back() {
        assert_eq!(
            back_to("/beheer/medewerkers/jan"),
            "/beheer/medewerkers/jan"
        );
        for evil in [
            "https://evil.test/",
            "//evil.test",
            "/beheer//evil",
            "/login",
            "/beheer/\\x",
            "",
        ] {
            assert_eq!(back_to(evil), "/beheer", "{evil}");
        }
    }
}
