//! The one stylesheet, and the health checks.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use axum::extract::State;

use crate::http::{AppState, WebError};

static STYLE: &str = include_str!("../../assets/style.css");
/// The passkey pages' script (see `web::passkeys`).
static PASSKEY_SCRIPT: &str = include_str!("../../assets/passkey.js");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/static/style.css", get(style))
        .route("/static/passkey.js", get(passkey_script))
        // Liveness: the process answers. Readiness: it can also reach its database, so a
        // load balancer sends no users to an instance that would only show 503 pages.
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
}

async fn ready(State(state): State<AppState>) -> Result<&'static str, WebError> {
    state.store.ping().await?;
    Ok("ready")
}

async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
}

async fn passkey_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        PASSKEY_SCRIPT,
    )
}
