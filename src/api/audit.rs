//! `/api/v1/organizations/{org}/audit`: the organization's audit log, newest first.

use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa::IntoParams;

use super::caller::Caller;
use super::model::{AuditEventView, AuditPage, cursor_of, parse_cursor, parse_event};
use super::problem::{Kind, Problem, ProblemBody};
use crate::http::AppState;
use crate::store::AuditFilter;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only this event (e.g. `login_code`, `invitation_sent`, `two_step_reset`).
    event: Option<String>,
    /// Only lines about this user.
    username: Option<String>,
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
    /// Lines per page, 1 to 500 (default 100).
    limit: Option<i64>,
}

/// The organization's audit lines, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/organizations/{org}/audit",
    operation_id = "listAuditEvents",
    params(("org" = String, Path, description = "the organization's slug"), AuditQuery),
    responses(
        (status = 200, body = AuditPage),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    tag = "audit"
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<AuditPage>, Problem> {
    let slug = caller.may_manage(&org)?;
    let Query(query) = query.map_err(|e| caller.problem(Kind::InvalidRequest, e.body_text()))?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(caller.problem(Kind::InvalidRequest, "limit: 1 to 500"));
    }
    let admin = caller.admin(&state);
    let mut filter = AuditFilter {
        event: query
            .event
            .as_deref()
            .map(parse_event)
            .transpose()
            .map_err(|p| caller.fail(p))?,
        before_id: query
            .cursor
            .as_deref()
            .map(parse_cursor)
            .transpose()
            .map_err(|p| caller.fail(p))?,
        limit: limit + 1,
        ..AuditFilter::default()
    };
    match &query.username {
        Some(username) => {
            let (org, user) = admin
                .user_of(&slug, username)
                .await
                .map_err(|e| caller.fail(e))?;
            filter.org = Some(org.id);
            filter.user = Some(user.id);
        }
        None => {
            let org = admin
                .organization(&slug)
                .await
                .map_err(|e| caller.fail(e))?;
            filter.org = Some(org.id);
        }
    }
    // The store tells the newest lines oldest first; the API pages from the newest.
    let mut entries = state.store.audit_entries(&filter).await?;
    entries.reverse();
    let next_cursor = (entries.len() as i64 > limit).then(|| {
        entries.truncate(limit as usize);
        cursor_of(entries[entries.len() - 1].id)
    });
    Ok(axum::Json(AuditPage {
        events: entries.iter().map(AuditEventView::of).collect(),
        next_cursor,
    }))
}
