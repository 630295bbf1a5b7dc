//! Inviting one employee from the console.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::{Beheerder, Frame, Section, problem_text};
use crate::admin::BatchResult;
use crate::domain::bulk_invite::{self, RawRow};
use crate::http::csrf::ProtectedForm;
use crate::http::{AppState, PageChrome, WebError};
use crate::texts::Texts;

pub fn router() -> Router<AppState> {
    Router::new().route("/beheer/uitnodigen", get(page).post(invite))
}

#[derive(Template)]
#[template(path = "console/invite.html")]
struct InvitePage {
    t: &'static Texts,
    page: PageChrome,
    frame: Frame,
    csrf: String,
    username: String,
    email: String,
    name: String,
    problems: Vec<String>,
}

#[derive(Deserialize)]
struct PageQuery {
    invited: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    beheerder: Beheerder,
    Query(query): Query<PageQuery>,
) -> Result<Response, WebError> {
    let mut frame = Frame::new(&beheerder, Section::Invite);
    frame.notice = query
        .invited
        .map(|name| beheerder.t.fill(beheerder.t.console.invited_notice, name));
    let page = InvitePage {
        t: beheerder.t,
        page: beheerder.chrome(&state, "/beheer/uitnodigen"),
        frame,
        csrf: beheerder.csrf.clone(),
        username: String::new(),
        email: String::new(),
        name: String::new(),
        problems: Vec::new(),
    };
    let html = page.render()?;
    Ok(beheerder.page(StatusCode::OK, html))
}

#[derive(Deserialize)]
struct InviteForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
}

async fn invite(
    State(state): State<AppState>,
    beheerder: Beheerder,
    ProtectedForm(form): ProtectedForm<InviteForm>,
) -> Result<Response, WebError> {
    let t = beheerder.t;
    // The same checks as a row of a CSV upload, with the same words.
    let checks = bulk_invite::check_rows(vec![RawRow {
        line: 1,
        username: form.username.clone(),
        email: form.email.clone(),
        display_name: form.name.clone(),
    }]);
    let mut problems: Vec<String> = checks[0]
        .problems
        .iter()
        .map(|p| t.console.row_problem(p))
        .collect();
    if problems.is_empty() {
        let prepared = beheerder
            .admin
            .prepare_batch(beheerder.org(), checks)
            .await
            .map_err(anyhow::Error::from)?;
        let refused = match prepared {
            Ok(batch) => {
                let username = batch.items[0].invitation.username.clone();
                match beheerder.admin.send_batch(batch, None).await {
                    Ok(BatchResult::Invited { .. }) => {
                        let to = format!("/beheer/uitnodigen?invited={username}");
                        return Ok(Redirect::to(&to).into_response());
                    }
                    // Taken meanwhile, or the same invitation at the same moment.
                    Ok(BatchResult::Refused(refused)) => refused,
                    Ok(BatchResult::AlreadyAnswered) => Vec::new(),
                    Err(e) => {
                        problems.push(problem_text(t, &e));
                        Vec::new()
                    }
                }
            }
            Err(refused) => refused,
        };
        for check in &refused {
            problems.extend(check.problems.iter().map(|p| t.console.row_problem(p)));
        }
    }
    let page = InvitePage {
        t,
        page: beheerder.chrome(&state, "/beheer/uitnodigen"),
        frame: Frame::new(&beheerder, Section::Invite),
        csrf: beheerder.csrf.clone(),
        username: form.username,
        email: form.email,
        name: form.name,
        problems,
    };
    let html = page.render()?;
    Ok(beheerder.page(StatusCode::UNPROCESSABLE_ENTITY, html))
}
