//! The shared HTTP kit, below every feature's pages: the application state handlers receive,
//! the one error type that becomes a page, the client's address, CSRF, sessions, the page
//! language, strict form parsing, the Content-Security-Policy, and the login continuation
//! (where a completed login goes on to). It imports no feature module (`web`, `oidc`, `api`,
//! `console`); they all import it.

pub mod access_check;
pub mod authorization;
pub mod bearer;
pub mod continuation;
pub mod csrf;
mod error;
pub mod form;
pub mod lang;
pub mod rate_limit;
pub mod session;

use std::sync::Arc;

use crate::services::Services;
use crate::signing_keys::Keys;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

pub use error::WebError;

/// What every handler receives: the services, and what only HTTP needs. It dereferences to
/// [`Services`], so `state.store` and `state.clock` read as before and a handler passes
/// `&state` where a service asks for `&Services`.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub cookies: session::CookieNames,
    pub dev_mailbox: bool,
    /// The token-signing keys (OpenID Connect).
    pub keys: Arc<Keys>,
    /// Each machine client's request budget on the admin API.
    pub api_limiter: Arc<rate_limit::ApiLimiter>,
    /// Passkey ceremonies started without a login ("Inloggen met een passkey"): each is a
    /// database write that anyone can ask for, so they are counted per address and in all.
    pub ceremonies: Arc<rate_limit::CeremonyBudget>,
    /// This service as a WebAuthn relying party; `None` where `public_url` cannot be one.
    pub relying_party: Option<Arc<crate::passkeys::RelyingParty>>,
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}

impl AppState {
    pub fn new(services: Services, keys: Arc<Keys>, dev_mailbox: bool) -> AppState {
        let settings = &services.settings;
        AppState {
            cookies: session::CookieNames::for_settings(settings),
            api_limiter: rate_limit::ApiLimiter::new(settings.api_requests_per_minute),
            ceremonies: rate_limit::CeremonyBudget::new(),
            relying_party: crate::passkeys::RelyingParty::for_public_url(
                &settings.public_url,
                &settings.service_name,
            )
            .map(Arc::new),
            services,
            keys,
            dev_mailbox,
        }
    }
}

/// The client's address: behind a load balancer the right-most entry of the configured
/// header (the one our own balancer added; entries to its left are the client's say-so),
/// otherwise the connection's peer.
pub fn client_address(
    headers: &axum::http::HeaderMap,
    extensions: &axum::http::Extensions,
    header: Option<&str>,
) -> String {
    let forwarded = header
        .and_then(|name| headers.get(name))
        .and_then(|value| value.to_str().ok())
        .and_then(|list| list.rsplit(',').next())
        .map(|entry| entry.trim().chars().take(64).collect::<String>())
        .filter(|entry| !entry.is_empty());
    forwarded.unwrap_or_else(|| {
        extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip().to_string())
            .unwrap_or_default()
    })
}

/// The client's address as a handler sees it (throttling, the audit log).
pub struct ClientAddress(pub String);

impl axum::extract::FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = state.settings.client_ip_header.as_deref();
        Ok(ClientAddress(client_address(
            &parts.headers,
            &parts.extensions,
            header,
        )))
    }
}

/// The CSP every page gets unless it says otherwise: no script, forms only to ourselves.
pub const DEFAULT_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The CSP of a page: no script (the passkey pages: only our own script file), forms only
/// to ourselves and, where a login may end in the redirect to an application, its origin.
pub fn content_security_policy(form_origin: Option<&str>, script: bool) -> String {
    format!(
        "default-src 'none'; {}style-src 'self'; img-src 'self'; form-action 'self'{}; \
         frame-ancestors 'none'; base-uri 'none'",
        if script { "script-src 'self'; " } else { "" },
        form_origin.map(|o| format!(" {o}")).unwrap_or_default()
    )
}

/// `response` with a CSP whose `form-action` also allows `origin` (the application a
/// waiting login goes back to; see [`continuation::form_action_origin`]).
pub fn with_form_action(response: impl IntoResponse, origin: Option<&str>) -> Response {
    let mut response = response.into_response();
    let csp = content_security_policy(origin, false);
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// What every page's frame (header, footer) needs.
pub struct PageChrome {
    pub service_name: String,
    pub switch_href: String,
    /// The organization's own look, on the pages of a known user of it (never before the
    /// user is known: the login page keeps the neutral look).
    pub look: Option<PageLook>,
}

/// An organization's look inside the fixed frame: its name and logo beside the service's
/// name, and its accent colour through a stylesheet of ours (no inline style: the CSP).
pub struct PageLook {
    pub org_name: String,
    pub logo_src: Option<String>,
    pub accent_css: Option<String>,
}

impl PageLook {
    /// The look of `org_name` from what is stored; `None` when it has none.
    pub fn of(org_name: &str, look: &crate::store::OrgLook) -> Option<PageLook> {
        if look.accent.is_none() && look.logo_hash.is_none() {
            return None;
        }
        Some(PageLook {
            org_name: org_name.to_owned(),
            logo_src: look.logo_hash.as_ref().map(|hash| logo_path(hash)),
            accent_css: look.accent.as_ref().map(|accent| accent_path(accent)),
        })
    }
}

pub use crate::store::logo_path;

/// The stylesheet that sets `accent` (`#rrggbb`).
pub fn accent_path(accent: &str) -> String {
    format!("/look/accent-{}.css", accent.trim_start_matches('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(forwarded: Option<&str>) -> axum::extract::Request {
        let mut builder = axum::http::Request::builder().uri("/login");
        if let Some(value) = forwarded {
            builder = builder.header("x-forwarded-for", value);
        }
        let mut request = builder.body(axum::body::Body::empty()).unwrap();
        let peer: std::net::SocketAddr = "10.0.0.5:41000".parse().unwrap();
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        request
    }

    #[test]
    fn client_address_trusts_only_the_configured_header_and_its_last_entry() {
        let address = |request: &axum::extract::Request, header| {
            client_address(request.headers(), request.extensions(), header)
        };
        let spoofed = request(Some("6.6.6.6, 203.0.113.7"));
        assert_eq!(address(&spoofed, Some("x-forwarded-for")), "203.0.113.7");
        assert_eq!(address(&spoofed, None), "10.0.0.5", "no header configured");
        assert_eq!(address(&request(None), Some("x-forwarded-for")), "10.0.0.5");
    }

    #[test]
    fn the_default_policy_is_the_policy_without_extras() {
        assert_eq!(content_security_policy(None, false), DEFAULT_CSP);
    }
}
