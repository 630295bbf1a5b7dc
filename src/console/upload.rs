//! Inviting many employees from a CSV file: upload, a preview that shows every row's
//! problems before anything is sent, then one confirmation that sends them all (or, if
//! anything changed meanwhile, none and the preview again).

use askama::Template;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use super::{Beheerder, Frame, Section, problem_text};
use crate::admin::BatchResult;
use crate::domain::bulk_invite::{self, RowCheck};
use crate::http::csrf::{self, ProtectedForm};
use crate::http::{AppState, PageChrome, WebError};
use crate::texts::Texts;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/beheer/upload", get(page).post(check))
        .route("/beheer/upload/versturen", post(send))
}

#[derive(Template)]
#[template(path = "console/upload.html")]
struct UploadPage {
    t: &'static Texts,
    page: PageChrome,
    frame: Frame,
    csrf: String,
}

#[derive(Deserialize)]
struct PageQuery {
    sent: Option<usize>,
}

async fn page(
    State(state): State<AppState>,
    beheerder: Beheerder,
    Query(query): Query<PageQuery>,
) -> Result<Response, WebError> {
    let mut frame = Frame::new(&beheerder, Section::Upload);
    frame.notice = query
        .sent
        .map(|n| beheerder.t.fill(beheerder.t.console.sent_notice, n));
    upload_page(&state, beheerder, frame, StatusCode::OK)
}

fn upload_page(
    state: &AppState,
    beheerder: Beheerder,
    frame: Frame,
    status: StatusCode,
) -> Result<Response, WebError> {
    let page = UploadPage {
        t: beheerder.t,
        page: beheerder.chrome(state, "/beheer/upload"),
        frame,
        csrf: beheerder.csrf.clone(),
    };
    let html = page.render()?;
    Ok(beheerder.page(status, html))
}

/// One row as the preview shows it.
struct PreviewRow {
    line: usize,
    username: String,
    email: String,
    name: String,
    problems: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/preview.html")]
struct PreviewPage {
    t: &'static Texts,
    page: PageChrome,
    frame: Frame,
    csrf: String,
    rows: Vec<PreviewRow>,
    bad: usize,
    /// The file, carried to the confirmation (base64), so the same rows are sent.
    file: String,
}

/// The uploaded file's bytes and the form's CSRF token.
async fn read_upload(mut multipart: Multipart) -> Result<(String, Option<Vec<u8>>), WebError> {
    let mut token = String::new();
    let mut file = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| WebError::BadForm(e.status()))?
    {
        match field.name() {
            Some("csrf") => {
                token = field
                    .text()
                    .await
                    .map_err(|e| WebError::BadForm(e.status()))?
            }
            Some("csv") => {
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| WebError::BadForm(e.status()))?;
                file = (!bytes.is_empty()).then(|| bytes.to_vec());
            }
            _ => {}
        }
    }
    Ok((token, file))
}

/// CONTROLEREN: reads the file and shows every row's result; nothing is sent.
async fn check(
    State(state): State<AppState>,
    beheerder: Beheerder,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    let multipart = multipart.map_err(|e| WebError::BadForm(e.status()))?;
    let (token, file) = read_upload(multipart).await?;
    csrf::verify(&state, &headers, &token)?;
    let Some(file) = file else {
        let mut frame = Frame::new(&beheerder, Section::Upload);
        frame.error = Some(beheerder.t.console.upload_missing.to_owned());
        return upload_page(&state, beheerder, frame, StatusCode::UNPROCESSABLE_ENTITY);
    };
    preview(&state, beheerder, &file).await
}

/// The preview of `file`: each row checked by the rules and against the store.
async fn preview(
    state: &AppState,
    beheerder: Beheerder,
    file: &[u8],
) -> Result<Response, WebError> {
    let mut checks = match bulk_invite::read_csv(file) {
        Ok(checks) => checks,
        Err(problem) => {
            let mut frame = Frame::new(&beheerder, Section::Upload);
            frame.error = Some(problem.to_string());
            return upload_page(state, beheerder, frame, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let org = beheerder
        .admin
        .organization(beheerder.org())
        .await
        .map_err(anyhow::Error::from)?;
    beheerder
        .admin
        .check_rows_in_store(&org, &mut checks)
        .await
        .map_err(anyhow::Error::from)?;
    render_preview(state, beheerder, &checks, file, None)
}

fn render_preview(
    state: &AppState,
    beheerder: Beheerder,
    checks: &[RowCheck],
    file: &[u8],
    error: Option<String>,
) -> Result<Response, WebError> {
    let t = beheerder.t;
    let rows: Vec<PreviewRow> = checks
        .iter()
        .map(|c| PreviewRow {
            line: c.raw.line,
            username: c.raw.username.clone(),
            email: c.raw.email.clone(),
            name: c.raw.display_name.clone(),
            problems: c
                .problems
                .iter()
                .map(|p| t.console.row_problem(p))
                .collect(),
        })
        .collect();
    let bad = rows.iter().filter(|r| !r.problems.is_empty()).count();
    let mut frame = Frame::new(&beheerder, Section::Upload);
    frame.error = error;
    let status = if bad == 0 {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = PreviewPage {
        t,
        page: beheerder.chrome(state, "/beheer/upload"),
        frame,
        csrf: beheerder.csrf.clone(),
        rows,
        bad,
        file: STANDARD.encode(file),
    };
    let html = page.render()?;
    Ok(beheerder.page(status, html))
}

#[derive(Deserialize)]
struct SendForm {
    #[serde(default)]
    file: String,
}

/// VERSTUREN: the previewed file again, checked again, and all its rows invited at once.
async fn send(
    State(state): State<AppState>,
    beheerder: Beheerder,
    ProtectedForm(form): ProtectedForm<SendForm>,
) -> Result<Response, WebError> {
    let file = STANDARD
        .decode(form.file.as_bytes())
        .map_err(|_| WebError::BadForm(StatusCode::BAD_REQUEST))?;
    let checks = match bulk_invite::read_csv(&file) {
        Ok(checks) => checks,
        Err(_) => return preview(&state, beheerder, &file).await,
    };
    let prepared = beheerder
        .admin
        .prepare_batch(beheerder.org(), checks)
        .await
        .map_err(anyhow::Error::from)?;
    let batch = match prepared {
        Ok(batch) => batch,
        // Something changed since the preview (a username taken meanwhile): show it.
        Err(checks) => return render_preview(&state, beheerder, &checks, &file, None),
    };
    let count = batch.items.len();
    match beheerder.admin.send_batch(batch, None).await {
        Ok(BatchResult::Invited { .. }) => {
            Ok(Redirect::to(&format!("/beheer/upload?sent={count}")).into_response())
        }
        Ok(BatchResult::Refused(checks)) => render_preview(&state, beheerder, &checks, &file, None),
        Ok(BatchResult::AlreadyAnswered) => {
            Ok(Redirect::to(&format!("/beheer/upload?sent={count}")).into_response())
        }
        Err(e) => {
            let message = problem_text(beheerder.t, &e);
            // Rare (the database failed): the rows are read again to show them.
            let checks = bulk_invite::read_csv(&file).unwrap_or_default();
            render_preview(&state, beheerder, &checks, &file, Some(message))
        }
    }
}
