//! The HTTP layer: thin handlers around the domain rules and the store. Each feature module
//! owns its routes; this module only merges them and adds what every response gets.

mod account;
mod assets;
pub(crate) mod attempts;
pub(crate) mod csrf;
mod dev_band;
mod devices;
mod devmail;
mod error;
mod forgot;
pub(crate) mod form;
#[cfg(fuzzing)]
pub mod fuzzing;

mod invite;
pub(crate) mod lang;
mod login;
mod new_phone;
mod passkeys;
pub(crate) mod password;
mod recovery_codes;
mod reset;
mod second_factor;
pub(crate) mod session;
mod setup_mail;
pub(crate) mod totp_check;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::hashing::PasswordHasher;
use crate::keyring::Keyring;
use crate::oidc::keys::Keys;
use crate::store::Store;
use tokio::sync::Notify;

pub use error::WebError;

/// Forms here are a few short fields; anything larger is refused before it is parsed.
const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
    pub hasher: PasswordHasher,
    pub clock: SharedClock,
    pub cookies: session::CookieNames,
    pub dev_mailbox: bool,
    /// Encrypts and decrypts the TOTP secrets.
    pub keyring: Arc<Keyring>,
    /// Wakes the outbox worker when a handler queues mail.
    pub outbox_wake: Arc<Notify>,
    /// The token-signing keys (OpenID Connect).
    pub keys: Arc<Keys>,
    /// Wakes the back-channel logout sender when a session ends here.
    pub logout_wake: Arc<Notify>,
    /// Each machine client's request budget on the admin API.
    pub api_limiter: Arc<crate::api::ApiLimiter>,
    /// This service as a WebAuthn relying party; `None` where `public_url` cannot be one.
    pub relying_party: Option<Arc<crate::passkeys::RelyingParty>>,
}

/// What [`AppState`] is made of, built by `startup`.
pub struct StateParts {
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
    pub hasher: PasswordHasher,
    pub clock: SharedClock,
    pub keyring: Arc<Keyring>,
    pub outbox_wake: Arc<Notify>,
    pub keys: Arc<Keys>,
    pub logout_wake: Arc<Notify>,
    pub dev_mailbox: bool,
}

impl AppState {
    pub fn new(parts: StateParts) -> AppState {
        let cookies = session::CookieNames::for_settings(&parts.settings);
        let settings = parts.settings.clone();
        AppState {
            store: parts.store,
            settings: parts.settings,
            hasher: parts.hasher,
            clock: parts.clock,
            cookies,
            dev_mailbox: parts.dev_mailbox,
            keyring: parts.keyring,
            outbox_wake: parts.outbox_wake,
            keys: parts.keys,
            logout_wake: parts.logout_wake,
            api_limiter: crate::api::ApiLimiter::new(settings.api_requests_per_minute),
            relying_party: crate::passkeys::RelyingParty::for_public_url(
                &settings.public_url,
                &settings.service_name,
            )
            .map(Arc::new),
        }
    }
}

pub fn router(state: AppState) -> Router {
    let client_ip_header = state.settings.client_ip_header.clone();
    let mut app = Router::new()
        .merge(login::router())
        .merge(account::router())
        .merge(invite::router())
        .merge(password::router())
        .merge(second_factor::router())
        .merge(passkeys::router())
        .merge(recovery_codes::router())
        .merge(forgot::router())
        .merge(reset::router())
        .merge(new_phone::router())
        .merge(lang::router())
        .merge(crate::oidc::router())
        .merge(crate::api::router())
        .merge(crate::console::router())
        .merge(assets::router());
    if state.dev_mailbox {
        app = app.merge(devmail::router());
    }
    let hsts = state.settings.is_https().then(|| {
        SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        )
    });
    if state.settings.metrics_bind.is_some() {
        app = app.route_layer(axum::middleware::from_fn(crate::telemetry::http::track));
    }
    let dev_mailbox = state.dev_mailbox;
    let app = app.fallback(|method: axum::http::Method| async move {
        crate::telemetry::http::unmatched(method.as_str());
        WebError::NotFound
    });
    let app = if dev_mailbox {
        app.layer(axum::middleware::from_fn(dev_band::add_band))
    } else {
        app
    };
    app.layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                 frame-ancestors 'none'; base-uri 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // Token links must not leak through the Referer header (ASVS V3.1.1).
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        // Pages show tokens, names and forms: no cache keeps them (ASVS V8.2.1).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(tower::util::option_layer(hsts))
        // Failures are logged where they are understood (WebError); a 503 in a login flood
        // is the service working as designed, not an error line per request.
        .layer(TraceLayer::new_for_http().on_failure(()).make_span_with(
            move |request: &axum::extract::Request| {
                // The path only: query strings and token paths are not logged.
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    route = %route_label(request.uri().path()),
                    client = %client_address(
                        request.headers(),
                        request.extensions(),
                        client_ip_header.as_deref()
                    ),
                )
            },
        ))
        .with_state(state)
}

/// The client's address: behind a load balancer the right-most entry of the configured
/// header (the one our own balancer added; entries to its left are the client's say-so),
/// otherwise the connection's peer.
fn client_address(
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

/// A path fit for a log line: the token in an invitation or reset link is replaced.
fn route_label(path: &str) -> String {
    if path.starts_with("/invite/") {
        "/invite/{token}".to_owned()
    } else if let Some(rest) = path.strip_prefix("/password/reset/") {
        let verify = if rest.ends_with("/verify") {
            "/verify"
        } else {
            ""
        };
        format!("/password/reset/{{token}}{verify}")
    } else {
        path.chars().take(100).collect()
    }
}

/// The CSP of a page: no script (the passkey pages: only our own script file), forms only
/// to ourselves and, where a login may end in the redirect to an application, its origin.
pub(crate) fn content_security_policy(form_origin: Option<&str>, script: bool) -> String {
    format!(
        "default-src 'none'; {}style-src 'self'; img-src 'self'; form-action 'self'{}; \
         frame-ancestors 'none'; base-uri 'none'",
        if script { "script-src 'self'; " } else { "" },
        form_origin.map(|o| format!(" {o}")).unwrap_or_default()
    )
}

/// What every page's frame (header, footer) needs.
pub struct PageChrome {
    pub service_name: String,
    pub switch_href: String,
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
    fn invitation_tokens_do_not_reach_the_log() {
        assert_eq!(route_label("/invite/SECRETTOKEN"), "/invite/{token}");
        assert_eq!(
            route_label("/password/reset/SECRETTOKEN"),
            "/password/reset/{token}"
        );
        assert_eq!(
            route_label("/password/reset/SECRETTOKEN/verify"),
            "/password/reset/{token}/verify"
        );
        assert_eq!(route_label("/login"), "/login");
    }
}
