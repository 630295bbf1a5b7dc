//! Passkeys (issue 15): adding one, PASSKEY as the second step, "Inloggen met een passkey",
//! an organization that requires them, and every refusal the issue names, with an
//! independent software authenticator (tests/common/passkey.rs), on both stores.

use crate::common::oidc::{callback, start_login};
use crate::common::passkey::{Device, ceremony_of};
use crate::common::*;
use poortwachter::domain::audit::{AuditEvent, Outcome};
use poortwachter::domain::lang::Lang;
use poortwachter::domain::password::PasswordPolicy;
use reqwest::{Client, StatusCode};

const GOOD: &str = "Fiets-Sleutel-2024!";

/// An active user who set up the app, logged in; the browser they are logged in with.
async fn logged_in(app: &TestApp, org: &str, username: &str) -> Client {
    app.active_user(org, username, GOOD).await;
    let client = browser();
    app.full_login_with(&client, username, GOOD).await;
    client
}

/// "Passkey toevoegen" with `device`, named `name`: the answer to the page's ceremony.
async fn add_passkey(
    app: &TestApp,
    client: &Client,
    device: &mut Device,
    name: &str,
) -> reqwest::Response {
    let html = app
        .get_with(client, "/account/passkeys")
        .await
        .text()
        .await
        .unwrap();
    let (ceremony, options) = ceremony_of(&html);
    let response = device.create(&options).await;
    app.post_with(
        client,
        "/account/passkeys",
        &csrf_of(&html),
        &[
            ("ceremony", &ceremony),
            ("response", &response),
            ("name", name),
        ],
    )
    .await
}

/// The answer to the passkey page at `page` (second step or passkey login), posted there.
async fn answer(
    app: &TestApp,
    client: &Client,
    device: &mut Device,
    page: &str,
) -> reqwest::Response {
    answer_as(app, client, device, page, false).await
}

/// As [`answer`], with a device that signs whatever the page allowed (an attacker's client).
async fn answer_with_any(
    app: &TestApp,
    client: &Client,
    device: &mut Device,
    page: &str,
) -> reqwest::Response {
    answer_as(app, client, device, page, true).await
}

async fn answer_as(
    app: &TestApp,
    client: &Client,
    device: &mut Device,
    page: &str,
    any: bool,
) -> reqwest::Response {
    let html = app.get_with(client, page).await.text().await.unwrap();
    let (ceremony, options) = ceremony_of(&html);
    let response = if any {
        device.get_any(&options).await
    } else {
        device.get(&options).await
    };
    app.post_with(
        client,
        page,
        &csrf_of(&html),
        &[("ceremony", &ceremony), ("response", &response)],
    )
    .await
}

/// A fresh browser past the password step.
async fn after_password(app: &TestApp, username: &str) -> Client {
    let client = browser();
    let response = app.login_with(&client, username, GOOD).await;
    assert_eq!(location(&response), "/2fa");
    client
}

async fn audit(
    app: &TestApp,
    username: Option<&str>,
    event: AuditEvent,
) -> Vec<(Outcome, Option<String>)> {
    app.admin
        .audit_log(username.map(|_| "acme"), username, None, 10_000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event == event)
        .map(|e| (e.outcome, e.detail.clone()))
        .collect()
}

/// A user with one passkey on `device`, logged out.
async fn user_with_passkey(app: &TestApp, org: &str, username: &str) -> Device {
    let client = logged_in(app, org, username).await;
    let mut device = Device::new();
    let added = add_passkey(app, &client, &mut device, "Laptop werk").await;
    assert_eq!(location(&added), "/account/passkeys?notice=added");
    device
}

store_tests! {
async fn a_flood_of_passkey_login_pages_stops_before_the_database() {
    // Each visit of "Inloggen met een passkey" stores a ceremony, for anyone who asks: one
    // address gets a budget per minute, then a 503 that stores nothing.
    let app = spawn_app().await;
    let mut answered = Vec::new();
    for _ in 0..25 {
        answered.push(app.get("/login/passkey").await.status());
    }
    assert!(answered[..20].iter().all(|s| *s == StatusCode::OK), "{answered:?}");
    assert!(answered[20..].iter().all(|s| *s == StatusCode::SERVICE_UNAVAILABLE), "{answered:?}");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM passkey_ceremonies")
        .fetch_one(&app.db().await)
        .await
        .unwrap();
    assert_eq!(stored, 20);
    app.clock.advance(60);
    assert_eq!(app.get("/login/passkey").await.status(), StatusCode::OK, "a new minute");
}

async fn a_passkey_is_added_listed_noticed_and_audited() {
    let app = spawn_app().await;
    let client = logged_in(&app, "acme", "jan").await;
    let home = app.get_with(&client, "/").await.text().await.unwrap();
    assert!(home.contains("Nog geen passkey."));
    let page = app.get_with(&client, "/account/passkeys").await;
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"));
    let html = page.text().await.unwrap();
    assert!(html.contains("<noscript>"), "says what to do without JavaScript");
    assert!(html.contains(r#"<script src="/static/passkey.js"></script>"#));
    // Other pages stay without script.
    let home_csp = app.get_with(&client, "/").await.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(!home_csp.contains("script-src"), "{home_csp}");

    let mut device = Device::new();
    let nameless = add_passkey(&app, &client, &mut device, "  ").await;
    assert_eq!(nameless.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let added = add_passkey(&app, &client, &mut device, "Laptop werk").await;
    if added.status() != StatusCode::SEE_OTHER {
        let status = added.status();
        let body = added.text().await.unwrap();
        let error = body.split("role=\"alert\"").nth(1).unwrap_or("").chars().take(200).collect::<String>();
        panic!("{status}: {error}");
    }
    assert_eq!(location(&added), "/account/passkeys?notice=added");
    let list = app.get_with(&client, "/account/passkeys").await.text().await.unwrap();
    assert!(list.contains("Laptop werk, toegevoegd op"), "{list}");
    assert!(list.contains("nog niet gebruikt"));
    let subjects = app.subjects_to("jan").await;
    assert_eq!(subjects.last().unwrap(), "Er is een passkey toegevoegd aan je account");
    assert_eq!(
        audit(&app, Some("jan"), AuditEvent::PasskeyAdded).await,
        [(Outcome::Success, Some("Laptop werk".into()))]
    );
    // The same authenticator again: the page tells the browser to exclude it.
    let html = app.get_with(&client, "/account/passkeys").await.text().await.unwrap();
    let (_, options) = ceremony_of(&html);
    let options: serde_json::Value = serde_json::from_str(&options).unwrap();
    assert_eq!(options["publicKey"]["excludeCredentials"].as_array().unwrap().len(), 1);
}

async fn passkey_as_the_second_step_beside_the_app() {
    let app = spawn_app().await;
    let mut device = user_with_passkey(&app, "acme", "jan").await;
    let client = after_password(&app, "jan").await;
    let choice = app.get_with(&client, "/2fa").await.text().await.unwrap();
    assert!(choice.contains("AUTHENTICATOR APP") && choice.contains("PASSKEY"), "{choice}");
    let chosen = app.submit_with(&client, "/2fa", "/2fa/passkey/choose", &[]).await;
    assert_eq!(location(&chosen), "/2fa/passkey");
    let done = answer(&app, &client, &mut device, "/2fa/passkey").await;
    assert_eq!(location(&done), "/");
    let home = app.get_with(&client, "/").await.text().await.unwrap();
    assert!(home.contains("Passkeys: 1."), "logged in");
    let list = app.get_with(&client, "/account/passkeys").await.text().await.unwrap();
    assert!(list.contains("laatst gebruikt op"));
    assert_eq!(
        audit(&app, Some("jan"), AuditEvent::LoginPasskey).await,
        [(Outcome::Success, Some("second_step".into()))]
    );
    // The app still works for this user.
    app.full_login_with(&browser(), "jan", GOOD).await;
}

async fn passkey_login_in_one_step_where_the_organization_allows_it() {
    let app = spawn_app().await;
    let mut device = user_with_passkey(&app, "acme", "jan").await;
    let login = app.get("/login").await.text().await.unwrap();
    assert!(login.contains(r#"<a href="/login/passkey">Inloggen met een passkey</a>"#));
    let client = browser();
    let done = answer(&app, &client, &mut device, "/login/passkey").await;
    assert_eq!(location(&done), "/");
    let home = app.get_with(&client, "/").await.text().await.unwrap();
    assert!(home.contains("(jan)"), "logged in as jan");
    assert_eq!(
        audit(&app, Some("jan"), AuditEvent::LoginPasskey).await,
        [(Outcome::Success, Some("login".into()))]
    );

    app.admin.set_passkey_policy("acme", Some(false), None, None).await.unwrap();
    let refused = answer(&app, &browser(), &mut device, "/login/passkey").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("staat inloggen met alleen een passkey niet toe"));
}

async fn a_challenge_is_used_once_and_within_five_minutes() {
    let app = spawn_app().await;
    let mut device = user_with_passkey(&app, "acme", "jan").await;
    let client = browser();
    let html = app.get_with(&client, "/login/passkey").await.text().await.unwrap();
    let (ceremony, options) = ceremony_of(&html);
    let response = device.get(&options).await;
    let fields = [("ceremony", ceremony.as_str()), ("response", response.as_str())];
    let first = app.post_with(&client, "/login/passkey", &csrf_of(&html), &fields).await;
    assert_eq!(location(&first), "/");
    // The same answer again (a replay, from another browser): its challenge is gone.
    let thief = browser();
    let page = app.get_with(&thief, "/login/passkey").await.text().await.unwrap();
    let replayed = app.post_with(&thief, "/login/passkey", &csrf_of(&page), &fields).await;
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);

    // Answered after its five minutes.
    let client = browser();
    let html = app.get_with(&client, "/login/passkey").await.text().await.unwrap();
    let (ceremony, options) = ceremony_of(&html);
    let response = device.get(&options).await;
    app.clock.advance(5 * 60 + 1);
    let late = app
        .post_with(&client, "/login/passkey", &csrf_of(&html), &[("ceremony", &ceremony), ("response", &response)])
        .await;
    assert_eq!(late.status(), StatusCode::BAD_REQUEST);
    let outcomes: Vec<Outcome> = audit(&app, None, AuditEvent::LoginPasskey).await.into_iter().map(|(o, _)| o).collect();
    assert!(outcomes.contains(&Outcome::Replayed) && outcomes.contains(&Outcome::Expired), "{outcomes:?}");
}

async fn another_users_challenge_or_credential_is_refused() {
    let app = spawn_app().await;
    let mut jans = user_with_passkey(&app, "acme", "jan").await;
    let mut pieters = user_with_passkey(&app, "acme", "pieter").await;
    app.create_org("globex", Lang::Nl, PasswordPolicy::default()).await;
    let mut annes = user_with_passkey(&app, "globex", "anne").await;

    // Jan's own challenge answered by Pieter's passkey: not Jan's credential.
    let jan = after_password(&app, "jan").await;
    let refused = answer_with_any(&app, &jan, &mut pieters, "/2fa/passkey").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    // … nor a passkey of another organization's user.
    let refused = answer_with_any(&app, &jan, &mut annes, "/2fa/passkey").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let details: Vec<Option<String>> = audit(&app, Some("jan"), AuditEvent::LoginPasskey).await.into_iter().map(|(_, d)| d).collect();
    assert_eq!(details, [Some("unknown_credential".into()), Some("unknown_credential".into())]);

    // Pieter's challenge (from his page) answered with his passkey, posted in Jan's session.
    let pieter = after_password(&app, "pieter").await;
    let html = app.get_with(&pieter, "/2fa/passkey").await.text().await.unwrap();
    let (ceremony, options) = ceremony_of(&html);
    let response = pieters.get(&options).await;
    let jan_page = app.get_with(&jan, "/2fa/passkey").await.text().await.unwrap();
    let crossed = app
        .post_with(&jan, "/2fa/passkey", &csrf_of(&jan_page), &[("ceremony", &ceremony), ("response", &response)])
        .await;
    assert_eq!(crossed.status(), StatusCode::BAD_REQUEST);
    assert!(audit(&app, Some("jan"), AuditEvent::LoginPasskey).await.contains(&(Outcome::Failure, Some("other_user".into()))));
    // Jan is still only half logged in; his own passkey works.
    assert_eq!(location(&answer(&app, &jan, &mut jans, "/2fa/passkey").await), "/");
}

async fn a_cloned_authenticator_is_refused_and_audited() {
    let app = spawn_app().await;
    let mut device = user_with_passkey(&app, "acme", "jan").await;
    let copy = device.snapshot();
    for _ in 0..2 {
        assert_eq!(location(&answer(&app, &browser(), &mut device, "/login/passkey").await), "/");
    }
    // The copy's counter is behind the one stored: the same key in two places.
    device.restore(copy);
    let refused = answer(&app, &browser(), &mut device, "/login/passkey").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(
        audit(&app, Some("jan"), AuditEvent::LoginPasskey).await.contains(&(Outcome::Failure, Some("counter_went_back".into())))
    );
}

async fn removal_asks_again_and_keeps_the_last_required_passkey() {
    let app = spawn_app().await;
    let client = logged_in(&app, "acme", "jan").await;
    let mut device = Device::new();
    add_passkey(&app, &client, &mut device, "Laptop werk").await;
    let html = app.get_with(&client, "/account/passkeys").await.text().await.unwrap();
    let id = html.split("name=\"id\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let remove = |confirm: &'static str| {
        let (app, client, id) = (&app, &client, id.clone());
        async move {
            app.submit_with(client, "/account/passkeys", "/account/passkeys/remove", &[("id", &id), ("confirm", confirm)]).await
        }
    };
    assert_eq!(remove("verkeerd-wachtwoord").await.status(), StatusCode::UNAUTHORIZED);

    // Where the organization requires passkeys, the last one stays.
    app.admin.set_passkey_policy("acme", None, Some(true), Some(0)).await.unwrap();
    let kept = remove(GOOD).await;
    assert_eq!(kept.status(), StatusCode::CONFLICT);
    assert!(kept.text().await.unwrap().contains("Je organisatie vereist een passkey"));
    app.admin.set_passkey_policy("acme", None, Some(false), None).await.unwrap();

    let removed = remove(GOOD).await;
    assert_eq!(location(&removed), "/account/passkeys?notice=removed");
    let list = app.get_with(&client, "/account/passkeys").await.text().await.unwrap();
    assert!(!list.contains("Laptop werk, toegevoegd"));
    let subjects = app.subjects_to("jan").await;
    assert_eq!(subjects.last().unwrap(), "Er is een passkey verwijderd van je account");
    assert_eq!(audit(&app, Some("jan"), AuditEvent::PasskeyRemoved).await, [(Outcome::Success, Some("Laptop werk".into()))]);
}

async fn a_required_passkey_is_added_at_the_next_login_and_then_only_it_passes() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    app.full_login_with(&browser(), "jan", GOOD).await;
    // Announced: a grace period of 14 days, shown after login.
    app.admin.set_passkey_policy("acme", None, Some(true), None).await.unwrap();
    let client = browser();
    app.full_login_with(&client, "jan", GOOD).await;
    let home = app.get_with(&client, "/").await.text().await.unwrap();
    assert!(home.contains("Je organisatie vraagt je vóór"), "grace notice");

    // The grace period over: the app's code leads only to adding a passkey.
    app.clock.advance(15 * 24 * 60 * 60);
    let client = after_password(&app, "jan").await;
    app.choose_app_with(&client).await;
    let key = app.keys.lock().unwrap()["jan"].clone();
    let coded = app.send_code_with(&client, &app_code(&key, app.clock.now())).await;
    assert_eq!(location(&coded), "/account/passkeys");
    assert_eq!(location(&app.get_with(&client, "/").await), "/login", "not logged in yet");
    assert_eq!(location(&app.get_with(&client, "/login").await), "/account/passkeys");
    let mut device = Device::new();
    let added = add_passkey(&app, &client, &mut device, "Telefoon").await;
    assert_eq!(location(&added), "/", "the login completes");
    assert_eq!(app.get_with(&client, "/").await.status(), StatusCode::OK);

    // From now on only the passkey: no AUTHENTICATOR APP, the app's code refused.
    let client = after_password(&app, "jan").await;
    let choice = app.get_with(&client, "/2fa").await.text().await.unwrap();
    assert!(choice.contains("PASSKEY") && !choice.contains("AUTHENTICATOR APP"), "{choice}");
    app.clock.advance(30);
    let code = app_code(&key, app.clock.now());
    let refused = app.submit_with(&client, "/2fa", "/2fa/app/verify", &[("code", code.as_str())]).await;
    assert_eq!(location(&refused), "/2fa");
    assert_eq!(location(&answer(&app, &client, &mut device, "/2fa/passkey").await), "/");
}

async fn the_id_token_says_a_passkey_was_used() {
    use openidconnect::TokenResponse;
    let app = spawn_app().await;
    let mut device = user_with_passkey(&app, "acme", "jan").await;
    let (id, secret) = app.verzuimcoach().await;
    let metadata = app.discover().await;
    let supported: Vec<String> = metadata
        .acr_values_supported()
        .unwrap()
        .iter()
        .map(|a| a.as_str().to_owned())
        .collect();
    assert_eq!(supported, ["phr", "https://refeds.org/profile/mfa", "https://refeds.org/profile/sfa"]);
    let rp = app.rp(&metadata, &id, secret.as_deref());
    let login = start_login(&rp, &["profile"]);
    let client = browser();
    let to_login = app.visit(&client, login.url.as_str()).await;
    assert!(location(&to_login).starts_with("/login"));
    // "Inloggen met een passkey", and back to the application's authorization.
    let done = answer(&app, &client, &mut device, "/login/passkey").await;
    let next = location(&done);
    assert!(next.starts_with("/authorize?"), "{next}");
    let back = app.visit(&client, &next).await;
    let code = callback(&location(&back))["code"].clone();
    let tokens = app.exchange(&rp, &code, login.verifier).await;
    let verifier = rp.id_token_verifier().set_time_fn({
        let clock = app.clock.clone();
        move || chrono::DateTime::from_timestamp(clock.now(), 0).unwrap()
    });
    let claims = tokens.id_token().unwrap().claims(&verifier, &login.nonce).unwrap();
    let amr: Vec<&str> = claims.auth_method_refs().unwrap().iter().map(|a| a.as_str()).collect();
    // passkey-authenticator marks its passkeys backup-eligible (synced): a software key.
    assert_eq!(amr, ["swk", "pop", "user", "mfa"]);
    assert_eq!(claims.auth_context_ref().unwrap().as_str(), "phr");
}
}
