//! The development band: while mail goes to the development mailbox (no `smtp_url`), every
//! HTML page, error pages and the mailbox included, says so at the top, so nobody mistakes
//! a development server for the real one (or gives it real accounts).
//!
//! It is added to the finished response rather than to each template: the error pages are
//! rendered without the application's state, and one place cannot forget a page.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::middleware::Next;
use axum::response::Response;

const BAND: &str = "<div class=\"dev-band\" role=\"note\" id=\"dev-band\">\
    <strong>Ontwikkelmodus</strong>: e-mail wordt niet verstuurd maar staat in de \
    <a href=\"/dev/mail\">dev-mailbox</a>. Niet gebruiken voor echte accounts. · \
    <strong lang=\"en\">Development mode</strong><span lang=\"en\">: mail is not sent but kept \
    in the development mailbox. Not for real accounts.</span></div>";

/// Marks a response that must reach the browser unchanged (an e-mail's own HTML).
#[derive(Clone, Copy)]
pub struct AsSent;

/// Pages are a few kilobytes; anything larger is passed on untouched.
const MAX_PAGE_BYTES: usize = 1024 * 1024;

pub async fn add_band(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let is_html = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !is_html || response.extensions().get::<AsSent>().is_some() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_PAGE_BYTES).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let html = String::from_utf8_lossy(&bytes);
    let banded = match html.find("<body>") {
        Some(at) => {
            let after = at + "<body>".len();
            format!("{}{BAND}{}", &html[..after], &html[after..])
        }
        None => html.into_owned(),
    };
    parts.headers.remove(CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(banded))
}
