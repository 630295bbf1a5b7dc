//! Cross-site request forgery defence for every POST form (ASVS V4.2.2, OWASP CSRF Cheat
//! Sheet), in two independent layers:
//! 1. Fetch metadata and Origin: a browser that says the request is cross-site, or whose
//!    Origin is not the public URL's, is refused.
//! 2. Double-submit token: a random token in an HttpOnly SameSite=Strict cookie must equal the
//!    hidden `csrf` field of the form. A cross-site page cannot read the cookie to copy it.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::{CONTENT_TYPE, ORIGIN};
use axum::http::{HeaderMap, StatusCode};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::SameSite;
use serde::de::DeserializeOwned;

use super::{AppState, WebError, form};
use crate::domain::token::Token;

/// The hidden `csrf` field every form carries; alone, a form that is only a button (log out,
/// AUTHENTICATOR APP, Nieuwe code). A form's own type need not name it: the body is read
/// for this field and for the form's fields separately (a page that is shown again with the
/// same token may declare a `csrf` field of its own to read it).
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// The form's token for a page: the browser's existing one, or a new one set with the page.
pub fn token_for_page(state: &AppState, jar: CookieJar) -> (CookieJar, String) {
    if let Some(existing) = jar
        .get(state.cookies.csrf)
        .and_then(|c| Token::parse(c.value()))
    {
        return (jar, existing.expose().to_owned());
    }
    let token = Token::generate(&mut rand::rngs::OsRng);
    let value = token.expose().to_owned();
    let cookie = state
        .cookies
        .cookie(state.cookies.csrf, value.clone(), SameSite::Strict);
    (jar.add(cookie), value)
}

/// A form of any type `T` that passed both CSRF checks. Its rejection is a page, never
/// axum's plain text.
pub struct ProtectedForm<T>(pub T);

impl<T> FromRequest<AppState> for ProtectedForm<T>
where
    T: DeserializeOwned + Send,
{
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, WebError> {
        if !same_origin(req.headers(), &state.settings.public_origin()) {
            return Err(WebError::Csrf);
        }
        let jar = CookieJar::from_headers(req.headers());
        let expected = jar
            .get(state.cookies.csrf)
            .and_then(|c| Token::parse(c.value()))
            .ok_or(WebError::Csrf)?;
        let is_form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                mime.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !is_form {
            return Err(WebError::BadForm(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        }
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|rejection| WebError::BadForm(rejection.status()))?;
        let unreadable = |form::Unreadable| WebError::BadForm(StatusCode::BAD_REQUEST);
        let token: CsrfOnly = form::deserialize(&body).map_err(unreadable)?;
        if !expected.matches(&token.csrf) {
            return Err(WebError::Csrf);
        }
        let form: T = form::deserialize(&body).map_err(unreadable)?;
        Ok(ProtectedForm(form))
    }
}

/// Both CSRF checks for a form that is not url-encoded (a file upload): the request's
/// origin, and the `token` field it carried against the cookie.
pub fn verify(state: &AppState, headers: &HeaderMap, token: &str) -> Result<(), WebError> {
    if !same_origin(headers, &state.settings.public_origin()) {
        return Err(WebError::Csrf);
    }
    let expected = CookieJar::from_headers(headers)
        .get(state.cookies.csrf)
        .and_then(|c| Token::parse(c.value()))
        .ok_or(WebError::Csrf)?;
    if expected.matches(token) {
        Ok(())
    } else {
        Err(WebError::Csrf)
    }
}

/// False when the browser tells us the request comes from another site.
fn same_origin(headers: &HeaderMap, public_origin: &str) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if let Some(site) = fetch_site
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    match headers.get(ORIGIN).map(|v| v.to_str()) {
        None => true,
        // Our pages send `Referrer-Policy: no-referrer`, under which browsers send
        // `Origin: null` even for their own forms (Fetch §3.2.5); then Sec-Fetch-Site vouches.
        Some(Ok("null")) => fetch_site == Some("same-origin"),
        Some(Ok(origin)) => origin == public_origin,
        Some(Err(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn cross_site_requests_are_refused() {
        let origin = "https://login.example.nl";
        assert!(same_origin(&headers(&[]), origin));
        assert!(same_origin(
            &headers(&[("sec-fetch-site", "same-origin"), ("origin", origin)]),
            origin
        ));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            origin
        ));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            origin
        ));
        assert!(!same_origin(
            &headers(&[("origin", "https://evil.test")]),
            origin
        ));
        assert!(!same_origin(&headers(&[("origin", "null")]), origin));
        assert!(!same_origin(
            &headers(&[("origin", "null"), ("sec-fetch-site", "cross-site")]),
            origin
        ));
        assert!(same_origin(
            &headers(&[("origin", "null"), ("sec-fetch-site", "same-origin")]),
            origin
        ));
    }
}
