//! `prompt=login` and `max_age` (OpenID Connect Core §3.1.2.1): the server must log the user
//! in again, and a request anyone can send must not end anything before that login has
//! succeeded. The waiting request is sealed: a browser cannot make one up or alter one to
//! skip the new login. Every test runs on SQLite and on PostgreSQL.

use std::sync::Arc;

use crate::common::oidc::*;
use crate::common::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::{OAuth2TokenResponse, TokenResponse};
use poortwachter::domain::audit::AuditEvent;
use reqwest::StatusCode;

const GOOD: &str = "Fiets-Sleutel-2024!";

/// A browser whose cookies the test can add to, as a hostile page or its owner could.
fn browser_with_jar() -> (reqwest::Client, Arc<reqwest::cookie::Jar>) {
    poortwachter::tls::install_provider();
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (client, jar)
}

async fn refresh(
    app: &TestApp,
    id: &str,
    secret: Option<&str>,
    token: &str,
) -> (StatusCode, serde_json::Value) {
    let response = app
        .post_token_endpoint(
            "/oauth2/token",
            id,
            secret,
            &[("grant_type", "refresh_token"), ("refresh_token", token)],
        )
        .await;
    let status = response.status();
    (
        status,
        serde_json::from_str(&response.text().await.unwrap()).unwrap(),
    )
}

store_tests! {
async fn a_cross_site_prompt_login_ends_nothing_until_the_new_login_succeeded() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    let (id, secret) = app.verzuimcoach().await;
    let rp = app.rp(&app.discover().await, &id, secret.as_deref());
    let browser = browser();
    let first = start_login(&rp, &[]);
    let code = app.log_in_at_application(&browser, &first, "jan", GOOD).await;
    let tokens = app.exchange(&rp, &code, first.verifier).await;
    let refresh_token = tokens.refresh_token().unwrap().secret().clone();

    // Any site can send the browser to a public client's prompt=login request.
    app.clock.advance(60);
    let fresh = start_login(&rp, &[]);
    let response = browser
        .get(format!("{}&prompt=login", fresh.url).replacen(PUBLIC_URL, &app.address, 1))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert!(location(&response).starts_with("/login"), "a new login is asked for");
    // Nothing ended: the session, the application's refresh token, no logout.
    let home = app.visit(&browser, "/").await;
    assert_eq!(home.status(), StatusCode::OK, "still logged in");
    let (status, rotated) = refresh(&app, &id, secret.as_deref(), &refresh_token).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let events = app.admin.audit_log(Some("acme"), Some("jan"), None, 1000).await.unwrap();
    assert!(!events.iter().any(|e| e.event == AuditEvent::SessionEnded), "{events:?}");

    // The login page asks again (filled in), and after the new login the application gets
    // its code, with the new login's time; its earlier grant lives on in the new session.
    let page = app.visit(&browser, "/login").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("value=\"jan\""));
    let next = app.full_login_with(&browser, "jan", GOOD).await;
    let params = callback(&location(&app.visit(&browser, &next).await));
    let tokens = app.exchange(&rp, &params["code"], fresh.verifier).await;
    let verifier = rp.id_token_verifier().set_time_fn(app.verifier_time());
    let claims = tokens.id_token().unwrap().claims(&verifier, &fresh.nonce).unwrap();
    assert!(claims.auth_time().unwrap().timestamp() >= app.clock.now() - 5, "a new login");
    let rotated = rotated["refresh_token"].as_str().unwrap();
    let (status, body) = refresh(&app, &id, secret.as_deref(), rotated).await;
    assert_eq!(status, StatusCode::OK, "handed over to the new session: {body}");
    let events = app.admin.audit_log(Some("acme"), Some("jan"), None, 1000).await.unwrap();
    assert!(events.iter().any(|e| e.event == AuditEvent::SessionEnded
        && e.detail.as_deref() == Some("reauthenticated")), "{events:?}");
}

async fn a_made_up_or_altered_waiting_request_is_ignored() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    let (id, secret) = app.verzuimcoach().await;
    let rp = app.rp(&app.discover().await, &id, secret.as_deref());
    let (browser, jar) = browser_with_jar();
    let first = start_login(&rp, &[]);
    app.log_in_at_application(&browser, &first, "jan", GOOD).await;
    app.clock.advance(60);

    let fresh = start_login(&rp, &[]);
    let request = format!("{}&prompt=login", fresh.url);
    let response = app.visit(&browser, &request).await;
    assert!(location(&response).starts_with("/login"));
    let sealed = cookie_value(response.headers(), "pw_authorize").expect("the waiting request");
    let query = request.split_once('?').unwrap().1;
    let base = url::Url::parse(&app.address).unwrap();
    let plant = |value: String| jar.add_cookie_str(&format!("pw_authorize={value}; Path=/"), &base);

    // Made up: "a login after 1970 was asked for", the request as it came (the old format).
    plant(format!("1.{}", URL_SAFE_NO_PAD.encode(query)));
    let response = app.visit(&browser, &request).await;
    assert!(location(&response).starts_with("/login"), "a made-up one gives no code");
    // Altered: one character of the sealed value changed.
    let mut altered = sealed.into_bytes();
    let last = altered.len() - 1;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    plant(String::from_utf8(altered).unwrap());
    let response = app.visit(&browser, &request).await;
    assert!(location(&response).starts_with("/login"), "an altered one gives no code");
}
}
