//! Mijn account, a new phone (Nieuwe telefoon instellen) and remembered devices (Dit
//! apparaat onthouden): the promises of issue 13 about them, on both stores.

use crate::common::*;
use poortwachter::domain::audit::{AuditEvent, Outcome};
use poortwachter::store::SelfService;
use reqwest::{Client, StatusCode};

const GOOD: &str = "Fiets-Sleutel-2024!";

async fn user_with_codes(app: &TestApp, username: &str) -> String {
    app.active_user("acme", username, GOOD).await;
    app.full_login_with(&browser(), username, GOOD).await;
    app.keys.lock().unwrap()[username].clone()
}

async fn audit_count(app: &TestApp, username: &str, event: AuditEvent, outcome: Outcome) -> usize {
    app.admin
        .audit_log(Some("acme"), Some(username), None, 10_000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event == event && e.outcome == outcome)
        .count()
}

/// Password, AUTHENTICATOR APP and a fresh code, with "Dit apparaat onthouden" ticked or not.
async fn login_with_code(
    app: &TestApp,
    client: &Client,
    username: &str,
    key: &str,
    remember: bool,
) -> reqwest::Response {
    assert_eq!(
        location(&app.login_with(client, username, GOOD).await),
        "/2fa"
    );
    app.choose_app_with(client).await;
    app.clock.advance(30);
    let code = app_code(key, app.clock.now());
    let mut fields = vec![("code", code.as_str())];
    if remember {
        fields.push(("remember", "yes"));
    }
    app.submit_with(client, "/2fa/app", "/2fa/app/verify", &fields)
        .await
}

fn remember_for(days: u8) -> SelfService {
    SelfService {
        remember_device_days: days,
        ..SelfService::default()
    }
}

store_tests! {
async fn the_account_page_gathers_two_step_devices_sessions_and_events() {
    let app = spawn_app().await;
    user_with_codes(&app, "jan").await;
    app.login_with(&browser(), "jan", "Verkeerd-Wachtwoord-1").await;
    app.clock.advance(30);
    app.full_login("jan", GOOD).await;
    let html = app.get("/").await.text().await.unwrap();
    assert!(html.contains("Je bent nu succesvol ingelogd."));
    assert!(html.contains("Mijn account"));
    assert!(html.contains("Aan sinds "), "{html}");
    assert!(html.contains("Je hebt nog 10 ongebruikte herstelcodes."));
    assert!(html.contains("Geen apparaat onthouden."));
    // The user's own events, in plain words, with Dutch local time.
    assert!(html.contains("Verkeerd wachtwoord"));
    assert!(html.contains("Ingelogd"));
    assert!(html.contains("Tweestapsverificatie ingeschakeld"));
    assert!(html.contains(" om "), "Dutch notation: 25 november 2026 om 20:41");
    // Newest first: the wrong password before the activation's "Wachtwoord ingesteld".
    let events = &html[html.find("Recente beveiligingsgebeurtenissen").unwrap()..];
    assert!(events.find("Verkeerd wachtwoord").unwrap() < events.find("Wachtwoord ingesteld").unwrap());
    assert!(!html.contains("UTC"));
    // Nothing of another user's.
    app.active_user("acme", "piet", GOOD).await;
    app.login_with(&browser(), "piet", "Verkeerd-Wachtwoord-2").await;
    let html = app.get("/").await.text().await.unwrap();
    assert_eq!(html.matches("Verkeerd wachtwoord").count(), 1);
}

async fn a_new_phone_takes_over_only_after_its_first_code() {
    let app = spawn_app().await;
    let old_key = user_with_codes(&app, "jan").await;
    // Logged in with a herstelcode (the phone is lost).
    let client = browser();
    app.login_with(&client, "jan", GOOD).await;
    let code = app.take_recovery_code("jan");
    let used = app.submit_with(&client, "/2fa/recovery", "/2fa/recovery", &[("code", &code)]).await;
    assert_eq!(location(&used), "/account/recovery-codes?notice=used");
    let page = app.get_with(&client, &location(&used)).await.text().await.unwrap();
    assert!(page.contains("/account/new-phone"), "Nieuwe telefoon instellen is offered");

    app.mail_settled().await;
    let before = app.smtp.received().len();
    app.clock.advance(61);
    let started = app.submit_with(&client, "/account/new-phone", "/account/new-phone", &[]).await;
    assert_eq!(location(&started), "/account/new-phone?notice=sent");
    let mail = app.setup_mail_after("jan", before).await;
    let new_key = uri_secret(&mail.qr_uri());
    assert_ne!(new_key, old_key);
    // Nieuwe code is rate-limited like the set-up.
    let again = app.submit_with(&client, "/account/new-phone", "/account/new-phone", &[]).await;
    assert_eq!(location(&again), "/account/new-phone?notice=wait");

    // Until confirmed, the old app still logs in.
    app.clock.advance(30);
    let other = browser();
    app.login_with(&other, "jan", GOOD).await;
    app.choose_app_with(&other).await;
    let old_code = app_code(&old_key, app.clock.now());
    assert_eq!(location(&app.send_code_with(&other, &old_code).await), "/");

    // A wrong code, then the new phone's code: it takes over.
    let verify = "/account/new-phone/verify";
    let wrong = app.submit_with(&client, "/account/new-phone", verify, &[("code", &old_code)]).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    app.clock.advance(30);
    let confirmed = app
        .submit_with(&client, "/account/new-phone", verify, &[("code", &app_code(&new_key, app.clock.now()))])
        .await;
    assert_eq!(location(&confirmed), "/?notice=new_phone");
    let notice = app.mail_to("jan", before + 2).await;
    assert_eq!(notice.subject, "Je authenticator app is vervangen");
    assert_eq!(audit_count(&app, "jan", AuditEvent::TotpReplaced, Outcome::Success).await, 1);

    // The old app no longer works; the new one does.
    app.clock.advance(30);
    let third = browser();
    app.login_with(&third, "jan", GOOD).await;
    app.choose_app_with(&third).await;
    let refused = app.send_code_with(&third, &app_code(&old_key, app.clock.now())).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let accepted = app.send_code_with(&third, &app_code(&new_key, app.clock.now())).await;
    assert_eq!(location(&accepted), "/");
}

async fn a_remembered_device_skips_the_code_until_forgotten() {
    let app = spawn_app().await;
    let key = user_with_codes(&app, "jan").await;
    // Off by default: no checkbox, and ticking it anyway remembers nothing.
    let client = browser();
    app.login_with(&client, "jan", GOOD).await;
    let page = app.choose_app_with(&client).await;
    assert!(!page.contains("onthouden"));
    app.admin.set_self_service("acme", remember_for(31)).await.unwrap_err();
    app.admin.set_self_service("acme", remember_for(7)).await.unwrap();

    let laptop = browser();
    app.login_with(&laptop, "jan", GOOD).await;
    let page = app.choose_app_with(&laptop).await;
    assert!(page.contains("Dit apparaat 7 dagen onthouden"), "{page}");
    let done = login_with_code(&app, &laptop, "jan", &key, true).await;
    assert_eq!(location(&done), "/");
    let cookie = set_cookies(done.headers()).into_iter().find(|c| c.starts_with("pw_device=")).unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("Max-Age=604800"), "{cookie}");
    app.submit_with(&laptop, "/", "/logout", &[]).await;

    // The password alone now completes the login on this browser (never without it) …
    let again = app.login_with(&laptop, "jan", GOOD).await;
    assert_eq!(location(&again), "/");
    assert_eq!(audit_count(&app, "jan", AuditEvent::LoginCode, Outcome::Success).await, 3);
    let (status, _) = app.failed_login("jan", "Verkeerd-Wachtwoord-1").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // … not on another browser.
    assert_eq!(location(&app.login_with(&browser(), "jan", GOOD).await), "/2fa");

    // Listed on the account page, and forgotten there.
    let html = app.get_with(&laptop, "/").await.text().await.unwrap();
    assert!(html.contains("onthouden op"), "{html}");
    let device = html.split("name=\"device\" value=\"").nth(1).unwrap()[..64].to_owned();
    let forgot = app.submit_with(&laptop, "/", "/account/devices/forget", &[("device", &device)]).await;
    assert_eq!(location(&forgot), "/?notice=device_forgotten");
    app.submit_with(&laptop, "/", "/logout", &[]).await;
    assert_eq!(location(&app.login_with(&laptop, "jan", GOOD).await), "/2fa");
    assert_eq!(audit_count(&app, "jan", AuditEvent::DeviceForgotten, Outcome::Success).await, 1);
}

async fn overal_uitloggen_and_other_endings_forget_remembered_devices() {
    let app = spawn_app().await;
    let key = user_with_codes(&app, "jan").await;
    app.admin.set_self_service("acme", remember_for(30)).await.unwrap();
    let laptop = browser();
    login_with_code(&app, &laptop, "jan", &key, true).await;
    let everywhere = app.submit_with(&laptop, "/", "/logout/everywhere", &[]).await;
    assert_eq!(location(&everywhere), "/login?notice=logged_out_everywhere");
    assert_eq!(location(&app.login_with(&laptop, "jan", GOOD).await), "/2fa", "after OVERAL UITLOGGEN");

    // Disabling, and the organization switching it off, end it too.
    let phone = browser();
    login_with_code(&app, &phone, "jan", &key, true).await;
    app.submit_with(&phone, "/", "/logout", &[]).await;
    app.admin.set_self_service("acme", remember_for(0)).await.unwrap();
    assert_eq!(location(&app.login_with(&phone, "jan", GOOD).await), "/2fa", "switched off");
    app.admin.set_self_service("acme", remember_for(30)).await.unwrap();
    login_with_code(&app, &phone, "jan", &key, true).await;
    app.admin.set_disabled("acme", "jan", true).await.unwrap();
    app.admin.set_disabled("acme", "jan", false).await.unwrap();
    assert_eq!(location(&app.login_with(&phone, "jan", GOOD).await), "/2fa", "after disabling");
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM remembered_devices")
        .fetch_one(&app.db().await)
        .await
        .unwrap();
    assert_eq!(left, 0);
}
}
