//! Toegang op orde for HR (`/beheer/toegang`): the employees with an expected login in the
//! next days and whether they will manage it — blocked first — each with the one action
//! that fixes it (enable, unlock, resend the invitation, reset two-step verification with a
//! reason, check the e-mail address). The judgement is `domain::readiness`.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::{Beheerder, Frame, Section};
use crate::domain::expected_login::HrAction;
use crate::domain::readiness::Readiness;
use crate::http::{AppState, PageChrome, WebError};
use crate::texts::{Texts, access};

pub const PAGE: &str = "/beheer/toegang";

/// How far ahead the overview looks unless asked otherwise.
const DEFAULT_DAYS: u32 = 14;

pub fn router() -> Router<AppState> {
    Router::new().route(PAGE, get(overview))
}

/// How HR's action is taken: a button (a POST to the user's action) or a link to the page
/// that asks more (a reason, a confirmation).
enum ActionForm {
    Post { action: &'static str },
    Link { href: String },
}

struct Row {
    username: String,
    name: String,
    due: String,
    label: Option<String>,
    /// ready, at_risk, blocked: the row's class.
    state: &'static str,
    state_words: &'static str,
    reasons: Vec<&'static str>,
    mailed: Option<String>,
    action: Option<(&'static str, ActionForm)>,
}

#[derive(Template)]
#[template(path = "console/access.html")]
struct AccessPage {
    t: &'static Texts,
    page: PageChrome,
    frame: Frame,
    csrf: String,
    days: u32,
    rows: Vec<Row>,
}

#[derive(serde::Deserialize)]
struct PageQuery {
    notice: Option<String>,
    days: Option<u32>,
}

fn action_form(action: HrAction, username: &str) -> ActionForm {
    match action {
        HrAction::Enable => ActionForm::Post {
            action: "inschakelen",
        },
        HrAction::Unlock => ActionForm::Post {
            action: "ontgrendelen",
        },
        HrAction::ResendInvitation => ActionForm::Post {
            action: "uitnodiging",
        },
        HrAction::ResetTwoStep => ActionForm::Link {
            href: format!("/beheer/medewerkers/{username}/reset-2fa"),
        },
        HrAction::CheckEmail => ActionForm::Link {
            href: format!("/beheer/medewerkers/{username}"),
        },
    }
}

async fn overview(
    State(state): State<AppState>,
    beheerder: Beheerder,
    Query(query): Query<PageQuery>,
) -> Result<Response, WebError> {
    let t = beheerder.t;
    let days = query.days.unwrap_or(DEFAULT_DAYS).clamp(1, 366);
    let lines = beheerder
        .admin
        .access_overview(beheerder.org(), days)
        .await
        .map_err(anyhow::Error::from)?;
    let rows = lines
        .iter()
        .map(|line| {
            let (state, state_words) = match line.readiness {
                Readiness::Ready => ("ready", t.access.ready),
                Readiness::AtRisk(_) => ("at_risk", t.access.at_risk),
                Readiness::Blocked(_) => ("blocked", t.access.blocked),
            };
            Row {
                username: line.user.username.clone(),
                name: line.user.display_name.clone(),
                due: t.day(line.expected.due_at),
                label: line.expected.label.clone(),
                state,
                state_words,
                reasons: line
                    .readiness
                    .reasons()
                    .iter()
                    .map(|r| access::for_hr(t.lang, *r))
                    .collect(),
                mailed: line
                    .expected
                    .reminded_at
                    .map(|at| t.fill(t.access.console_mail_sent, t.day(at))),
                action: line.action.map(|a| {
                    (
                        access::action_words(t.lang, a),
                        action_form(a, &line.user.username),
                    )
                }),
            }
        })
        .collect();
    let mut frame = Frame::new(&beheerder, Section::Access);
    frame.notice = query
        .notice
        .as_deref()
        .and_then(|key| super::users::notice(t, key));
    let page = AccessPage {
        t,
        page: beheerder.chrome(&state, PAGE),
        frame,
        csrf: beheerder.csrf.clone(),
        days,
        rows,
    };
    let html = page.render()?;
    Ok(beheerder.page(StatusCode::OK, html))
}
