//! `/api/v1/organizations/{org}/webhooks`: the organization's webhook subscriptions
//! (Standard Webhooks), and `/audit/export`: its audit lines for an auditor.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::caller::Caller;
use super::model::{parse_json, rfc3339};
use super::problem::{Kind, Problem, ProblemBody};
use crate::admin::DEFAULT_ROTATION_OVERLAP_HOURS;
use crate::evidence::{ExportFormat, write_export, write_header};
use crate::http::AppState;
use crate::store::Subscription;

/// A subscription to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// `https://…` (in development also `http://` to this machine). No redirects are followed.
    pub url: String,
    /// Event names (`user.activated`, `user.locked` …); empty or `["*"]`: every event but
    /// `user.login`.
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    /// `*` or the event names.
    pub events: String,
    pub description: String,
    pub created_at: String,
    /// ok or failing (a delivery was given up after more than a day of retries).
    pub state: String,
    pub failing_since: Option<String>,
    pub last_attempt_at: Option<String>,
    /// The receiver's last answer (`HTTP 200`, `HTTP 503`, `timed out` …).
    pub last_answer: Option<String>,
    /// Deliveries not yet made.
    pub pending: i64,
}

impl WebhookView {
    fn of(s: &Subscription) -> WebhookView {
        WebhookView {
            id: s.public_id.clone(),
            url: s.url.clone(),
            events: s.events.clone(),
            description: s.description.clone(),
            created_at: rfc3339(s.created_at),
            state: if s.failing_since.is_some() {
                "failing"
            } else {
                "ok"
            }
            .into(),
            failing_since: s.failing_since.map(rfc3339),
            last_attempt_at: s.last_attempt_at.map(rfc3339),
            last_answer: s.last_answer.clone(),
            pending: s.pending,
        }
    }
}

/// A subscription just made, or a secret just rotated: the secret is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookCreated {
    pub webhook: WebhookView,
    /// `whsec_…`: verify each delivery's `webhook-signature` with it.
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
}

/// The organization's subscription `id`, or 404 (another organization's is not told apart).
async fn owned(
    caller: &Caller,
    state: &AppState,
    org: &str,
    id: &str,
) -> Result<Subscription, Problem> {
    let slug = caller.may_manage(org)?;
    let subscription = caller
        .admin(state)
        .webhook(id)
        .await
        .map_err(|e| caller.fail(e))?;
    if subscription.org_slug.as_deref() != Some(slug.as_str()) {
        return Err(caller.problem(Kind::NotFound, format!("no webhook subscription {id:?}")));
    }
    Ok(subscription)
}

/// Subscribes a URL to the organization's events.
#[utoipa::path(
    post,
    path = "/api/v1/organizations/{org}/webhooks",
    operation_id = "createWebhook",
    params(("org" = String, Path, description = "the organization's slug")),
    request_body = WebhookRequest,
    responses(
        (status = 201, body = WebhookCreated),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    tag = "webhooks"
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    body: Bytes,
) -> Result<Response, Problem> {
    let slug = caller.may_manage(&org)?;
    let request: WebhookRequest = parse_json(&body).map_err(|p| caller.fail(p))?;
    let created = caller
        .admin(&state)
        .add_webhook(
            Some(&slug),
            &request.url,
            &request.events.join(","),
            &request.description,
        )
        .await
        .map_err(|e| caller.fail(e))?;
    let view = WebhookCreated {
        webhook: WebhookView::of(&created.subscription),
        secret: created.secret,
    };
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

/// The organization's subscriptions, with their state and last answer.
#[utoipa::path(
    get,
    path = "/api/v1/organizations/{org}/webhooks",
    operation_id = "listWebhooks",
    params(("org" = String, Path, description = "the organization's slug")),
    responses(
        (status = 200, body = WebhookList),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    tag = "webhooks"
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
) -> Result<axum::Json<WebhookList>, Problem> {
    let slug = caller.may_manage(&org)?;
    let subscriptions = caller
        .admin(&state)
        .webhooks(Some(&slug))
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(axum::Json(WebhookList {
        webhooks: subscriptions.iter().map(WebhookView::of).collect(),
    }))
}

/// Removes the subscription and what is still queued for it.
#[utoipa::path(
    delete,
    path = "/api/v1/organizations/{org}/webhooks/{id}",
    operation_id = "deleteWebhook",
    params(
        ("org" = String, Path, description = "the organization's slug"),
        ("id" = String, Path, description = "the subscription's id (wh_…)"),
    ),
    responses(
        (status = 204),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    tag = "webhooks"
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    owned(&caller, &state, &org, &id).await?;
    caller
        .admin(&state)
        .remove_webhook(&id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new signing secret; the previous one keeps signing for 24 hours (each delivery carries
/// both signatures meanwhile).
#[utoipa::path(
    post,
    path = "/api/v1/organizations/{org}/webhooks/{id}/rotate-secret",
    operation_id = "rotateWebhookSecret",
    params(
        ("org" = String, Path, description = "the organization's slug"),
        ("id" = String, Path, description = "the subscription's id (wh_…)"),
    ),
    responses(
        (status = 200, body = WebhookCreated),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    tag = "webhooks"
)]
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> Result<axum::Json<WebhookCreated>, Problem> {
    owned(&caller, &state, &org, &id).await?;
    let admin = caller.admin(&state);
    let secret = admin
        .rotate_webhook_secret(&id, DEFAULT_ROTATION_OVERLAP_HOURS)
        .await
        .map_err(|e| caller.fail(e))?;
    let subscription = admin.webhook(&id).await.map_err(|e| caller.fail(e))?;
    Ok(axum::Json(WebhookCreated {
        webhook: WebhookView::of(&subscription),
        secret,
    }))
}

/// A time range (RFC 3339).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayResult {
    /// Deliveries queued again.
    pub queued: u64,
}

fn moment(caller: &Caller, name: &str, text: &str) -> Result<i64, Problem> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| caller.problem(Kind::InvalidRequest, format!("{name}: an RFC 3339 time")))
}

/// Sends the events of a time range (at most 31 days) again, each with the `webhook-id` it
/// had before (a receiver that has it can tell).
#[utoipa::path(
    post,
    path = "/api/v1/organizations/{org}/webhooks/{id}/replay",
    operation_id = "replayWebhooks",
    params(
        ("org" = String, Path, description = "the organization's slug"),
        ("id" = String, Path, description = "the subscription's id (wh_…)"),
    ),
    request_body = ReplayRequest,
    responses(
        (status = 200, body = ReplayResult),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    tag = "webhooks"
)]
pub async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<axum::Json<ReplayResult>, Problem> {
    owned(&caller, &state, &org, &id).await?;
    let request: ReplayRequest = parse_json(&body).map_err(|p| caller.fail(p))?;
    let (from, to) = (
        moment(&caller, "from", &request.from)?,
        moment(&caller, "to", &request.to)?,
    );
    let queued = caller
        .admin(&state)
        .replay_webhooks(&id, from, to)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(axum::Json(ReplayResult { queued }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// From this time (RFC 3339), inclusive.
    from: String,
    /// Until this time (RFC 3339), exclusive; at most 366 days after `from`.
    to: String,
    /// `jsonl` (default) or `csv`.
    format: Option<String>,
}

/// The most lines one export answers with; a longer range is refused (the CLI's
/// `audit export` streams any length).
const MAX_EXPORT_LINES: i64 = 200_000;

/// The organization's audit lines of a time range, with the NEN 7513 fields (who, what,
/// when, organization, application, address, outcome) and each line's place and hash in
/// the chain.
#[utoipa::path(
    get,
    path = "/api/v1/organizations/{org}/audit/export",
    operation_id = "exportAudit",
    params(("org" = String, Path, description = "the organization's slug"), ExportQuery),
    responses(
        (status = 200, description = "JSON lines or CSV", content_type = "application/jsonl"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    tag = "audit"
)]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let slug = caller.may_manage(&org)?;
    let Query(query) = query.map_err(|e| caller.problem(Kind::InvalidRequest, e.body_text()))?;
    let format: ExportFormat = query
        .format
        .as_deref()
        .unwrap_or("jsonl")
        .parse()
        .map_err(|e: String| caller.problem(Kind::InvalidRequest, e))?;
    let (from, to) = (
        moment(&caller, "from", &query.from)?,
        moment(&caller, "to", &query.to)?,
    );
    if to <= from || to - from > 366 * 86400 {
        return Err(caller.problem(
            Kind::InvalidRequest,
            "to must come after from, at most 366 days later",
        ));
    }
    let org = caller
        .admin(&state)
        .organization(&slug)
        .await
        .map_err(|e| caller.fail(e))?;
    let mut out = Vec::new();
    write_header(format, &mut out);
    let (mut after, mut lines) = (0, 0);
    loop {
        let rows = state
            .store
            .audit_export(from, to, Some(org.id), after, 5000)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.row.id;
        lines += rows.len() as i64;
        if lines > MAX_EXPORT_LINES {
            return Err(caller.problem(
                Kind::InvalidRequest,
                format!("more than {MAX_EXPORT_LINES} lines: ask for a shorter range"),
            ));
        }
        write_export(format, &rows, &mut out);
    }
    Ok(([(header::CONTENT_TYPE, format.content_type())], out).into_response())
}
