//! The one place the service's router is assembled: every feature's routes (the login pages,
//! OpenID Connect, the admin API, the console) merged, and what every response gets around
//! them (security headers, body limit, the request span, metrics). Above all features, so
//! none of them needs to know another.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::http::{AppState, DEFAULT_CSP, WebError, client_address};

/// Forms here are a few short fields; anything larger is refused before it is parsed.
const MAX_BODY_BYTES: usize = 16 * 1024;

pub fn router(state: AppState) -> Router {
    let client_ip_header = state.settings.client_ip_header.clone();
    let dev_mailbox = state.dev_mailbox;
    let mut app = Router::new()
        .merge(crate::web::router(dev_mailbox))
        .merge(crate::http::lang::router())
        .merge(crate::oidc::router())
        .merge(crate::api::router())
        .merge(crate::console::router());
    let hsts = state.settings.is_https().then(|| {
        SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        )
    });
    if state.settings.metrics_bind.is_some() {
        app = app.route_layer(axum::middleware::from_fn(crate::telemetry::http::track));
    }
    let app = app.fallback(|method: axum::http::Method| async move {
        crate::telemetry::http::unmatched(method.as_str());
        WebError::NotFound
    });
    let app = if dev_mailbox {
        app.layer(axum::middleware::from_fn(crate::web::dev_band::add_band))
    } else {
        app
    };
    app.layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_CSP),
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

#[cfg(test)]
mod tests {
    use super::route_label;

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
