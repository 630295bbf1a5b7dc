//! An organization's logo and accent stylesheet, served by Poortwachter itself: the logo
//! under its content hash (a new logo is a new address, so both may be cached for good), the
//! accent as a one-line stylesheet for any colour that passes the contrast rule (so it needs
//! no database, and the page's CSP keeps `style-src 'self'`).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::domain::look::Accent;
use crate::http::{AppState, WebError};

const FOREVER: &str = "public, max-age=31536000, immutable";

pub fn router() -> Router<AppState> {
    Router::new().route("/look/{file}", get(file))
}

async fn file(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, WebError> {
    if let Some(hex) = file
        .strip_prefix("accent-")
        .and_then(|f| f.strip_suffix(".css"))
    {
        let accent = Accent::parse(&format!("#{hex}")).map_err(|_| WebError::NotFound)?;
        let css = format!(
            ":root {{ --accent: {}; --accent-ink: #ffffff; }}\n",
            accent.as_str()
        );
        return Ok((
            [
                (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                (header::CACHE_CONTROL, FOREVER),
            ],
            css,
        )
            .into_response());
    }
    let hash = file.strip_suffix(".png").ok_or(WebError::NotFound)?;
    if hash.len() != 16 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(WebError::NotFound);
    }
    let logo = state.store.logo(hash).await?.ok_or(WebError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, FOREVER),
            // Even opened on its own, the file can do nothing but be an image.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox",
            ),
        ],
        logo,
    )
        .into_response())
}
