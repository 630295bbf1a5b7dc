//! `/api/v1/organizations/{org}/look`: the organization's own look (accent colour, mail
//! sender name, logo), with the rules of `domain::look`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::caller::Caller;
use super::model::parse_json;
use super::problem::{Kind, Problem, ProblemBody};
use crate::admin::LookRequest;
use crate::domain::look::contrast_with_white;
use crate::http::{AppState, logo_path};
use crate::store::Organization;

#[derive(Debug, Serialize, ToSchema)]
pub struct LookView {
    /// The organization's name as users read it (beside the logo, and its alt text).
    pub display_name: String,
    /// `#rrggbb`, or null for Poortwachter's own.
    pub accent: Option<String>,
    /// The WCAG contrast ratio of white text on the accent (at least 4.5).
    pub accent_contrast: Option<f64>,
    /// The name mails are sent under, before "via" and the service's name.
    pub sender_name: Option<String>,
    /// The From of the organization's mails as it is sent.
    pub mail_from: String,
    /// Where the logo is served (a new logo gets a new address), or null.
    pub logo_url: Option<String>,
}

impl LookView {
    fn of(state: &AppState, org: &Organization) -> LookView {
        let look = &org.look;
        LookView {
            display_name: org.name.clone(),
            accent: look.accent.clone(),
            accent_contrast: look.accent.as_deref().and_then(contrast_with_white),
            sender_name: look.sender_name.clone(),
            mail_from: crate::mail::sender::from_header(
                &state.settings.mail_from,
                &state.settings.service_name,
                look.sender_name.as_deref(),
            ),
            logo_url: look
                .logo_hash
                .as_deref()
                .map(|hash| state.settings.link(&logo_path(hash))),
        }
    }
}

/// What to change; a field left out stays, an empty string takes the part away.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookChange {
    /// The organization's name as users read it; it cannot be emptied.
    pub display_name: Option<String>,
    /// `#rrggbb`; refused (422) when white text on it is below 4.5:1.
    pub accent: Option<String>,
    /// 1–60 characters, without `<`, `>`, `"`, `@` or a line break.
    pub sender_name: Option<String>,
    /// The PNG file in base64 (at most 100 KiB, 1024 × 1024 pixels).
    pub logo_png: Option<String>,
}

/// The organization's look.
#[utoipa::path(
    get,
    path = "/api/v1/organizations/{org}/look",
    operation_id = "getLook",
    params(("org" = String, Path, description = "the organization's slug")),
    responses(
        (status = 200, body = LookView),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    tag = "organization"
)]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
) -> Result<axum::Json<LookView>, Problem> {
    let slug = caller.may_manage(&org)?;
    let org = caller
        .admin(&state)
        .organization(&slug)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(axum::Json(LookView::of(&state, &org)))
}

/// Changes parts of the look; every part is checked before anything changes.
#[utoipa::path(
    patch,
    path = "/api/v1/organizations/{org}/look",
    operation_id = "changeLook",
    params(("org" = String, Path, description = "the organization's slug")),
    request_body = LookChange,
    responses(
        (status = 200, body = LookView),
        (status = 400, body = ProblemBody, content_type = "application/problem+json", description = "the body is not readable JSON (`malformed-json`)"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    tag = "organization"
)]
pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    body: Bytes,
) -> Result<axum::Json<LookView>, Problem> {
    let slug = caller.may_manage(&org)?;
    let change: LookChange = parse_json(&body).map_err(|p| caller.fail(p))?;
    let logo = match change.logo_png.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(text) => Some(Some(STANDARD.decode(text).map_err(|_| {
            caller.problem(Kind::InvalidRequest, "logo_png: not base64".to_owned())
        })?)),
    };
    let request = LookRequest {
        display_name: change.display_name,
        accent: change.accent,
        sender_name: change.sender_name,
        logo,
    };
    let admin = caller.admin(&state);
    admin
        .set_look(&slug, request)
        .await
        .map_err(|e| caller.fail(e))?;
    let org = admin
        .organization(&slug)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(axum::Json(LookView::of(&state, &org)))
}
