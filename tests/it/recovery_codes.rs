//! Herstelcodes (recovery codes): shown once at the end of the set-up, saved, used once at
//! login instead of the app's code, counted, and made anew. Each promise of issue 13 about
//! them has a test here, on both stores.

use crate::common::recovery::codes_on;
use crate::common::*;
use poortwachter::domain::audit::{AuditEvent, Outcome};
use reqwest::{Client, StatusCode};

const GOOD: &str = "Fiets-Sleutel-2024!";

/// An active user who set up the app and saved the herstelcodes; logged out again.
async fn user_with_codes(app: &TestApp, username: &str) -> String {
    app.active_user("acme", username, GOOD).await;
    app.full_login_with(&browser(), username, GOOD).await;
    app.keys.lock().unwrap()[username].clone()
}

/// A fresh browser past the password step, on the herstelcode page.
async fn at_recovery_page(app: &TestApp, username: &str) -> Client {
    let client = browser();
    let response = app.login_with(&client, username, GOOD).await;
    assert_eq!(location(&response), "/2fa");
    client
}

async fn send_recovery_code(app: &TestApp, client: &Client, code: &str) -> reqwest::Response {
    app.submit_with(client, "/2fa/recovery", "/2fa/recovery", &[("code", code)])
        .await
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

store_tests! {
async fn the_set_up_ends_with_ten_codes_that_are_shown_until_saved() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    let client = browser();
    app.login_with(&client, "jan", GOOD).await;
    app.choose_app_with(&client).await;
    let mail = app.setup_mail_after("jan", 1).await;
    let key = uri_secret(&mail.qr_uri());
    let done = app
        .send_code_with(&client, &app_code(&key, app.clock.now()))
        .await;
    assert_eq!(location(&done), "/account/recovery-codes");

    let html = app.get_with(&client, "/account/recovery-codes").await.text().await.unwrap();
    let codes = codes_on(&html);
    assert_eq!(codes.len(), 10);
    for code in &codes {
        // 20 digits in groups of four: 66 bits each (ASVS 2.6.2).
        assert_eq!(code.len(), 24, "{code}");
        assert!(code.split('-').all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_digit())));
    }
    assert!(html.contains("Downloaden (.txt)") && html.contains("Afdrukken"));

    // The download and the print version carry the same codes.
    let file = app.get_with(&client, "/account/recovery-codes.txt").await;
    assert_eq!(file.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(
        file.headers()["content-disposition"],
        "attachment; filename=\"herstelcodes.txt\""
    );
    let text = file.text().await.unwrap();
    assert!(codes.iter().all(|c| text.contains(c.as_str())), "{text}");
    let print = app.get_with(&client, "/account/recovery-codes/print").await.text().await.unwrap();
    assert_eq!(codes_on(&print), codes);

    // Not confirmed: shown again, with the reason.
    let unconfirmed = app
        .post_with(&client, "/account/recovery-codes/saved", &csrf_of(&html), &[])
        .await;
    assert_eq!(unconfirmed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let again = unconfirmed.text().await.unwrap();
    assert!(again.contains("Vink eerst aan"));
    assert_eq!(codes_on(&again), codes);

    // Confirmed: on to the account, and the codes are nowhere readable any more.
    let saved = app
        .post_with(&client, "/account/recovery-codes/saved", &csrf_of(&html), &[("saved", "yes")])
        .await;
    assert_eq!(location(&saved), "/");
    let after = app.get_with(&client, "/account/recovery-codes").await.text().await.unwrap();
    assert!(codes_on(&after).is_empty());
    assert!(after.contains("Je hebt nog 10 ongebruikte herstelcodes."), "{after}");
    let file = app.get_with(&client, "/account/recovery-codes.txt").await;
    assert_eq!(location(&file), "/account/recovery-codes");
    let db = app.db().await;
    let reveals: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM recovery_code_reveals")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(reveals, 0);
    // Stored as digests: no code's digits are in the database.
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT code_hash FROM recovery_codes")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 10);
    for code in &codes {
        let digits = code.replace('-', "");
        assert!(stored.iter().all(|h| h.len() == 32 && !h.windows(20).any(|w| w == digits.as_bytes())));
    }
    assert_eq!(audit_count(&app, "jan", AuditEvent::RecoveryCodesCreated, Outcome::Success).await, 1);
}

async fn leaving_the_codes_page_keeps_the_way_back_and_every_login_asks_again_until_saved() {
    use crate::common::oidc::{callback, start_login};
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    let (id, secret) = app.verzuimcoach().await;
    let metadata = app.discover().await;
    let rp = app.rp(&metadata, &id, secret.as_deref());

    // The set-up, started at the application, ends on the herstelcodes page...
    let client = browser();
    let login = start_login(&rp, &[]);
    assert!(location(&app.visit(&client, login.url.as_str()).await).starts_with("/login"));
    app.login_with(&client, "jan", GOOD).await;
    app.choose_app_with(&client).await;
    let key = uri_secret(&app.setup_mail_after("jan", 1).await.qr_uri());
    let done = app.send_code_with(&client, &app_code(&key, app.clock.now())).await;
    assert_eq!(location(&done), "/account/recovery-codes");
    let first = codes_on(&app.get_with(&client, "/account/recovery-codes").await.text().await.unwrap());

    // ...which the user leaves without VERDER: Mijn account says the codes are not saved and
    // still leads back to the application.
    let home = app.get_with(&client, "/").await.text().await.unwrap();
    assert!(home.contains("Je hebt je herstelcodes nog niet bewaard."), "{home}");
    let back = home
        .split("href=\"")
        .find(|part| part.starts_with("/authorize?"))
        .and_then(|part| part.split('"').next())
        .expect("a way back to the application")
        .replace("&#38;", "&");
    assert!(home.contains(">Verder naar Verzuimcoach</a>"), "{home}");
    let params = callback(&location(&app.visit(&client, &back).await));
    assert_eq!(params["state"], *login.state.secret());
    assert!(params.contains_key("code"));

    // A later login (again from the application) asks for the same unsaved set, and its VERDER
    // goes on to the application.
    app.clock.advance(30);
    let later = browser();
    let login = start_login(&rp, &[]);
    app.visit(&later, login.url.as_str()).await;
    app.login_with(&later, "jan", GOOD).await;
    app.choose_app_with(&later).await;
    let passed = app.send_code_with(&later, &app_code(&key, app.clock.now())).await;
    assert_eq!(location(&passed), "/account/recovery-codes", "asked again");
    app.keys.lock().unwrap().insert("jan".into(), key.clone());
    let next = app.save_recovery_codes_with(&later, "jan").await;
    assert_eq!(app.recovery_codes.lock().unwrap()["jan"], first, "the same set");
    assert!(next.starts_with("/authorize?"), "{next}");
    let params = callback(&location(&app.visit(&later, &next).await));
    assert_eq!(params["state"], *login.state.secret());

    // Saved: the next login goes straight on, and Mijn account no longer asks.
    app.clock.advance(30);
    let last = browser();
    assert_eq!(app.full_login_with(&last, "jan", GOOD).await, "/");
    let home = app.get_with(&last, "/").await.text().await.unwrap();
    assert!(!home.contains("nog niet bewaard") && !home.contains("Verder naar"), "{home}");
}

async fn a_herstelcode_logs_in_once_and_says_how_many_are_left() {
    let app = spawn_app().await;
    user_with_codes(&app, "jan").await;
    let client = at_recovery_page(&app, "jan").await;
    let code_page = app.choose_app_with(&client).await;
    assert!(code_page.contains("Geen toegang tot je app? Gebruik een herstelcode"));

    let code = app.take_recovery_code("jan");
    let used = send_recovery_code(&app, &client, &code).await;
    assert_eq!(location(&used), "/account/recovery-codes?notice=used");
    let page = app.get_with(&client, &location(&used)).await.text().await.unwrap();
    assert!(page.contains("Je hebt nog 9 ongebruikte herstelcodes."), "{page}");
    assert_eq!(app.get_with(&client, "/").await.status(), StatusCode::OK, "logged in");
    assert_eq!(audit_count(&app, "jan", AuditEvent::RecoveryCodeUsed, Outcome::Success).await, 1);

    // The same code again (also without its dashes): refused.
    let other = at_recovery_page(&app, "jan").await;
    let replay = send_recovery_code(&app, &other, &code.replace('-', "")).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    assert!(replay.text().await.unwrap().contains("klopt niet of is al gebruikt"));
    assert_eq!(location(&app.get_with(&other, "/").await), "/login");
}

async fn the_same_herstelcode_in_parallel_logs_in_once() {
    let app = spawn_app().await;
    user_with_codes(&app, "jan").await;
    let code = app.take_recovery_code("jan");
    let mut browsers = Vec::new();
    for _ in 0..6 {
        let client = at_recovery_page(&app, "jan").await;
        let html = app.get_with(&client, "/2fa/recovery").await.text().await.unwrap();
        browsers.push((client, csrf_of(&html)));
    }
    let fields = [("code", code.as_str())];
    let answers = futures::future::join_all(
        browsers
            .iter()
            .map(|(client, csrf)| app.post_with(client, "/2fa/recovery", csrf, &fields)),
    )
    .await;
    let accepted = answers.iter().filter(|r| r.status() == StatusCode::SEE_OTHER).count();
    assert_eq!(accepted, 1, "exactly one of six parallel uses");
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE used_at IS NULL")
        .fetch_one(&app.db().await)
        .await
        .unwrap();
    assert_eq!(left, 9);
}

async fn wrong_herstelcodes_count_like_wrong_codes() {
    let app = spawn_app().await;
    user_with_codes(&app, "jan").await;
    let client = at_recovery_page(&app, "jan").await;
    for _ in 0..4 {
        let wrong = send_recovery_code(&app, &client, "1111-2222-3333-4444-5555").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    let fifth = send_recovery_code(&app, &client, "not a code").await;
    assert_eq!(location(&fifth), "/login?notice=too_many_codes");
    assert_eq!(audit_count(&app, "jan", AuditEvent::RecoveryCodeUsed, Outcome::Failure).await, 5);
    // Counted for the account, as wrong app codes are.
    let failures: i64 = sqlx::query_scalar("SELECT failures FROM throttle WHERE subject = 'account:jan'")
        .fetch_one(&app.db().await)
        .await
        .unwrap();
    assert_eq!(failures, 5);
}

async fn few_codes_left_brings_a_banner_and_an_email() {
    let app = spawn_app().await;
    user_with_codes(&app, "jan").await;
    for used in 1..=8 {
        let client = at_recovery_page(&app, "jan").await;
        app.mail_settled().await;
        let before = app.smtp.received().len();
        let response = send_recovery_code(&app, &client, &app.take_recovery_code("jan")).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "use {used}");
        let page = app.get_with(&client, "/account/recovery-codes").await.text().await.unwrap();
        if used < 8 {
            assert!(!page.contains("nog maar"), "no banner with {} left", 10 - used);
            continue;
        }
        assert!(page.contains("Je hebt nog maar 2 herstelcodes."), "{page}");
        let mail = app.mail_to("jan", before + 1).await;
        assert_eq!(mail.subject, "Je hebt bijna geen herstelcodes meer");
        assert!(mail.text.contains("er zijn er nu nog 2 over"), "{}", mail.text);
    }
}

async fn new_codes_need_the_apps_code_and_end_the_old_set() {
    let app = spawn_app().await;
    let key = user_with_codes(&app, "jan").await;
    let old = app.take_recovery_code("jan");
    app.clock.advance(30);
    app.full_login("jan", GOOD).await;
    let wrong = app
        .submit("/account/recovery-codes", "/account/recovery-codes/new", &[("code", "000000")])
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    app.clock.advance(30);
    let code = app_code(&key, app.clock.now());
    let made = app
        .submit("/account/recovery-codes", "/account/recovery-codes/new", &[("code", &code)])
        .await;
    assert_eq!(location(&made), "/account/recovery-codes");
    let html = app.get("/account/recovery-codes").await.text().await.unwrap();
    let fresh = codes_on(&html);
    assert_eq!(fresh.len(), 10);
    assert!(!fresh.contains(&old));
    // The app's code used to confirm cannot be used again for a login.
    let client = at_recovery_page(&app, "jan").await;
    app.choose_app_with(&client).await;
    assert_eq!(app.send_code_with(&client, &code).await.status(), StatusCode::UNAUTHORIZED);
    // The old set is gone.
    let refused = send_recovery_code(&app, &client, &old).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let accepted = send_recovery_code(&app, &client, &fresh[0]).await;
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
    assert_eq!(audit_count(&app, "jan", AuditEvent::RecoveryCodesCreated, Outcome::Success).await, 2);
}

async fn codes_need_an_active_app_and_go_with_a_reset_of_it() {
    let app = spawn_app().await;
    // During the first set-up there is no app to replace: the code page sends back.
    app.active_user("acme", "piet", GOOD).await;
    let client = at_recovery_page(&app, "piet").await;
    assert_eq!(location(&app.get_with(&client, "/2fa/recovery").await), "/2fa");

    user_with_codes(&app, "jan").await;
    assert!(app.admin.reset_two_step("acme", "jan", None).await.unwrap());
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes")
        .fetch_one(&app.db().await)
        .await
        .unwrap();
    assert_eq!(left, 0, "the administrator's reset removed the codes");
}

async fn a_phone_clock_minutes_off_is_named_not_called_wrong() {
    let app = spawn_app().await;
    let key = user_with_codes(&app, "jan").await;
    app.clock.advance(30);
    let client = at_recovery_page(&app, "jan").await;
    app.choose_app_with(&client).await;
    let ahead = app_code(&key, app.clock.now() + 150);
    let response = app.send_code_with(&client, &ahead).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let html = response.text().await.unwrap();
    assert!(html.contains("de klok van je telefoon loopt voor"), "{html}");
    assert!(html.contains("Automatisch instellen"));
    let behind = app_code(&key, app.clock.now() - 240);
    let html = app.send_code_with(&client, &behind).await.text().await.unwrap();
    assert!(html.contains("4 minuten eerder dan nu: de klok van je telefoon loopt achter"), "{html}");
}
}
