//! Changing the password while logged in: the current password is checked (and throttled
//! like a login), the new one meets the policy, the other sessions end, the user is told.

use crate::common::*;
use poortwachter::domain::audit::{AuditEvent, Outcome};
use reqwest::{Client, StatusCode};

const GOOD: &str = "Fiets-Sleutel-2024!";
const NEW: &str = "Nieuwe-Fiets-2025?";

async fn change(
    app: &TestApp,
    client: &Client,
    current: &str,
    new: &str,
    repeat: &str,
) -> reqwest::Response {
    let fields = [
        ("current", current),
        ("password", new),
        ("password_repeat", repeat),
    ];
    app.submit_with(client, "/password", "/password", &fields)
        .await
}

store_tests! {
async fn a_new_password_ends_the_other_sessions_and_the_old_password() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    let (laptop, phone) = (browser(), browser());
    app.full_login_with(&laptop, "jan", GOOD).await;
    app.clock.advance(30);
    app.full_login_with(&phone, "jan", GOOD).await;

    let before = app.admin.sessions("acme", "jan").await.unwrap();
    let done = change(&app, &laptop, GOOD, NEW, NEW).await;
    assert_eq!(location(&done), "/?notice=password_changed");
    let after = app.admin.sessions("acme", "jan").await.unwrap();
    assert_eq!(after.len(), 1, "only this browser's session is left");
    assert!(
        before.iter().all(|s| s.id_hash != after[0].id_hash),
        "and it has a new id"
    );
    let home = app.get_with(&laptop, &location(&done)).await;
    assert_eq!(home.status(), StatusCode::OK, "this session goes on");
    assert!(home.text().await.unwrap().contains("Je wachtwoord is gewijzigd"));
    assert_eq!(location(&app.get_with(&phone, "/").await), "/login", "the other ended");

    assert_eq!(app.login("jan", GOOD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(location(&app.login("jan", NEW).await), "/2fa");
    // Invitation, set-up, enabled notice, and now the change.
    let notice = app.mail_to("jan", 4).await;
    assert_eq!(notice.subject, "Je wachtwoord is gewijzigd");
    let log = app.admin.audit_log(Some("acme"), Some("jan"), None, 100).await.unwrap();
    assert!(log.iter().any(|e| e.event == AuditEvent::PasswordSet
        && e.outcome == Outcome::Success
        && e.detail.as_deref() == Some("change")));
}

async fn a_wrong_current_password_changes_nothing_and_counts_as_a_failure() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    app.full_login("jan", GOOD).await;
    let client = app.client.clone();
    let refused = change(&app, &client, "Geraden-Wachtwoord-1", NEW, NEW).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.text().await.unwrap().contains("Je huidige wachtwoord klopt niet."));
    let jan = &app.admin.user_summaries("acme").await.unwrap()[0];
    assert_eq!(jan.failures, 1, "counted like a wrong login password");
    assert_eq!(location(&app.login_with(&browser(), "jan", GOOD).await), "/2fa");
}

async fn the_new_password_must_meet_the_policy_and_match() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    app.full_login("jan", GOOD).await;
    let client = app.client.clone();
    let short = change(&app, &client, GOOD, "kort", "kort").await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.text().await.unwrap().contains("Het wachtwoord voldoet nog niet"));
    let different = change(&app, &client, GOOD, NEW, "Iets-Anders-2025?").await;
    assert_eq!(different.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(different.text().await.unwrap().contains("De twee wachtwoorden zijn niet gelijk."));
    assert_eq!(location(&app.login_with(&browser(), "jan", GOOD).await), "/2fa");
}

async fn only_a_complete_login_reaches_the_page() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    assert_eq!(location(&app.get("/password").await), "/login");
    let half = browser();
    app.login_with(&half, "jan", GOOD).await;
    assert_eq!(location(&app.get_with(&half, "/password").await), "/login", "password only");
}
}
