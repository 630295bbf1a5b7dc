//! `/api/v1/organizations/{org}`: the organization's password policy and what its users
//! may do themselves.

use axum::body::Bytes;
use axum::extract::{Path, State};

use super::caller::Caller;
use super::model::{OrganizationChange, OrganizationView, parse_json};
use super::problem::{Problem, ProblemBody};
use crate::domain::password::{CharacterClasses, PasswordPolicy};
use crate::http::AppState;
use crate::store::SelfService;

/// The organization's settings.
#[utoipa::path(
    get,
    path = "/api/v1/organizations/{org}",
    operation_id = "getOrganization",
    params(("org" = String, Path, description = "the organization's slug")),
    responses(
        (status = 200, body = OrganizationView),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    tag = "organization"
)]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
) -> Result<axum::Json<OrganizationView>, Problem> {
    let slug = caller.may_manage(&org)?;
    let org = caller
        .admin(&state)
        .organization(&slug)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(axum::Json(OrganizationView::of(&org)))
}

/// Changes the password policy and/or the self-service settings. Each part given is
/// replaced whole; the policy is checked as a whole before anything changes. The policy
/// applies to passwords set from now on.
#[utoipa::path(
    patch,
    path = "/api/v1/organizations/{org}",
    operation_id = "changeOrganization",
    params(("org" = String, Path, description = "the organization's slug")),
    request_body = OrganizationChange,
    responses(
        (status = 200, body = OrganizationView),
        (status = 400, body = ProblemBody, content_type = "application/problem+json", description = "the body is not readable JSON (`malformed-json`)"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    tag = "organization"
)]
pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    body: Bytes,
) -> Result<axum::Json<OrganizationView>, Problem> {
    let slug = caller.may_manage(&org)?;
    let change: OrganizationChange = parse_json(&body).map_err(|p| caller.fail(p))?;
    let admin = caller.admin(&state);
    // Both parts are checked before either is stored: nothing half-done.
    let policy = change
        .password_policy
        .map(|p| {
            PasswordPolicy::new(
                p.min_length,
                p.max_length,
                CharacterClasses {
                    lowercase: p.require_lowercase,
                    uppercase: p.require_uppercase,
                    digit: p.require_digit,
                    symbol: p.require_symbol,
                },
            )
        })
        .transpose()
        .map_err(|e| caller.fail(crate::admin::AdminError::from(e)))?;
    let self_service = change.self_service.map(|s| SelfService {
        reset: s.password_reset,
        remember_device_days: s.remember_device_days,
    });
    if let Some(s) = &self_service {
        crate::admin::check_self_service(s).map_err(|e| caller.fail(e))?;
    }
    if let Some(policy) = policy {
        admin
            .set_policy(&slug, policy)
            .await
            .map_err(|e| caller.fail(e))?;
    }
    if let Some(s) = self_service {
        admin
            .set_self_service(&slug, s)
            .await
            .map_err(|e| caller.fail(e))?;
    }
    let org = admin
        .organization(&slug)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(axum::Json(OrganizationView::of(&org)))
}
