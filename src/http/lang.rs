//! Which language a page is in: the user's own choice (the footer link, kept in a cookie),
//! else the browser's Accept-Language, else the organization's language, else Dutch.

use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::SameSite;
use serde::Deserialize;

use super::{AppState, PageChrome};
use crate::domain::lang::Lang;
use crate::texts::Texts;

const LANG_COOKIE: &str = "pw_lang";

/// The language the request asks for, if any.
pub struct Preferred(Option<Lang>);

impl Preferred {
    /// The page language where the organization is known.
    pub fn or_org(&self, org: Lang) -> &'static Texts {
        Texts::of(self.0.unwrap_or(org))
    }

    /// The page language where no organization is known yet.
    pub fn texts(&self) -> &'static Texts {
        Texts::of(self.0.unwrap_or_default())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Preferred {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let chosen = jar.get(LANG_COOKIE).and_then(|c| c.value().parse().ok());
        let browser = || {
            parts
                .headers
                .get(ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        };
        Ok(Preferred(chosen.or_else(browser)))
    }
}

pub fn chrome(state: &AppState, t: &Texts, path: &str) -> PageChrome {
    PageChrome {
        service_name: state.settings.service_name.clone(),
        switch_href: format!(
            "/lang/{}?next={}",
            t.other_lang(),
            url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>()
        ),
        look: None,
    }
}

/// The chrome of a page of a known user of an organization: with its look, if it has one.
pub fn chrome_of_org(
    state: &AppState,
    t: &Texts,
    path: &str,
    org: &crate::store::Organization,
) -> PageChrome {
    PageChrome {
        look: super::PageLook::of(&org.name, &org.look),
        ..chrome(state, t, path)
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/lang/{code}", axum::routing::get(switch))
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

async fn switch(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(next): Query<Next>,
    jar: CookieJar,
) -> impl IntoResponse {
    let target = next
        .next
        .filter(|n| is_local_path(n))
        .unwrap_or_else(|| "/login".into());
    let Ok(lang) = code.parse::<Lang>() else {
        return (jar, Redirect::to(&target));
    };
    // Secure under an https public URL, like every cookie of ours.
    let mut cookie = state
        .cookies
        .cookie(LANG_COOKIE, lang.code().to_owned(), SameSite::Lax);
    cookie.set_max_age(time::Duration::days(365));
    (jar.add(cookie), Redirect::to(&target))
}

/// Only a path on this site: no scheme, no `//host`, no backslash tricks (open redirect).
fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn only_local_paths_are_redirect_targets() {
        assert!(is_local_path("/login"));
        assert!(is_local_path("/invite/abc?x=1"));
        for bad in [
            "https://evil.test",
            "//evil.test",
            "/\\evil.test",
            "login",
            "/\r\nx",
        ] {
            assert!(!is_local_path(bad), "{bad}");
        }
    }
}
