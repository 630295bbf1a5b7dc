//! Inviting users through the API: one (`POST …/users`) or up to 1,000 at once
//! (`POST …/users/bulk`, JSON or CSV), all checked before any is sent and, with an
//! `Idempotency-Key`, never sent twice.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;

use super::caller::Caller;
use super::idempotency::{Keyed, json_answer};
use super::model::{BulkResult, InviteRequest, Invited, parse_json, rfc3339};
use super::problem::{Kind, Problem, ProblemBody};
use crate::admin::{BatchResult, PreparedBatch};
use crate::domain::bulk_invite::{self, MAX_ROWS, RawRow, RowCheck, RowProblem};
use crate::http::AppState;

/// The request's idempotency key (if it has one), or the earlier answer to give at once.
async fn keyed_request(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
    body: &[u8],
) -> Result<Result<Option<Keyed>, Response>, Problem> {
    let keyed = Keyed::of(caller, headers, method, path, body)?;
    if let Some(keyed) = &keyed
        && let Some(earlier) = keyed.earlier_answer(state, caller).await?
    {
        return Ok(Err(earlier));
    }
    Ok(Ok(keyed))
}

/// The answer to a batch: its body, the stored answer again, or `refused` made from the
/// rows with their problems.
fn answer(
    status: StatusCode,
    result: BatchAnswer,
    refused: impl FnOnce(Vec<RowCheck>) -> Problem,
) -> Result<Response, Problem> {
    match result {
        BatchAnswer::Replayed(response) => Ok(response),
        BatchAnswer::Done(body) => Ok(json_answer(status, body)),
        BatchAnswer::Refused(checks) => Err(refused(checks)),
    }
}

/// Invites a user (or sends a still-invited user a new link). With an `Idempotency-Key`,
/// a retry with the same key gets the same answer and sends no second mail.
#[utoipa::path(
    post,
    path = "/api/v1/organizations/{org}/users",
    operation_id = "inviteUser",
    params(
        ("org" = String, Path, description = "the organization's slug"),
        ("Idempotency-Key" = Option<String>, Header, description = "makes a retry safe (kept 24 hours)"),
    ),
    request_body = InviteRequest,
    responses(
        (status = 201, body = Invited),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "the username is taken or the user is active"),
        (status = 400, body = ProblemBody, content_type = "application/problem+json", description = "the body is not readable JSON (`malformed-json`)"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    tag = "users"
)]
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let slug = caller.may_manage(&org)?;
    let keyed = match keyed_request(&state, &caller, &headers, &method, uri.path(), &body).await? {
        Ok(keyed) => keyed,
        Err(earlier) => return Ok(earlier),
    };
    let request: InviteRequest = parse_json(&body).map_err(|p| caller.fail(p))?;
    let rows = bulk_invite::check_rows(vec![RawRow {
        line: 1,
        username: request.username,
        email: request.email,
        display_name: request.display_name,
    }]);
    let (status, result) = run_batch(&state, &caller, &slug, keyed.as_ref(), rows, |p| {
        let invitation = &p.items[0].invitation;
        serde_json::to_string(&Invited {
            username: invitation.username.clone(),
            email: invitation.email.clone(),
            status: "invited".into(),
            invitation_expires_at: rfc3339(p.expires_at),
        })
        .unwrap_or_default()
    })
    .await?;
    answer(status, result, |checks| {
        let bulk = BulkResult::of(&checks, false);
        let conflict = checks[0]
            .problems
            .iter()
            .any(|p| matches!(p, RowProblem::Taken | RowProblem::AlreadyActive));
        let kind = if conflict {
            Kind::Conflict
        } else {
            Kind::InvalidRequest
        };
        let problems = &bulk.rows[0].problems;
        let detail: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        caller
            .problem(kind, detail.join("; "))
            .with_errors(serde_json::to_value(problems).unwrap_or_default())
    })
}

/// Invites up to 1,000 users at once: a JSON array of invitations, or a CSV file
/// (`Content-Type: text/csv`; comma or semicolon separated, with or without a byte-order
/// mark; header `username,email,display_name` or `gebruikersnaam;e-mailadres;naam`).
/// Every row is checked first: if any row has a problem, none is invited and the answer
/// (422) lists each row's problems.
#[utoipa::path(
    post,
    path = "/api/v1/organizations/{org}/users/bulk",
    operation_id = "inviteUsers",
    params(
        ("org" = String, Path, description = "the organization's slug"),
        ("Idempotency-Key" = Option<String>, Header, description = "makes a retry safe (kept 24 hours)"),
    ),
    request_body(content(
        (Vec<InviteRequest> = "application/json"),
        (String = "text/csv"),
    )),
    responses(
        (status = 201, body = BulkResult, description = "every row invited"),
        (status = 400, body = ProblemBody, content_type = "application/problem+json", description = "the body is not readable JSON (`malformed-json`)"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "nothing invited; `errors` holds every row's result"),
    ),
    tag = "users"
)]
pub async fn bulk_invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let slug = caller.may_manage(&org)?;
    let keyed = match keyed_request(&state, &caller, &headers, &method, uri.path(), &body).await? {
        Ok(keyed) => keyed,
        Err(earlier) => return Ok(earlier),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let rows = match content_type.as_str() {
        "text/csv" => bulk_invite::read_csv(&body)
            .map_err(|e| caller.problem(Kind::InvalidRequest, e.to_string()))?,
        "application/json" => {
            let requests: Vec<InviteRequest> = parse_json(&body).map_err(|p| caller.fail(p))?;
            if requests.len() > MAX_ROWS {
                return Err(caller.problem(
                    Kind::InvalidRequest,
                    format!("{} rows: at most {MAX_ROWS} in one request", requests.len()),
                ));
            }
            if requests.is_empty() {
                return Err(caller.problem(Kind::InvalidRequest, "the array is empty"));
            }
            bulk_invite::check_rows(
                requests
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| RawRow {
                        line: i + 1,
                        username: r.username,
                        email: r.email,
                        display_name: r.display_name,
                    })
                    .collect(),
            )
        }
        _ => {
            return Err(caller.problem(
                Kind::InvalidRequest,
                "Content-Type: application/json (an array) or text/csv",
            ));
        }
    };
    let (status, result) = run_batch(&state, &caller, &slug, keyed.as_ref(), rows, |p| {
        serde_json::to_string(&BulkResult::of(&p.checks, true)).unwrap_or_default()
    })
    .await?;
    answer(status, result, |checks| {
        let bulk = BulkResult::of(&checks, false);
        let bad = checks.iter().filter(|c| !c.is_ok()).count();
        caller
            .problem(
                Kind::InvalidRequest,
                format!(
                    "{bad} of {} rows have problems; nothing was sent",
                    checks.len()
                ),
            )
            .with_errors(serde_json::to_value(&bulk.rows).unwrap_or_default())
    })
}

enum BatchAnswer {
    Done(String),
    Replayed(Response),
    Refused(Vec<RowCheck>),
}

/// Checks and invites `rows`, storing the answer under the idempotency key if there is one.
/// `render` makes the answer's body (all rows invited) before they are stored, so that
/// it is stored with them.
async fn run_batch(
    state: &AppState,
    caller: &Caller,
    slug: &str,
    keyed: Option<&Keyed>,
    rows: Vec<RowCheck>,
    render: impl Fn(&PreparedBatch) -> String,
) -> Result<(StatusCode, BatchAnswer), Problem> {
    let admin = caller.admin(state);
    if rows.iter().any(|r| !r.is_ok()) {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, BatchAnswer::Refused(rows)));
    }
    let prepared = match admin
        .prepare_batch(slug, rows)
        .await
        .map_err(|e| caller.fail(e))?
    {
        Ok(prepared) => prepared,
        Err(checked) => {
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                BatchAnswer::Refused(checked),
            ));
        }
    };
    let status = StatusCode::CREATED;
    let body = render(&prepared);
    let answer = keyed.map(|k| k.answer(state, caller, status, body.clone()));
    match admin
        .send_batch(prepared, answer.as_ref())
        .await
        .map_err(|e| caller.fail(e))?
    {
        BatchResult::Invited { .. } => Ok((status, BatchAnswer::Done(body))),
        BatchResult::Refused(checks) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            BatchAnswer::Refused(checks),
        )),
        BatchResult::AlreadyAnswered => {
            // A request with the same key finished first: answer as it did.
            let keyed = keyed.ok_or_else(|| caller.problem(Kind::Internal, "no key"))?;
            let earlier = keyed
                .earlier_answer(state, caller)
                .await?
                .ok_or_else(|| caller.problem(Kind::Conflict, "retry the request"))?;
            Ok((status, BatchAnswer::Replayed(earlier)))
        }
    }
}
