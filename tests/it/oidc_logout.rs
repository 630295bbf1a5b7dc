//! Logging out of applications: back-channel logout tokens for every way a session ends
//! (retried until the application accepts), and RP-initiated logout, which asks first when
//! the application gives no ID token of this session. SQLite and PostgreSQL.

use crate::common::oidc::*;
use crate::common::*;
use openidconnect::{OAuth2TokenResponse, TokenResponse};
use poortwachter::admin::ClientRegistration;
use poortwachter::domain::audit::{AuditEvent, Outcome};
use reqwest::{Client, StatusCode};

const GOOD: &str = "Fiets-Sleutel-2024!";

/// Logs `browser` in at the application `rp`; the ID token's `sid` and `sub`, and the
/// refresh token.
async fn tokens_at(app: &TestApp, rp: &Rp, browser: &Client) -> (String, String, String) {
    let login = start_login(rp, &[]);
    app.clock.advance(30);
    let code = app
        .log_in_at_application(browser, &login, "jan", GOOD)
        .await;
    let tokens = app.exchange(rp, &code, login.verifier).await;
    let token = tokens.id_token().unwrap().to_string();
    let payload = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &data_encoding::BASE64URL_NOPAD
            .decode(payload.as_bytes())
            .unwrap(),
    )
    .unwrap();
    (
        claims["sid"].as_str().unwrap().to_owned(),
        claims["sub"].as_str().unwrap().to_owned(),
        tokens.refresh_token().unwrap().secret().clone(),
    )
}

async fn application(app: &TestApp, receiver: &LogoutReceiver) -> (String, Option<String>) {
    app.register(ClientRegistration {
        name: "Verzuimcoach".into(),
        redirect_uris: vec![REDIRECT.into()],
        post_logout_redirect_uris: vec![AFTER_LOGOUT.into()],
        backchannel_logout_uri: Some(receiver.uri.clone()),
        first_party: true,
        ..Default::default()
    })
    .await
}

store_tests! {
async fn every_way_a_session_ends_reaches_the_application() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    let receiver = LogoutReceiver::start(0).await;
    let (id, secret) = application(&app, &receiver).await;
    let metadata = app.discover().await;
    let rp = app.rp(&metadata, &id, secret.as_deref());

    let mut received = 0;
    for way in ["everywhere", "administrator", "disabled", "idle", "password reset"] {
        let browser = browser();
        let (sid, sub, refresh) = tokens_at(&app, &rp, &browser).await;
        match way {
            "everywhere" => {
                let home = app.get_with(&browser, "/").await.text().await.unwrap();
                app.post_with(&browser, "/logout/everywhere", &csrf_of(&home), &[]).await;
            }
            "administrator" => {
                app.admin.end_sessions("acme", "jan").await.unwrap();
            }
            "disabled" => {
                app.admin.set_disabled("acme", "jan", true).await.unwrap();
                app.admin.set_disabled("acme", "jan", false).await.unwrap();
            }
            "idle" => app.clock.advance(31 * 60),
            _ => {
                // A reset link from the administrator: the code, then the (same) password.
                let recipient = "jan@example.nl".to_owned();
                let before = app.smtp.received().iter().filter(|e| e.to.contains(&recipient)).count();
                app.admin.send_reset_link("acme", "jan").await.unwrap();
                let link = app.mail_to("jan", before + 1).await.link_path();
                assert!(link.starts_with("/password/reset/"), "{link}");
                app.clock.advance(30);
                let key = app.keys.lock().unwrap()["jan"].clone();
                let code = app_code(&key, app.clock.now());
                let reset = crate::common::browser();
                let verified = app.submit_with(&reset, &link, &format!("{link}/verify"), &[("code", &code)]).await;
                assert_eq!(location(&verified), link);
                let saved = app.submit_with(&reset, &link, &link, &[("password", GOOD), ("password_repeat", GOOD)]).await;
                assert_eq!(location(&saved), "/login?notice=password_reset");
            }
        }
        received += 1;
        let tokens = receiver.tokens(received).await;
        assert_eq!(tokens.len(), received, "a logout token after {way}");
        let claims = verified_logout_claims(&metadata, tokens.last().unwrap());
        assert_eq!(claims["iss"], PUBLIC_URL);
        assert_eq!(claims["aud"], id.as_str());
        assert_eq!(claims["sid"], sid.as_str(), "{way}");
        assert_eq!(claims["sub"], sub.as_str());
        assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
        assert!(claims.get("nonce").is_none());
        let response = app
            .post_token_endpoint("/oauth2/token", &id, secret.as_deref(), &[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "the session's refresh token stops after {way}");
    }
}

async fn a_failing_logout_endpoint_is_tried_again_until_it_accepts() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    let receiver = LogoutReceiver::start(2).await;
    let (id, secret) = application(&app, &receiver).await;
    let rp = app.rp(&app.discover().await, &id, secret.as_deref());
    tokens_at(&app, &rp, &app.client).await;
    app.admin.end_sessions("acme", "jan").await.unwrap();
    // Two refusals, each followed by a wait (5 s, then 10 s): nothing is dropped.
    for wait in [5, 10] {
        for _ in 0..300 {
            let events = app.admin.audit_log(Some("acme"), Some("jan"), None, 1000).await.unwrap();
            let failures = events.iter().filter(|e| e.event == AuditEvent::BackchannelLogout && e.outcome == Outcome::Failure).count();
            if failures == wait / 5 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(receiver.tokens(0).await.is_empty());
        app.clock.advance(wait as i64 + 1);
    }
    assert_eq!(receiver.tokens(1).await.len(), 1, "delivered on the third attempt");
    // The sender records the success after the application answered: wait for that line
    // (bounded), rather than reading the log the moment the token arrived.
    let mut outcomes = Vec::new();
    for _ in 0..300 {
        let events = app.admin.audit_log(Some("acme"), Some("jan"), None, 1000).await.unwrap();
        outcomes = events.iter().filter(|e| e.event == AuditEvent::BackchannelLogout).map(|e| e.outcome).collect();
        if outcomes.contains(&Outcome::Success) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(outcomes, [Outcome::Failure, Outcome::Failure, Outcome::Success]);
}

async fn logout_without_this_sessions_id_token_asks_first() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    let receiver = LogoutReceiver::start(0).await;
    let (id, secret) = application(&app, &receiver).await;
    let rp = app.rp(&app.discover().await, &id, secret.as_deref());
    let browser = browser();
    tokens_at(&app, &rp, &browser).await;

    let query = serde_urlencoded::to_string([
        ("client_id", id.as_str()),
        ("post_logout_redirect_uri", AFTER_LOGOUT),
        ("state", "s"),
    ])
    .unwrap();
    // An unregistered destination: a page, no redirect, still logged in.
    let evil = serde_urlencoded::to_string([("client_id", id.as_str()), ("post_logout_redirect_uri", "https://evil.example/")]).unwrap();
    let response = app.get_with(&browser, &format!("/logout/end-session?{evil}")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // A link from anywhere only shows the question.
    let response = app.get_with(&browser, &format!("/logout/end-session?{query}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("form-action 'self' http://127.0.0.1:9"), "{csp}");
    let page = response.text().await.unwrap();
    assert!(page.contains("Wil je uitloggen bij Verzuimcoach?") && page.contains("UITLOGGEN"));
    assert_eq!(app.get_with(&browser, "/").await.status(), StatusCode::OK, "still logged in");
    let done = app
        .post_with(&browser, "/logout/end-session", &csrf_of(&page), &[("request", &query), ("decision", "logout")])
        .await;
    assert_eq!(location(&done), format!("{AFTER_LOGOUT}?state=s"));
    assert_eq!(location(&app.get_with(&browser, "/").await), "/login");
    assert_eq!(receiver.tokens(1).await.len(), 1, "the application hears it by back-channel too");
}
}
