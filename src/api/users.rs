//! `/api/v1/organizations/{org}/users`: list, show, and the actions on one user (inviting
//! is in `invitations`). A username of another organization is "not found", as in the CLI.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::caller::Caller;
use super::model::{
    ActionResult, Invited, ResetTwoStepRequest, UserPage, UserView, cursor_of, parse_cursor,
    parse_json, parse_status, rfc3339,
};
use super::problem::{Kind, Problem, ProblemBody};
use crate::domain::onboarding;
use crate::http::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// invited, invitation_expired, two_step_pending, active, locked or disabled.
    status: Option<String>,
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
    /// Users per page, 1 to 500 (default 100).
    limit: Option<usize>,
}

/// The organization's users, oldest account first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/organizations/{org}/users",
    operation_id = "listUsers",
    params(("org" = String, Path, description = "the organization's slug"), ListQuery),
    responses(
        (status = 200, body = UserPage),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
        (status = 429, body = ProblemBody, content_type = "application/problem+json"),
    ),
    tag = "users"
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<UserPage>, Problem> {
    let slug = caller.may_manage(&org)?;
    let Query(query) = query.map_err(|e| caller.problem(Kind::InvalidRequest, e.body_text()))?;
    let status = query
        .status
        .as_deref()
        .map(parse_status)
        .transpose()
        .map_err(|p| caller.fail(p))?;
    let after = query
        .cursor
        .as_deref()
        .map(parse_cursor)
        .transpose()
        .map_err(|p| caller.fail(p))?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(caller.problem(Kind::InvalidRequest, "limit: 1 to 500"));
    }
    let now = state.clock.now();
    let overviews = caller
        .admin(&state)
        .user_overviews(&slug)
        .await
        .map_err(|e| caller.fail(e))?;
    let mut page: Vec<_> = overviews
        .iter()
        .filter(|o| after.is_none_or(|after| o.user.id > after))
        .filter(|o| status.is_none_or(|s| onboarding::status(&o.facts(), now) == s))
        .take(limit + 1)
        .collect();
    let next_cursor = (page.len() > limit).then(|| {
        page.truncate(limit);
        cursor_of(page[limit - 1].user.id)
    });
    Ok(axum::Json(UserPage {
        users: page.iter().map(|o| UserView::of(o, now)).collect(),
        next_cursor,
    }))
}

/// One user of the organization.
#[utoipa::path(
    get,
    path = "/api/v1/organizations/{org}/users/{username}",
    operation_id = "getUser",
    params(
        ("org" = String, Path, description = "the organization's slug"),
        ("username" = String, Path),
    ),
    responses(
        (status = 200, body = UserView),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    tag = "users"
)]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, username)): Path<(String, String)>,
) -> Result<axum::Json<UserView>, Problem> {
    let slug = caller.may_manage(&org)?;
    let overview = caller
        .admin(&state)
        .user_overview(&slug, &username)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(axum::Json(UserView::of(&overview, state.clock.now())))
}

/// Sends a still-invited user a new invitation link (the old one stops working).
#[utoipa::path(
    post,
    path = "/api/v1/organizations/{org}/users/{username}/invitation",
    operation_id = "resendInvitation",
    params(("org" = String, Path), ("username" = String, Path)),
    responses(
        (status = 201, body = Invited),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "the user has already activated the account"),
    ),
    tag = "users"
)]
pub async fn resend_invitation(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, username)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let slug = caller.may_manage(&org)?;
    let admin = caller.admin(&state);
    let (_, user) = admin
        .user_of(&slug, &username)
        .await
        .map_err(|e| caller.fail(e))?;
    let invited = admin
        .invite(&slug, &user.username, &user.email, &user.display_name)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Invited {
            username: invited.user.username,
            email: invited.user.email,
            status: "invited".into(),
            invitation_expires_at: rfc3339(invited.expires_at),
        }),
    )
        .into_response())
}

macro_rules! user_action {
    ($name:ident, $id:literal, $path:literal, $doc:literal, |$admin:ident, $slug:ident, $username:ident| $body:expr) => {
        #[doc = $doc]
        #[utoipa::path(
            post,
            path = $path,
            operation_id = $id,
            params(("org" = String, Path), ("username" = String, Path)),
            responses(
                (status = 200, body = ActionResult),
                (status = 404, body = ProblemBody, content_type = "application/problem+json"),
            ),
            tag = "users"
        )]
        pub async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            Path((org, username)): Path<(String, String)>,
        ) -> Result<axum::Json<ActionResult>, Problem> {
            let $slug = caller.may_manage(&org)?;
            let $admin = caller.admin(&state);
            let $username = username.as_str();
            let result: Result<ActionResult, crate::admin::AdminError> = async { $body }.await;
            result.map(axum::Json).map_err(|e| caller.fail(e))
        }
    };
}

user_action!(
    disable,
    "disableUser",
    "/api/v1/organizations/{org}/users/{username}/disable",
    "Disables the account: it cannot log in, and its sessions end at once.",
    |admin, slug, username| Ok(ActionResult {
        username: username.to_lowercase(),
        changed: admin.set_disabled(&slug, username, true).await?,
        sessions_ended: None,
    })
);

user_action!(
    enable,
    "enableUser",
    "/api/v1/organizations/{org}/users/{username}/enable",
    "Enables a disabled account again.",
    |admin, slug, username| Ok(ActionResult {
        username: username.to_lowercase(),
        changed: admin.set_disabled(&slug, username, false).await?,
        sessions_ended: None,
    })
);

user_action!(
    unlock,
    "unlockUser",
    "/api/v1/organizations/{org}/users/{username}/unlock",
    "Lifts a lock after failed attempts: the count starts again at zero.",
    |admin, slug, username| {
        let user = admin.unlock(&slug, username).await?;
        Ok(ActionResult {
            username: user.username,
            changed: true,
            sessions_ended: None,
        })
    }
);

user_action!(
    end_sessions,
    "endSessions",
    "/api/v1/organizations/{org}/users/{username}/end-sessions",
    "Logs the user out everywhere (the applications' sessions too).",
    |admin, slug, username| {
        let ended = admin.end_sessions(&slug, username).await?;
        Ok(ActionResult {
            username: username.to_lowercase(),
            changed: ended > 0,
            sessions_ended: Some(ended),
        })
    }
);

/// Removes the user's authenticator app (a lost phone): the next login sets it up again by
/// e-mail. Ends the user's sessions and sends a notice. The `reason` is kept in the audit
/// line.
#[utoipa::path(
    post,
    path = "/api/v1/organizations/{org}/users/{username}/reset-two-step",
    operation_id = "resetTwoStep",
    params(("org" = String, Path), ("username" = String, Path)),
    request_body(content = Option<ResetTwoStepRequest>, content_type = "application/json"),
    responses(
        (status = 200, body = ActionResult),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    tag = "users"
)]
pub async fn reset_two_step(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, username)): Path<(String, String)>,
    body: Bytes,
) -> Result<axum::Json<ActionResult>, Problem> {
    let slug = caller.may_manage(&org)?;
    let request: ResetTwoStepRequest = if body.is_empty() {
        ResetTwoStepRequest::default()
    } else {
        parse_json(&body).map_err(|p| caller.fail(p))?
    };
    let changed = caller
        .admin(&state)
        .reset_two_step(&slug, &username, request.reason.as_deref())
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(axum::Json(ActionResult {
        username: username.to_lowercase(),
        changed,
        sessions_ended: None,
    }))
}
