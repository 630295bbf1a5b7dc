//! The authorization endpoint's answers to bad requests, organizations a client does not
//! serve, and consent ("Gekoppelde apps"). Every test runs on SQLite and on PostgreSQL.

use crate::common::oidc::*;
use crate::common::*;
use poortwachter::admin::ClientRegistration;
use poortwachter::domain::audit::AuditEvent;
use reqwest::StatusCode;

const GOOD: &str = "Fiets-Sleutel-2024!";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// An authorization request to `client` with `extra` parameters (an empty value drops one).
fn authorize_path(client: &str, extra: &[(&str, &str)]) -> String {
    let mut params: Vec<(&str, &str)> = vec![
        ("client_id", client),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "s-1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (name, value) in extra {
        params.retain(|(k, _)| k != name);
        if !value.is_empty() {
            params.push((name, value));
        }
    }
    format!(
        "/authorize?{}",
        serde_urlencoded::to_string(&params).unwrap()
    )
}

store_tests! {
async fn requests_that_cannot_go_back_get_a_page_never_a_redirect() {
    let app = spawn_app().await;
    let (id, _) = app.verzuimcoach().await;
    let cases = [
        authorize_path("nobody", &[]),
        authorize_path(&id, &[("redirect_uri", "https://evil.example/cb")]),
        authorize_path(&id, &[("redirect_uri", "http://127.0.0.1:9/callback/")]),
        authorize_path(&id, &[("redirect_uri", "")]),
        format!("{}&client_id={id}", authorize_path(&id, &[])),
        format!("{}&state=two", authorize_path(&id, &[])),
        authorize_path(&id, &[("state", &"x".repeat(2000))]),
    ];
    for path in cases {
        let response = app.get(&path).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(response.headers().get("location").is_none(), "no redirect for {path}");
        let page = response.text().await.unwrap();
        assert!(page.contains("Deze inlogaanvraag klopt niet"), "{path}");
    }
}

async fn other_errors_go_back_to_the_client_with_state_and_iss() {
    let app = spawn_app().await;
    let (id, _) = app.verzuimcoach().await;
    for (extra, error) in [
        (vec![("response_type", "token")], "unsupported_response_type"),
        (vec![("response_type", "code id_token")], "unsupported_response_type"),
        (vec![("code_challenge", "")], "invalid_request"),
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (vec![("code_challenge_method", "")], "invalid_request"),
        (vec![("scope", "profile")], "invalid_scope"),
        (vec![("prompt", "none login")], "invalid_request"),
        (vec![("request", "eyJhbGciOiJub25lIn0.e30.")], "request_not_supported"),
    ] {
        let response = app.get(&authorize_path(&id, &extra)).await;
        let params = callback(&location(&response));
        assert_eq!(params["error"], error, "{extra:?}");
        assert!(params.contains_key("error_description"));
        assert_eq!(params["state"], "s-1");
        assert_eq!(params["iss"], PUBLIC_URL);
    }
    // A POSTed request is the same request (OIDC Core §3.1.2.1).
    let query = authorize_path(&id, &[("response_type", "token")]);
    let body = query.split_once('?').unwrap().1.to_owned();
    let response = app
        .client
        .post(app.url("/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), format!("/authorize?{body}"));
}

async fn a_client_limited_to_an_organization_refuses_other_users() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    app.active_user("globex", "piet", GOOD).await;
    let (id, secret) = app
        .register(ClientRegistration {
            name: "Acme Portaal".into(),
            redirect_uris: vec![REDIRECT.into()],
            first_party: true,
            orgs: vec!["acme".into()],
            ..Default::default()
        })
        .await;
    let rp = app.rp(&app.discover().await, &id, secret.as_deref());

    let browser = browser();
    let login = start_login(&rp, &[]);
    let response = app.visit(&browser, login.url.as_str()).await;
    assert!(location(&response).starts_with("/login"));
    let next = app.full_login_with(&browser, "piet", GOOD).await;
    let refused = app.visit(&browser, &next).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let page = refused.text().await.unwrap();
    assert!(page.contains("Geen toegang") && page.contains("Acme Portaal"));
    let back = attribute_after(&page, "class=\"button\" href=\"");
    let params = callback(&back);
    assert_eq!(params["error"], "access_denied", "{page}");
    assert_eq!(params.get("state"), Some(login.state.secret()), "{back}");

    let jans = browser_login_code(&app, &rp, "jan").await;
    assert!(!jans.is_empty(), "a user of the organization gets a code");
}

async fn a_posted_request_that_is_no_form_gets_the_page_never_a_500() {
    let app = spawn_app().await;
    let (id, _) = app.verzuimcoach().await;
    let good = authorize_path(&id, &[]).split_once('?').unwrap().1.to_owned();
    let bodies: Vec<Vec<u8>> = vec![
        format!("{good}&state=a\r\nSet-Cookie:+x=1").into_bytes(),
        [good.as_bytes(), b"&state=\x00\x01\x7f"].concat(),
        format!("{good}&state=%FF").into_bytes(),
        format!("{good}&state={}", "x".repeat(4000)).into_bytes(),
    ];
    for body in bodies {
        let response = app
            .client
            .post(app.url("/authorize"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(&body));
        assert!(response.headers().get("location").is_none());
        assert!(response.text().await.unwrap().contains("Deze inlogaanvraag klopt niet"));
    }
    // Percent-encoded control characters are a readable form: written anew, never raw, into
    // the redirect to the GET (whose checks then refuse the request).
    let response = app
        .client
        .post(app.url("/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("{good}&nonce=a%0D%0Ab"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).ends_with("&nonce=a%0D%0Ab"), "{}", location(&response));
}

async fn prompt_none_never_shows_a_page_to_a_user_of_another_organization() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    app.active_user("globex", "piet", GOOD).await;
    let (id, _) = app
        .register(ClientRegistration {
            name: "Acme Portaal".into(),
            redirect_uris: vec![REDIRECT.into()],
            first_party: true,
            orgs: vec!["acme".into()],
            ..Default::default()
        })
        .await;
    let browser = browser();
    app.full_login_with(&browser, "piet", GOOD).await;
    let response = app.visit(&browser, &authorize_path(&id, &[("prompt", "none")])).await;
    let params = callback(&location(&response));
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "s-1");
    assert_eq!(params["iss"], PUBLIC_URL);
}

async fn third_party_clients_ask_consent_once_and_users_can_withdraw_it() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    let (id, secret) = app
        .register(ClientRegistration {
            name: "Planner Pro".into(),
            redirect_uris: vec![REDIRECT.into()],
            ..Default::default()
        })
        .await;
    let rp = app.rp(&app.discover().await, &id, secret.as_deref());
    let browser = browser();

    // The first time: the consent page names the application and what it gets.
    let login = start_login(&rp, &["email"]);
    app.visit(&browser, login.url.as_str()).await;
    let next = app.full_login_with(&browser, "jan", GOOD).await;
    let page = app.visit(&browser, &next).await;
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("form-action 'self' http://127.0.0.1:9"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("Planner Pro") && html.contains("je e-mailadres") && html.contains("TOESTAAN"));
    let request = attribute_after(&html, "name=\"request\" value=\"");

    // WEIGEREN: access_denied for the application.
    let denied = app
        .post_with(&browser, "/authorize/consent", &csrf_of(&html), &[("request", &request), ("decision", "deny")])
        .await;
    assert_eq!(callback(&location(&denied))["error"], "access_denied");

    // prompt=none before consent: consent_required.
    let url = format!("{}&prompt=none", start_login(&rp, &["email"]).url);
    assert_eq!(callback(&location(&app.visit(&browser, &url).await))["error"], "consent_required");

    // TOESTAAN: a code; the next time no page is shown.
    let login = start_login(&rp, &["email"]);
    let html = app.visit(&browser, login.url.as_str()).await.text().await.unwrap();
    let request = attribute_after(&html, "name=\"request\" value=\"");
    let allowed = app
        .post_with(&browser, "/authorize/consent", &csrf_of(&html), &[("request", &request), ("decision", "allow")])
        .await;
    let code = callback(&location(&allowed))["code"].clone();
    let tokens = app.exchange(&rp, &code, login.verifier).await;
    let again = start_login(&rp, &["email"]);
    assert!(callback(&location(&app.visit(&browser, again.url.as_str()).await)).contains_key("code"));

    // Listed under "Gekoppelde apps"; withdrawing revokes what the application holds.
    let home = app.get_with(&browser, "/").await.text().await.unwrap();
    assert!(home.contains("Gekoppelde apps") && home.contains("Planner Pro"));
    let withdrawn = app
        .post_with(&browser, "/apps/withdraw", &csrf_of(&home), &[("client_id", &id)])
        .await;
    assert_eq!(location(&withdrawn), "/?notice=app_withdrawn");
    use openidconnect::OAuth2TokenResponse;
    let refresh = tokens.refresh_token().unwrap().secret().to_owned();
    let response = app
        .post_token_endpoint("/oauth2/token", &id, secret.as_deref(), &[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let url = format!("{}&prompt=none", start_login(&rp, &["email"]).url);
    assert_eq!(callback(&location(&app.visit(&browser, &url).await))["error"], "consent_required");
    let events = app.admin.audit_log(Some("acme"), Some("jan"), None, 1000).await.unwrap();
    assert!(events.iter().any(|e| e.event == AuditEvent::ConsentGiven));
    assert!(events.iter().any(|e| e.event == AuditEvent::ConsentWithdrawn));
}
}

/// A fresh browser logs `username` in at `rp`; the code.
async fn browser_login_code(app: &TestApp, rp: &Rp, username: &str) -> String {
    let login = start_login(rp, &[]);
    app.clock.advance(30);
    app.log_in_at_application(&browser(), &login, username, GOOD)
        .await
}

/// The (unescaped) attribute value that follows `prefix` in a page.
fn attribute_after(html: &str, prefix: &str) -> String {
    let value = html
        .split(prefix)
        .nth(1)
        .expect(prefix)
        .split('"')
        .next()
        .unwrap();
    value
        .replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
}
