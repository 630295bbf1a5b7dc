//! Toegang op orde over HTTP: the application registers the logins it expects of a user
//! (`PUT …/expected-logins/{key}`, idempotent per user and key), withdraws them, and reads
//! each user's readiness and the organization's overview. Dates only, never health data.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::caller::Caller;
use super::model::{parse_json, rfc3339};
use super::problem::{Kind, Problem, ProblemBody};
use crate::admin::AccessLine;
use crate::domain::lang::Lang;
use crate::domain::readiness::Readiness;
use crate::http::AppState;
use crate::store::{ExpectedLogin, Registration};
use crate::texts::access;

/// An expected login to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectedLoginRequest {
    /// When: RFC 3339 (`2027-01-15T09:00:00+01:00`) or a day (`2027-01-15`, from 00:00
    /// Dutch time).
    pub due_at: String,
    /// The kind of deadline, for HR's overview (`plan_van_aanpak`); at most 100 characters.
    /// It is never put in a mail.
    pub label: Option<String>,
}

/// Why a user is not ready: a stable code and the words the employee reads.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonView {
    /// disabled, locked, invitation_expired, not_activated, mail_failing,
    /// two_step_not_set_up, two_step_reset_pending, no_recovery_codes, few_recovery_codes,
    /// recovery_codes_not_saved, recovery_code_used_last or second_step_long_ago.
    pub code: String,
    /// In the organization's language.
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExpectedLoginView {
    pub key: String,
    pub due_at: String,
    pub label: Option<String>,
    /// When the look-ahead mail went out for this date.
    pub reminded_at: Option<String>,
}

impl ExpectedLoginView {
    fn of(expected: &ExpectedLogin) -> ExpectedLoginView {
        ExpectedLoginView {
            key: expected.key.clone(),
            due_at: rfc3339(expected.due_at),
            label: expected.label.clone(),
            reminded_at: expected.reminded_at.map(rfc3339),
        }
    }
}

/// A user's readiness for their next expected login (or, with none, a login tomorrow).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessView {
    pub username: String,
    /// ready, at_risk or blocked.
    pub readiness: String,
    pub reasons: Vec<ReasonView>,
    /// What HR can do: enable, unlock, resend_invitation, reset_two_step or check_email.
    pub action: Option<String>,
    /// Soonest first; past ones are left out.
    pub expected_logins: Vec<ExpectedLoginView>,
}

/// The answer to a registration: the expected login and the user's readiness for it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Registered {
    pub expected_login: ExpectedLoginView,
    /// created, changed or unchanged.
    pub result: String,
    pub readiness: String,
    pub reasons: Vec<ReasonView>,
}

/// One line of the overview.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessLineView {
    pub username: String,
    pub display_name: String,
    pub expected_login: ExpectedLoginView,
    pub readiness: String,
    pub reasons: Vec<ReasonView>,
    pub action: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessOverview {
    pub days: u32,
    /// Blocked first, then at risk, then ready; soonest first within each.
    pub users: Vec<AccessLineView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OverviewQuery {
    /// Expected logins of the next this many days, 1 to 366 (default 14).
    days: Option<u32>,
}

/// The organization's language: the reasons' texts are in it.
async fn org_lang(
    caller: &Caller,
    admin: &crate::admin::Admin,
    slug: &str,
) -> Result<Lang, Problem> {
    Ok(admin
        .organization(slug)
        .await
        .map_err(|e| caller.fail(e))?
        .lang)
}

fn reasons(lang: Lang, readiness: &Readiness) -> Vec<ReasonView> {
    readiness
        .reasons()
        .iter()
        .map(|reason| ReasonView {
            code: reason.code().to_owned(),
            text: access::for_user(lang, *reason).to_owned(),
        })
        .collect()
}

/// Registers the login the application expects of the user under `key`, or changes it.
/// The same key, date and label again change nothing (200, `unchanged`); a new date makes
/// its look-ahead mail due again.
#[utoipa::path(
    put,
    path = "/api/v1/organizations/{org}/users/{username}/expected-logins/{key}",
    operation_id = "putExpectedLogin",
    params(
        ("org" = String, Path), ("username" = String, Path),
        ("key" = String, Path, description = "the application's key: 1 to 64 of a-z A-Z 0-9 . _ : -"),
    ),
    request_body(content = ExpectedLoginRequest, content_type = "application/json"),
    responses(
        (status = 201, body = Registered, description = "registered"),
        (status = 200, body = Registered, description = "changed, or already so"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    tag = "access"
)]
pub async fn put_expected(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, username, key)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, Problem> {
    let slug = caller.may_manage(&org)?;
    let request: ExpectedLoginRequest = parse_json(&body).map_err(|p| caller.fail(p))?;
    let due_at = crate::admin::parse_moment(&request.due_at).ok_or_else(|| {
        caller.problem(
            Kind::InvalidRequest,
            "due_at: a day (2027-01-15) or an RFC 3339 moment",
        )
    })?;
    let admin = caller.admin(&state);
    let (expected, registration) = admin
        .expect_login(&slug, &username, &key, due_at, request.label.as_deref())
        .await
        .map_err(|e| caller.fail(e))?;
    let (_, readiness, _) = admin
        .user_readiness(&slug, &username)
        .await
        .map_err(|e| caller.fail(e))?;
    let lang = org_lang(&caller, &admin, &slug).await?;
    let (status, result) = match registration {
        Registration::Created => (StatusCode::CREATED, "created"),
        Registration::Changed => (StatusCode::OK, "changed"),
        Registration::Unchanged => (StatusCode::OK, "unchanged"),
    };
    let answer = Registered {
        expected_login: ExpectedLoginView::of(&expected),
        result: result.into(),
        readiness: readiness.as_str().into(),
        reasons: reasons(lang, &readiness),
    };
    Ok((status, axum::Json(answer)).into_response())
}

/// Withdraws the expected login (the deadline is gone): 204, or 404 when there is none.
#[utoipa::path(
    delete,
    path = "/api/v1/organizations/{org}/users/{username}/expected-logins/{key}",
    operation_id = "deleteExpectedLogin",
    params(("org" = String, Path), ("username" = String, Path), ("key" = String, Path)),
    responses(
        (status = 204, description = "withdrawn"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    tag = "access"
)]
pub async fn delete_expected(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, username, key)): Path<(String, String, String)>,
) -> Result<StatusCode, Problem> {
    let slug = caller.may_manage(&org)?;
    let withdrawn = caller
        .admin(&state)
        .withdraw_expected_login(&slug, &username, &key)
        .await
        .map_err(|e| caller.fail(e))?;
    if withdrawn {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(caller.problem(
            Kind::NotFound,
            format!("user {username:?} has no expected login {key:?}"),
        ))
    }
}

/// The user's readiness and expected logins.
#[utoipa::path(
    get,
    path = "/api/v1/organizations/{org}/users/{username}/readiness",
    operation_id = "getReadiness",
    params(("org" = String, Path), ("username" = String, Path)),
    responses(
        (status = 200, body = ReadinessView),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    tag = "access"
)]
pub async fn readiness(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, username)): Path<(String, String)>,
) -> Result<axum::Json<ReadinessView>, Problem> {
    let slug = caller.may_manage(&org)?;
    let admin = caller.admin(&state);
    let (user, readiness, expected) = admin
        .user_readiness(&slug, &username)
        .await
        .map_err(|e| caller.fail(e))?;
    let lang = org_lang(&caller, &admin, &slug).await?;
    Ok(axum::Json(ReadinessView {
        username: user.username,
        readiness: readiness.as_str().into(),
        reasons: reasons(lang, &readiness),
        action: crate::domain::expected_login::hr_action(&readiness).map(|a| a.code().into()),
        expected_logins: expected.iter().map(ExpectedLoginView::of).collect(),
    }))
}

/// Toegang op orde: the users with an expected login in the next `days` days and their
/// readiness, blocked first, each with the one action that fixes it.
#[utoipa::path(
    get,
    path = "/api/v1/organizations/{org}/readiness",
    operation_id = "listReadiness",
    params(("org" = String, Path), OverviewQuery),
    responses(
        (status = 200, body = AccessOverview),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    tag = "access"
)]
pub async fn overview(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    query: Result<Query<OverviewQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<AccessOverview>, Problem> {
    let slug = caller.may_manage(&org)?;
    let Query(query) = query.map_err(|e| caller.problem(Kind::InvalidRequest, e.body_text()))?;
    let days = query.days.unwrap_or(14);
    if !(1..=366).contains(&days) {
        return Err(caller.problem(Kind::InvalidRequest, "days: 1 to 366"));
    }
    let admin = caller.admin(&state);
    let lang = org_lang(&caller, &admin, &slug).await?;
    let lines = admin
        .access_overview(&slug, days)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(axum::Json(AccessOverview {
        days,
        users: lines.iter().map(|line| line_view(lang, line)).collect(),
    }))
}

fn line_view(lang: Lang, line: &AccessLine) -> AccessLineView {
    AccessLineView {
        username: line.user.username.clone(),
        display_name: line.user.display_name.clone(),
        expected_login: ExpectedLoginView::of(&line.expected),
        readiness: line.readiness.as_str().into(),
        reasons: reasons(lang, &line.readiness),
        action: line.action.map(|a| a.code().into()),
    }
}
