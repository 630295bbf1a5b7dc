//! Huisstijl (`/beheer/huisstijl`): the beheerder sets the organization's colour, the sender
//! name of its mails and its logo, with the same rules as the CLI and the API
//! (`domain::look`); a refused part is said in words and nothing of the form is saved.

use askama::Template;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::{Beheerder, Frame, Section, problem_text};
use crate::admin::{AdminError, LookRequest};
use crate::domain::look::MAX_LOGO_BYTES;
use crate::http::csrf;
use crate::http::{AppState, PageChrome, WebError, logo_path};
use crate::texts::{Texts, look};

const PAGE: &str = "/beheer/huisstijl";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PAGE, get(page).post(save))
        // The logo and a few fields; a larger body is refused before it is read.
        .layer(DefaultBodyLimit::max(MAX_LOGO_BYTES + 16 * 1024))
}

#[derive(Template)]
#[template(path = "console/look.html")]
struct LookPage {
    t: &'static Texts,
    page: PageChrome,
    frame: Frame,
    csrf: String,
    form: LookForm,
    logo_src: Option<String>,
    mail_from: String,
    service_name: String,
}

/// The form's text fields, as stored or as typed.
struct LookForm {
    name: String,
    accent: String,
    sender_name: String,
}

#[derive(serde::Deserialize)]
struct PageQuery {
    saved: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    beheerder: Beheerder,
    Query(query): Query<PageQuery>,
) -> Result<Response, WebError> {
    let org = &beheerder.session.org;
    let form = LookForm {
        name: org.name.clone(),
        accent: org.look.accent.clone().unwrap_or_default(),
        sender_name: org.look.sender_name.clone().unwrap_or_default(),
    };
    let mut frame = Frame::new(&beheerder, Section::Look);
    if query.saved.is_some() {
        frame.notice = Some(beheerder.t.look.saved.to_owned());
    }
    render(&state, beheerder, frame, form, StatusCode::OK)
}

fn render(
    state: &AppState,
    beheerder: Beheerder,
    frame: Frame,
    form: LookForm,
    status: StatusCode,
) -> Result<Response, WebError> {
    let org = &beheerder.session.org;
    let page = LookPage {
        t: beheerder.t,
        page: beheerder.chrome(state, PAGE),
        frame,
        csrf: beheerder.csrf.clone(),
        form,
        logo_src: org.look.logo_hash.as_deref().map(logo_path),
        mail_from: crate::mail::sender::Sender::of(&state.settings, org).from,
        service_name: state.settings.service_name.clone(),
    };
    let html = page.render()?;
    Ok(beheerder.page(status, html))
}

/// The form as posted: its CSRF token and the request it makes.
async fn read_form(mut multipart: Multipart) -> Result<(String, LookRequest), WebError> {
    let bad = |e: axum::extract::multipart::MultipartError| WebError::BadForm(e.status());
    let mut token = String::new();
    let mut request = LookRequest::default();
    let mut remove_logo = false;
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        match field.name() {
            Some("csrf") => token = field.text().await.map_err(bad)?,
            Some("display_name") => request.display_name = Some(field.text().await.map_err(bad)?),
            Some("accent") => request.accent = Some(field.text().await.map_err(bad)?),
            Some("sender_name") => request.sender_name = Some(field.text().await.map_err(bad)?),
            Some("remove_logo") => remove_logo = true,
            Some("logo") => {
                let bytes = field.bytes().await.map_err(bad)?;
                if !bytes.is_empty() {
                    request.logo = Some(Some(bytes.to_vec()));
                }
            }
            _ => {}
        }
    }
    if remove_logo {
        request.logo = Some(None);
    }
    Ok((token, request))
}

/// OPSLAAN: every part checked first; a refused one is said and nothing is saved.
async fn save(
    State(state): State<AppState>,
    beheerder: Beheerder,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    let multipart = multipart.map_err(|e| WebError::BadForm(e.status()))?;
    let (token, request) = read_form(multipart).await?;
    csrf::verify(&state, &headers, &token)?;
    let typed = LookForm {
        name: request.display_name.clone().unwrap_or_default(),
        accent: request.accent.clone().unwrap_or_default(),
        sender_name: request.sender_name.clone().unwrap_or_default(),
    };
    if typed.name.trim().is_empty() {
        let mut frame = Frame::new(&beheerder, Section::Look);
        frame.error = Some(beheerder.t.look.name_missing.to_owned());
        return render(
            &state,
            beheerder,
            frame,
            typed,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let org = beheerder.org().to_owned();
    match beheerder.admin.set_look(&org, request).await {
        Ok(_) => Ok(Redirect::to(&format!("{PAGE}?saved=1")).into_response()),
        Err(AdminError::Look(e)) => {
            let mut frame = Frame::new(&beheerder, Section::Look);
            frame.error = Some(look::problem(beheerder.t.lang, &e));
            render(
                &state,
                beheerder,
                frame,
                typed,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(other) => {
            let mut frame = Frame::new(&beheerder, Section::Look);
            frame.error = Some(problem_text(beheerder.t, &other));
            render(
                &state,
                beheerder,
                frame,
                typed,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}
