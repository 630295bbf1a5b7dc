//! Two-step verification with an authenticator app: the rules of issue 3, each with a test
//! that fails if it breaks. Codes are made from the e-mailed key by totp-lite, a TOTP
//! implementation independent of the service's own.

use std::time::Duration;

use crate::common::*;
use reqwest::{Client, StatusCode};

const GOOD: &str = "Fiets-Sleutel-2024!";

/// An active user whose app is set up (first login done) and who is logged out again.
async fn user_with_app(app: &TestApp, username: &str) -> String {
    app.active_user("acme", username, GOOD).await;
    let client = browser();
    app.full_login_with(&client, username, GOOD).await;
    // Invitation, set-up mail, and the notice that two-step verification is on.
    let notice = app.mail_to(username, 3).await;
    assert_eq!(notice.subject, "Tweestapsverificatie is ingeschakeld");
    app.keys.lock().unwrap()[username].clone()
}

/// A new active user at the first login: password, AUTHENTICATOR APP, set-up mail sent.
async fn begin_setup(app: &TestApp, username: &str) -> Client {
    app.active_user("acme", username, GOOD).await;
    let client = browser();
    app.login_with(&client, username, GOOD).await;
    app.choose_app_with(&client).await;
    client
}

/// Presses Nieuwe code and returns the page it leads to.
async fn press_new_code(app: &TestApp, client: &Client) -> String {
    let response = app
        .submit_with(client, "/2fa/app", "/2fa/app/new", &[])
        .await;
    let page = app.get_with(client, &location(&response)).await;
    page.text().await.unwrap()
}

/// Password step and AUTHENTICATOR APP for a fresh browser: ready to type a code.
async fn at_code_page(app: &TestApp, username: &str) -> Client {
    let client = browser();
    let response = app.login_with(&client, username, GOOD).await;
    assert_eq!(location(&response), "/2fa");
    app.choose_app_with(&client).await;
    client
}

async fn code_answer(app: &TestApp, client: &Client, code: &str) -> (StatusCode, String) {
    let response = app.send_code_with(client, code).await;
    let status = response.status();
    let target = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    let body = response.text().await.unwrap();
    (status, target.unwrap_or(body))
}

store_tests! {
async fn a_code_is_accepted_once_replays_are_refused() {
    let app = spawn_app().await;
    let key = user_with_app(&app, "jan").await;
    app.clock.advance(30);
    let code = app_code(&key, app.clock.now());

    let first = at_code_page(&app, "jan").await;
    assert_eq!(
        code_answer(&app, &first, &code).await,
        (StatusCode::SEE_OTHER, "/".into())
    );
    let second = at_code_page(&app, "jan").await;
    let (status, html) = code_answer(&app, &second, &code).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("Deze code is al gebruikt"), "{html}");
    // The previous period's code is older than the accepted step: refused as well.
    let older = app_code(&key, app.clock.now() - 30);
    let (status, _) = code_answer(&app, &second, &older).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn the_same_code_in_parallel_logs_in_one_session_only() {
    let app = spawn_app().await;
    let key = user_with_app(&app, "jan").await;
    app.clock.advance(30);
    let code = app_code(&key, app.clock.now());
    let mut browsers = Vec::new();
    for _ in 0..8 {
        browsers.push(at_code_page(&app, "jan").await);
    }
    let answers = futures::future::join_all(
        browsers
            .iter()
            .map(|client| app.send_code_with(client, &code)),
    )
    .await;
    let accepted = answers
        .iter()
        .filter(|r| r.status() == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(accepted, 1, "exactly one of eight parallel uses");
}

async fn one_period_back_and_ahead_are_accepted_two_are_not() {
    let app = spawn_app().await;
    let key = user_with_app(&app, "jan").await;
    // Each check in a fresh period, so the replay rule does not interfere.
    for offset in [-30, 30] {
        app.clock.advance(120);
        let client = at_code_page(&app, "jan").await;
        let code = app_code(&key, app.clock.now() + offset);
        assert_eq!(
            code_answer(&app, &client, &code).await.0,
            StatusCode::SEE_OTHER,
            "offset {offset}"
        );
    }
    app.clock.advance(120);
    let client = at_code_page(&app, "jan").await;
    let ahead = app_code(&key, app.clock.now() + 60);
    let (status, html) = code_answer(&app, &client, &ahead).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Refused; the answer names the phone's clock, a minute ahead.
    assert!(html.contains("de klok van je telefoon loopt voor"), "{html}");
    // Exactly the previous-but-one period: the app's timer just rolled over.
    let behind = app_code(&key, app.clock.now() - 60);
    let (status, html) = code_answer(&app, &client, &behind).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        html.contains("Deze code is net verlopen. Wacht op de volgende code"),
        "{html}"
    );
}

async fn nieuwe_code_replaces_the_secret_and_is_rate_limited() {
    let app = spawn_app().await;
    let client = begin_setup(&app, "jan").await;
    let first = app.setup_mail_after("jan", 1).await;
    let old_key = first.text_key();

    // Within the minute: refused, with when it can be used again.
    let page = press_new_code(&app, &client).await;
    assert!(
        page.contains("Je kunt over 60 seconden weer een nieuwe code aanvragen."),
        "{page}"
    );

    app.clock.advance(61);
    let page = press_new_code(&app, &client).await;
    assert!(page.contains("We hebben een nieuwe e-mail gestuurd"));
    let second = app.setup_mail_after("jan", 2).await;
    let new_key = second.text_key();
    assert_ne!(old_key, new_key);

    let (status, _) = code_answer(&app, &client, &app_code(&old_key, app.clock.now())).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old secret stopped working"
    );
    let (status, target) = code_answer(&app, &client, &app_code(&new_key, app.clock.now())).await;
    assert_eq!(
        (status, target.as_str()),
        (StatusCode::SEE_OTHER, "/account/recovery-codes")
    );
}

/// The wait shown after "Nieuwe code" is worked out on the server: a link cannot choose it.
async fn the_waiting_time_comes_from_the_server_not_the_link() {
    let app = spawn_app().await;
    let client = begin_setup(&app, "jan").await;
    app.setup_mail_after("jan", 1).await;
    for forged in ["/2fa/app?wait=9223372036854775807", "/2fa/app?wait=-5"] {
        let page = app.get_with(&client, forged).await.text().await.unwrap();
        assert!(!page.contains("weer een nieuwe code aanvragen"), "{forged}: {page}");
    }
    let page = app
        .get_with(&client, "/2fa/app?notice=wait&wait=600")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Je kunt over 60 seconden weer een nieuwe code aanvragen."));
    // The real wait, 60 s after the first mail, counts down with the clock.
    app.clock.advance(20);
    let page = app.get_with(&client, "/2fa/app?notice=wait").await.text().await.unwrap();
    assert!(page.contains("Je kunt over 40 seconden weer een nieuwe code aanvragen."));
    app.clock.advance(41);
    let page = app.get_with(&client, "/2fa/app?notice=wait").await.text().await.unwrap();
    assert!(!page.contains("weer een nieuwe code aanvragen"), "no wait is left");
}

async fn at_most_five_setup_mails_an_hour() {
    let app = spawn_app().await;
    let client = begin_setup(&app, "jan").await;
    for _ in 0..4 {
        app.clock.advance(61);
        let sent = app
            .submit_with(&client, "/2fa/app", "/2fa/app/new", &[])
            .await;
        assert_eq!(
            sent.status(),
            StatusCode::SEE_OTHER,
            "{}",
            sent.text().await.unwrap()
        );
        assert_eq!(location(&sent), "/2fa/app?notice=sent");
    }
    app.clock.advance(61);
    let page = press_new_code(&app, &client).await;
    assert!(
        page.contains("Je kunt over 55 minuten weer een nieuwe code aanvragen."),
        "{page}"
    );
}

async fn five_wrong_codes_and_the_password_must_be_typed_again() {
    let app = spawn_app().await;
    let key = user_with_app(&app, "jan").await;
    app.clock.advance(30);
    let client = at_code_page(&app, "jan").await;
    for attempt in 1..=4 {
        let (status, _) = code_answer(&app, &client, "000000").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let (status, target) = code_answer(&app, &client, "000000").await;
    assert_eq!(
        (status, target.as_str()),
        (StatusCode::SEE_OTHER, "/login?notice=too_many_codes")
    );
    // The session is gone: even the right code does not help now.
    let right = app_code(&key, app.clock.now());
    let csrf_page = app
        .get_with(&client, "/login?notice=too_many_codes")
        .await
        .text()
        .await
        .unwrap();
    let response = app
        .post_with(
            &client,
            "/2fa/app/verify",
            &csrf_of(&csrf_page),
            &[("code", &right)],
        )
        .await;
    assert_eq!(location(&response), "/login");
    assert!(csrf_page.contains("Te vaak een verkeerde code"));
}

async fn parallel_wrong_codes_cannot_exceed_the_limit() {
    let app = spawn_app().await;
    let key = user_with_app(&app, "jan").await;
    app.clock.advance(30);
    let client = at_code_page(&app, "jan").await;
    let html = app
        .get_with(&client, "/2fa/app")
        .await
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html);
    // 20 guesses at once, one of them right: at most five are even evaluated.
    let right = app_code(&key, app.clock.now());
    let mut guesses: Vec<String> = (0..19)
        .map(|i| format!("{:06}", 111111 * (i % 9 + 1)))
        .collect();
    guesses.push(right);
    let answers = futures::future::join_all(guesses.iter().map(|code| {
        let (app, client, csrf) = (&app, &client, &csrf);
        async move {
            app.post_with(client, "/2fa/app/verify", csrf, &[("code", code.as_str())])
                .await
        }
    }))
    .await;
    let unauthorized = answers
        .iter()
        .filter(|r| r.status() == StatusCode::UNAUTHORIZED)
        .count();
    assert!(
        unauthorized <= 4,
        "{unauthorized} wrong codes were evaluated and answered"
    );
}

async fn half_logged_in_sessions_open_nothing_but_the_second_step() {
    let app = spawn_app().await;
    user_with_app(&app, "jan").await;
    let client = browser();
    app.login_with(&client, "jan", GOOD).await;
    assert_eq!(location(&app.get_with(&client, "/").await), "/login");
    assert_eq!(app.get_with(&client, "/2fa").await.status(), StatusCode::OK);
    assert_eq!(
        app.get_with(&client, "/2fa/app").await.status(),
        StatusCode::OK
    );
    // Without any session the second-step pages send to the login page.
    assert_eq!(
        location(&app.get_with(&browser(), "/2fa/app").await),
        "/login"
    );
}

async fn a_pending_secret_expires_and_nieuwe_code_recovers() {
    let app = spawn_app().await;
    begin_setup(&app, "jan").await;
    let key = app.setup_mail_after("jan", 1).await.text_key();
    app.clock.advance(24 * 3600);
    // That session ended long ago; at the next login the expired set-up restarts by itself.
    let client = browser();
    app.login_with(&client, "jan", GOOD).await;
    let page = app.choose_app_with(&client).await;
    assert!(
        !page.contains("Je aanvraagcode is verlopen"),
        "a new mail went out automatically"
    );
    let (status, _) = code_answer(&app, &client, &app_code(&key, app.clock.now())).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the expired secret does not work"
    );
    let fresh = app.setup_mail_after("jan", 2).await.text_key();
    assert_ne!(fresh, key);
    let (status, _) = code_answer(&app, &client, &app_code(&fresh, app.clock.now())).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

async fn an_active_app_cannot_restart_setup_without_an_administrator() {
    let app = spawn_app().await;
    let key = user_with_app(&app, "jan").await;
    app.mail_settled().await;
    let mails = app.smtp.received().len();
    let client = at_code_page(&app, "jan").await;
    let response = app
        .submit_with(&client, "/2fa/app", "/2fa/app/new", &[])
        .await;
    assert_eq!(location(&response), "/2fa/app");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.smtp.received().len(), mails, "no new secret, no mail");
    app.clock.advance(30);
    let (status, _) = code_answer(&app, &client, &app_code(&key, app.clock.now())).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the old key still works");
}

async fn reset_2fa_ends_sessions_mails_a_notice_and_setup_starts_again() {
    let app = spawn_app().await;
    let key = user_with_app(&app, "jan").await;
    app.clock.advance(30);
    app.full_login("jan", GOOD).await;
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    app.mail_settled().await;
    let before = app.smtp.received().len();

    assert!(app.admin.reset_two_step("acme", "jan", None).await.unwrap());
    assert_eq!(location(&app.get("/").await), "/login", "sessions ended");
    let notice = app.mail_to("jan", before + 1).await;
    assert_eq!(notice.subject, "Je tweestapsverificatie is teruggezet");
    assert!(notice.inline.is_empty() && !notice.text.contains(&key[..8]));

    // Another organization's administrator cannot reach this user.
    app.create_org(
        "other",
        poortwachter::domain::lang::Lang::Nl,
        Default::default(),
    )
    .await;
    let refused = app.admin.reset_two_step("other", "jan", None).await;
    assert!(refused.unwrap_err().to_string().contains("has no user"));

    // The next login sets the app up again, with a new key.
    app.keys.lock().unwrap().remove("jan");
    app.full_login_with(&browser(), "jan", GOOD).await;
    assert_ne!(app.keys.lock().unwrap()["jan"], key);
}

async fn a_secret_copied_to_another_users_row_does_not_decrypt() {
    let app = spawn_app().await;
    user_with_app(&app, "jan").await;
    user_with_app(&app, "piet").await;
    let db = app.db().await;
    sqlx::query(
        "UPDATE totp_credentials SET sealed = (SELECT sealed FROM totp_credentials c \
         JOIN users u ON u.id = c.user_id WHERE u.username = 'jan') \
         WHERE user_id = (SELECT id FROM users WHERE username = 'piet')",
    )
    .execute(&db)
    .await
    .unwrap();
    app.clock.advance(30);
    let jan_key = app.keys.lock().unwrap()["jan"].clone();
    let client = at_code_page(&app, "piet").await;
    let response = app
        .send_code_with(&client, &app_code(&jan_key, app.clock.now()))
        .await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.text().await.unwrap().contains("Er ging iets mis"));
}

async fn the_secret_is_stored_encrypted_and_leaves_the_outbox_when_sent() {
    let app = spawn_app().await;
    let key = user_with_app(&app, "jan").await;
    let raw_key = data_encoding::BASE32_NOPAD.decode(key.as_bytes()).unwrap();
    let db = app.db().await;
    let (version, sealed): (i64, Vec<u8>) =
        sqlx::query_as("SELECT CAST(key_version AS BIGINT), sealed FROM totp_credentials")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(version, 1);
    assert_eq!(sealed.len(), 12 + 20 + 16, "nonce, ciphertext, tag");
    assert!(!sealed.windows(20).any(|w| w == raw_key.as_slice()));
    for _ in 0..100 {
        if app.store.outbox_len().await.unwrap() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("sent mail (with the secret) is still in the outbox");
}

async fn a_setup_mail_that_could_not_be_sent_before_expiry_is_dropped() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    app.mail_to("jan", 1).await;
    app.smtp.set_refusing(true);
    let client = browser();
    app.login_with(&client, "jan", GOOD).await;
    app.choose_app_with(&client).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.store.outbox_len().await.unwrap(),
        1,
        "waiting for the mail server"
    );
    app.clock.advance(24 * 3600);
    for _ in 0..100 {
        if app.store.outbox_len().await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        app.store.outbox_len().await.unwrap(),
        0,
        "expired secret dropped, not sent late"
    );
}

async fn a_code_only_counts_for_the_user_whose_password_was_typed() {
    let app = spawn_app().await;
    let jan = user_with_app(&app, "jan").await;
    user_with_app(&app, "piet").await;
    app.clock.advance(30);
    let piet = at_code_page(&app, "piet").await;
    let (status, _) = code_answer(&app, &piet, &app_code(&jan, app.clock.now())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
}

#[tokio::test]
async fn the_setup_mail_offers_the_same_uri_as_a_link_for_the_phone_itself() {
    let app = spawn_app().await;
    begin_setup(&app, "jan").await;
    let mail = app.setup_mail_after("jan", 1).await;
    let uri = mail.qr_uri();
    // As askama escapes it in an attribute.
    let escaped = uri.replace('&', "&#38;");
    let start = mail.html.find("otpauth:").unwrap_or(0);
    assert!(
        mail.html.contains(&format!("href=\"{escaped}\"")),
        "{}",
        &mail.html[start.saturating_sub(40)..(start + 200).min(mail.html.len())]
    );
    assert!(mail.html.contains("Openen in authenticator app"));
    assert!(
        mail.text
            .contains(&format!("Openen in authenticator app: {uri}"))
    );
}
