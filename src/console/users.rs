//! The users table (search, status filter), one user's page, and the actions on a user.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Beheerder, Frame, Section, problem_text};
use crate::domain::onboarding::{self, OnboardingStep, UserStatus};
use crate::http::csrf::ProtectedForm;
use crate::http::{AppState, PageChrome, WebError};
use crate::store::UserOverview;
use crate::texts::Texts;

/// The table shows at most this many users; the search narrows it down.
const ROWS_SHOWN: usize = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/beheer", get(list))
        .route("/beheer/medewerkers/{username}", get(show))
        .route("/beheer/medewerkers/{username}/{action}", post(act))
}

/// A user as a row of the table.
pub struct UserRow {
    pub username: String,
    pub name: String,
    pub email: String,
    pub status: &'static str,
    pub last_login: String,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    t: &'static Texts,
    page: PageChrome,
    frame: Frame,
    query: String,
    status: String,
    statuses: Vec<(&'static str, &'static str)>,
    rows: Vec<UserRow>,
    total: usize,
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    notice: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    beheerder: Beheerder,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    let t = beheerder.t;
    let now = state.clock.now();
    let wanted = UserStatus::parse(&query.status);
    let needle = query.q.trim().to_lowercase();
    let overviews = beheerder
        .admin
        .user_overviews(beheerder.org())
        .await
        .map_err(anyhow::Error::from)?;
    let matching: Vec<&UserOverview> = overviews
        .iter()
        .filter(|o| wanted.is_none_or(|s| onboarding::status(&o.facts(), now) == s))
        .filter(|o| {
            needle.is_empty()
                || [&o.user.username, &o.user.display_name, &o.user.email]
                    .iter()
                    .any(|f| f.to_lowercase().contains(&needle))
        })
        .collect();
    let rows = matching
        .iter()
        .take(ROWS_SHOWN)
        .map(|o| UserRow {
            username: o.user.username.clone(),
            name: o.user.display_name.clone(),
            email: o.user.email.clone(),
            status: t.console.status(onboarding::status(&o.facts(), now)),
            last_login: o
                .last_login_at
                .map_or_else(|| t.console.never.to_owned(), |at| t.moment(at)),
        })
        .collect();
    let mut frame = Frame::new(&beheerder, Section::Users);
    frame.notice = query.notice.as_deref().and_then(|n| notice(t, n));
    let page = UsersPage {
        t,
        page: beheerder.chrome(&state, "/beheer"),
        frame,
        query: query.q.clone(),
        status: query.status.clone(),
        statuses: UserStatus::ALL
            .iter()
            .map(|s| (s.as_str(), t.console.status(*s)))
            .collect(),
        rows,
        total: matching.len(),
    };
    let html = page.render()?;
    Ok(beheerder.page(StatusCode::OK, html))
}

pub(super) fn notice(t: &Texts, key: &str) -> Option<String> {
    let c = t.console;
    Some(
        match key {
            "resent" => c.done_resent,
            "reset" => c.done_reset,
            "disabled" => c.done_disabled,
            "enabled" => c.done_enabled,
            "unlocked" => c.done_unlocked,
            "granted" => c.done_granted,
            "revoked" => c.done_revoked,
            _ => return None,
        }
        .to_owned(),
    )
}

#[derive(Template)]
#[template(path = "console/user.html")]
struct UserPage {
    t: &'static Texts,
    page: PageChrome,
    frame: Frame,
    csrf: String,
    username: String,
    name: String,
    email: String,
    status: &'static str,
    onboarding: Option<String>,
    two_step_since: Option<String>,
    last_login: String,
    locked_until: Option<String>,
    invitation_expires: Option<String>,
    beheerder: bool,
    invited: bool,
    disabled: bool,
    locked: bool,
    is_self: bool,
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
    sessions: Option<u64>,
}

async fn show(
    State(state): State<AppState>,
    beheerder: Beheerder,
    Path(username): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let overview = match beheerder
        .admin
        .user_overview(beheerder.org(), &username)
        .await
    {
        Ok(overview) => overview,
        Err(_) => return Err(WebError::NotFound),
    };
    let mut frame = Frame::new(&beheerder, Section::Users);
    frame.notice = match (query.notice.as_deref(), query.sessions) {
        (Some("sessions"), Some(n)) => Some(beheerder.t.fill(beheerder.t.console.done_sessions, n)),
        (Some(key), _) => notice(beheerder.t, key),
        _ => None,
    };
    let html = render_user(&state, &beheerder, &overview, frame)?;
    Ok(beheerder.page(StatusCode::OK, html))
}

fn render_user(
    state: &AppState,
    beheerder: &Beheerder,
    overview: &UserOverview,
    frame: Frame,
) -> Result<String, WebError> {
    let t = beheerder.t;
    let now = state.clock.now();
    let facts = overview.facts();
    let status = onboarding::status(&facts, now);
    let page = UserPage {
        t,
        page: beheerder.chrome(
            state,
            &format!("/beheer/medewerkers/{}", overview.user.username),
        ),
        frame,
        csrf: beheerder.csrf.clone(),
        username: overview.user.username.clone(),
        name: overview.user.display_name.clone(),
        email: overview.user.email.clone(),
        status: t.console.status(status),
        onboarding: onboarding::onboarding_step(&facts, now).map(|s| t.console.step(&s)),
        two_step_since: overview
            .two_step_since
            .filter(|_| overview.two_step == Some(true))
            .map(|at| t.moment(at)),
        last_login: overview
            .last_login_at
            .map_or_else(|| t.console.never.to_owned(), |at| t.moment(at)),
        locked_until: (overview.blocked_until > now).then(|| t.moment(overview.blocked_until)),
        invitation_expires: overview.invitation.as_ref().map(|i| t.moment(i.expires_at)),
        beheerder: overview.beheerder,
        invited: matches!(
            onboarding::onboarding_step(&facts, now),
            Some(
                OnboardingStep::MailQueued
                    | OnboardingStep::MailFailing(_)
                    | OnboardingStep::MailSent
                    | OnboardingStep::LinkExpired
            )
        ),
        disabled: status == UserStatus::Disabled,
        locked: overview.blocked_until > now || overview.failures > 0,
        is_self: overview.user.id == beheerder.session.user.id,
    };
    Ok(page.render()?)
}

/// The actions, by the last part of their path (Dutch, as the console's addresses are).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Resend,
    Unlock,
    Enable,
    Disable,
    EndSessions,
    Grant,
    Revoke,
}

impl Action {
    fn parse(text: &str) -> Option<Action> {
        Some(match text {
            "uitnodiging" => Action::Resend,
            "ontgrendelen" => Action::Unlock,
            "inschakelen" => Action::Enable,
            "uitschakelen" => Action::Disable,
            "uitloggen" => Action::EndSessions,
            "beheerder" => Action::Grant,
            "beheerder-intrekken" => Action::Revoke,
            _ => return None,
        })
    }

    /// Actions that take something away ask for the app's code after ten minutes.
    fn is_destructive(self) -> bool {
        matches!(self, Action::Disable | Action::EndSessions | Action::Revoke)
    }

    /// Actions a beheerder may not take on their own account (they would lock themselves
    /// out of the console).
    fn not_on_self(self) -> bool {
        matches!(self, Action::Disable | Action::Revoke)
    }
}

#[derive(Deserialize)]
struct ActionForm {
    terug: Option<String>,
}

async fn act(
    State(state): State<AppState>,
    beheerder: Beheerder,
    Path((username, action)): Path<(String, String)>,
    ProtectedForm(form): ProtectedForm<ActionForm>,
) -> Result<Response, WebError> {
    let Some(action) = Action::parse(&action) else {
        return Err(WebError::NotFound);
    };
    let page = format!("/beheer/medewerkers/{username}");
    let admin = &beheerder.admin;
    let org = beheerder.org();
    // Another organization's user is "not found", before anything else is said.
    let (_, user) = admin
        .user_of(org, &username)
        .await
        .map_err(|_| WebError::NotFound)?;
    if action.not_on_self() && user.id == beheerder.session.user.id {
        return refuse(
            &state,
            &beheerder,
            &user.username,
            beheerder.t.console.not_yourself,
        )
        .await;
    }
    if action.is_destructive() && beheerder.must_confirm(&state) {
        return Ok(beheerder.confirm_first(&page));
    }
    let done = match action {
        Action::Resend => admin
            .invite(org, &user.username, &user.email, &user.display_name)
            .await
            .map(|_| "resent".to_owned()),
        Action::Unlock => admin
            .unlock(org, &user.username)
            .await
            .map(|_| "unlocked".into()),
        Action::Enable => admin
            .set_disabled(org, &user.username, false)
            .await
            .map(|_| "enabled".into()),
        Action::Disable => admin
            .set_disabled(org, &user.username, true)
            .await
            .map(|_| "disabled".into()),
        Action::EndSessions => admin
            .end_sessions(org, &user.username)
            .await
            .map(|n| format!("sessions&sessions={n}")),
        Action::Grant => admin
            .set_beheerder(org, &user.username, true)
            .await
            .map(|_| "granted".into()),
        Action::Revoke => admin
            .set_beheerder(org, &user.username, false)
            .await
            .map(|_| "revoked".into()),
    };
    // The onboarding overview's resend comes back to the overview.
    let back = match form.terug.as_deref() {
        Some("onboarding") => "/beheer/onboarding",
        Some("toegang") => super::access::PAGE,
        _ => page.as_str(),
    };
    match done {
        Ok(notice) => Ok(Redirect::to(&format!("{back}?notice={notice}")).into_response()),
        Err(error) => {
            let message = problem_text(beheerder.t, &error);
            refuse(&state, &beheerder, &user.username, &message).await
        }
    }
}

/// The user's page again with `message` as its error.
pub(super) async fn refuse(
    state: &AppState,
    beheerder: &Beheerder,
    username: &str,
    message: &str,
) -> Result<Response, WebError> {
    let overview = beheerder
        .admin
        .user_overview(beheerder.org(), username)
        .await
        .map_err(|_| WebError::NotFound)?;
    let mut frame = Frame::new(beheerder, Section::Users);
    frame.error = Some(message.to_owned());
    let html = render_user(state, beheerder, &overview, frame)?;
    Ok((StatusCode::CONFLICT, axum::response::Html(html)).into_response())
}
