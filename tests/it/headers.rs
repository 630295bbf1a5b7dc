//! What every response carries, and forms that are refused before they are read.

use crate::common::*;
use reqwest::StatusCode;

store_tests! {
/// Security headers on every kind of page: the policy allows no script at all, no framing,
/// no referrer; pages are never cached; the stylesheet may be.
async fn every_page_carries_the_security_headers() {
    let app = spawn_app().await;
    let invited = {
        app.create_org("acme", poortwachter::domain::lang::Lang::Nl, Default::default()).await;
        app.invite("acme", "jan").await
    };
    let link = invited.link[PUBLIC_URL.len()..].to_owned();
    for path in ["/login", link.as_str(), "/invite/unknown", "/nope", "/2fa", "/healthz"] {
        let response = app.get(path).await;
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
    }
    let css = app.get("/static/style.css").await;
    assert_eq!(css.headers()["cache-control"], "public, max-age=3600");
}

/// A form with a field given twice is ambiguous (which password?): refused, not guessed.
async fn duplicated_form_fields_are_refused() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", "Fiets-Sleutel-2024!").await;
    let client = browser();
    let csrf = csrf_of(&app.get_with(&client, "/login").await.text().await.unwrap());
    let body = format!(
        "csrf={csrf}&username=jan&password=Fiets-Sleutel-2024!&password=anders"
    );
    let response = client
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    assert_ne!(response.status(), StatusCode::UNAUTHORIZED, "not even checked");
    assert!(response.text().await.unwrap().contains("Formulier niet leesbaar"));
}

/// Only the methods a route uses are answered; no header tells the software or its version;
/// every page says its character set (ASVS V14.5.1, V14.3.3, V14.4.1).
async fn unused_methods_are_refused_and_no_version_is_told() {
    let app = spawn_app().await;
    for method in ["PUT", "DELETE", "PATCH", "TRACE"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = app.client.request(method.clone(), app.url("/login")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
    for path in ["/login", "/nope"] {
        let response = app.get(path).await;
        let headers = response.headers();
        assert!(headers.get("server").is_none() && headers.get("x-powered-by").is_none());
        assert_eq!(headers["content-type"], "text/html; charset=utf-8", "{path}");
    }
}
}
