//! The admin API (`/api/v1`): what an employer's systems and Verzuimcoach do over HTTP that
//! an operator does with the CLI — invite users (one, or up to 1,000 at once), see where
//! they are, resend, disable, enable, unlock, reset two-step verification, end sessions,
//! read and change the organization's settings, read its audit log, register the logins it
//! expects of users and read their readiness (Toegang op orde). Machine clients only
//! (client credentials, see `oidc::machine`), each for its own organizations; the same
//! `Admin` rules as the CLI; errors as RFC 9457 problems; the OpenAPI 3.1 document is
//! generated from these handlers (utoipa) and served at `/api/v1/openapi.json`.

mod access;
mod audit;
mod caller;
mod idempotency;
mod invitations;
mod look;
pub mod model;
mod organization;
pub mod problem;
mod users;
mod webhooks;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::security::{ClientCredentials, Flow, OAuth2, Scopes, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::AppState;

/// A bulk invitation of 1,000 rows is about 100 KB; the rest of the service takes 16 KiB.
const MAX_API_BODY_BYTES: usize = 512 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Poortwachter admin API",
        description = "Manage an organization's users over HTTP. Authenticate with OAuth 2.0 \
            client credentials at /oauth2/token (a client made with `poortwachter client create \
            --grant client-credentials --org SLUG`); send the token as `Authorization: Bearer`. \
            Errors are RFC 9457 problem details.",
        license(name = "Proprietary")
    ),
    servers((url = "/", description = "this Poortwachter")),
    modifiers(&BearerScheme),
    security(("client_credentials" = ["admin"])),
    components(schemas(problem::ProblemBody))
)]
struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let flow = ClientCredentials::new(
            "/oauth2/token",
            Scopes::from_iter([("admin", "manage the client's organizations")]),
        );
        openapi
            .components
            .get_or_insert_default()
            .add_security_scheme(
                "client_credentials",
                SecurityScheme::OAuth2(OAuth2::new([Flow::ClientCredentials(flow)])),
            );
    }
}

/// The routes and the document describing them, from one list: a route cannot be served
/// without being documented.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(organization::show, organization::change))
        .routes(routes!(look::show, look::change))
        .routes(routes!(users::list, invitations::invite))
        .routes(routes!(invitations::bulk_invite))
        .routes(routes!(users::show))
        .routes(routes!(users::resend_invitation))
        .routes(routes!(users::disable))
        .routes(routes!(users::enable))
        .routes(routes!(users::unlock))
        .routes(routes!(users::reset_two_step))
        .routes(routes!(users::end_sessions))
        .routes(routes!(audit::list))
        .routes(routes!(access::put_expected, access::delete_expected))
        .routes(routes!(access::readiness))
        .routes(routes!(access::overview))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::delete))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::replay))
        .routes(routes!(webhooks::export))
}

/// The OpenAPI document of the admin API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

pub fn router() -> Router<AppState> {
    let (router, document) = api().split_for_parts();
    let document = serde_json::to_value(&document).unwrap_or_default();
    router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let document = document.clone();
                async move { axum::Json(document) }
            }),
        )
        .layer(DefaultBodyLimit::max(MAX_API_BODY_BYTES))
        // An API answer opened in a browser is a download, never a page (ASVS 14.4.2).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"api.json\""),
        ))
}
