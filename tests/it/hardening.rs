//! Hardening: throttling and lockout, disabled accounts, log-out everywhere, the audit log and
//! organization isolation. Each promise of issue 7 has a test here that fails if it breaks.

use crate::common::*;
use poortwachter::admin::AdminError;
use poortwachter::domain::audit::{AuditEvent, Outcome};
use poortwachter::domain::lang::Lang;
use poortwachter::domain::password::PasswordPolicy;
use poortwachter::store::AuditEntry;
use reqwest::{Client, StatusCode};

const GOOD: &str = "Fiets-Sleutel-2024!";
const WRONG: &str = "Verkeerd-Wachtwoord-1";

/// The defaults of the throttle (10 failures lock an account for 15 minutes), which the
/// other test files raise so that their quick failures do not lock anyone.
fn default_throttle(settings: &mut poortwachter::config::Settings) {
    let defaults = poortwachter::config::Settings::default();
    settings.lockout_failures = defaults.lockout_failures;
    settings.lockout_minutes = defaults.lockout_minutes;
    settings.address_lockout_failures = defaults.address_lockout_failures;
}

async fn audit_of(app: &TestApp, username: &str) -> Vec<AuditEntry> {
    app.admin
        .audit_log(Some("acme"), Some(username), None, 10_000)
        .await
        .unwrap()
}

fn count(entries: &[AuditEntry], event: AuditEvent, outcome: Outcome) -> usize {
    entries
        .iter()
        .filter(|e| e.event == event && e.outcome == outcome)
        .count()
}

/// `n` wrong passwords for `username`, one after the other, the clock moved past each wait.
async fn fail_logins(app: &TestApp, username: &str, n: usize) {
    for _ in 0..n {
        let response = app.login_with(&browser(), username, WRONG).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        app.clock.advance(61);
    }
}

/// A fresh browser at the code page of `username` (whose app is set up), and its CSRF token.
async fn at_code_page(app: &TestApp, username: &str) -> (Client, String) {
    let client = browser();
    let response = app.login_with(&client, username, GOOD).await;
    assert_eq!(location(&response), "/2fa");
    let html = app.choose_app_with(&client).await;
    (client, csrf_of(&html))
}

store_tests! {
async fn ten_failures_lock_the_account_with_the_same_answer_a_notice_and_an_end() {
    let app = spawn_app_with(default_throttle).await;
    app.active_user("acme", "jan", GOOD).await;
    fail_logins(&app, "jan", 10).await;

    // Locked: the right password gets exactly the answer of a wrong one, or of no account.
    let locked = app.failed_login("jan", GOOD).await;
    let unknown = app.failed_login("onbekend", WRONG).await;
    assert_eq!(locked.0, StatusCode::UNAUTHORIZED);
    assert_eq!(locked, unknown, "a locked account is not told apart");

    // The user hears of it by e-mail (after the invitation).
    let notice = app.mail_to("jan", 2).await;
    assert_eq!(notice.subject, "Inloggen op je account is tijdelijk geblokkeerd");
    assert!(notice.text.contains("jan"));

    let log = audit_of(&app, "jan").await;
    assert_eq!(count(&log, AuditEvent::LoginPassword, Outcome::Failure), 10);
    assert_eq!(count(&log, AuditEvent::AccountLocked, Outcome::Success), 1);
    assert_eq!(count(&log, AuditEvent::LoginPassword, Outcome::Throttled), 1);

    // The lock ends by itself: an attacker cannot keep the user out for ever.
    app.clock.advance(15 * 60);
    let response = app.login_with(&browser(), "jan", GOOD).await;
    assert_eq!(location(&response), "/2fa", "the lock expired");
}

async fn an_administrator_lifts_a_lock_and_a_completed_login_resets_the_count() {
    let app = spawn_app_with(default_throttle).await;
    app.active_user("acme", "jan", GOOD).await;
    fail_logins(&app, "jan", 10).await;
    assert_eq!(app.failed_login("jan", GOOD).await.0, StatusCode::UNAUTHORIZED);
    let users = app.admin.user_summaries("acme").await.unwrap();
    assert_eq!(users[0].failures, 10);
    assert!(users[0].blocked_until > app.clock.now());

    app.admin.unlock("acme", "jan").await.unwrap();
    app.full_login("jan", GOOD).await;
    let log = audit_of(&app, "jan").await;
    assert_eq!(count(&log, AuditEvent::AccountUnlocked, Outcome::Success), 1);
    assert_eq!(count(&log, AuditEvent::LoginCode, Outcome::Success), 1);

    // Nine failures after a completed login do not lock: the count started again.
    fail_logins(&app, "jan", 9).await;
    let response = app.login_with(&browser(), "jan", GOOD).await;
    assert_eq!(location(&response), "/2fa");
}

async fn the_lock_grows_while_failures_go_on_and_waits_come_before_it() {
    let app = spawn_app_with(default_throttle).await;
    app.active_user("acme", "jan", GOOD).await;
    // Five free failures, in quick succession.
    for _ in 0..5 {
        app.login_with(&browser(), "jan", WRONG).await;
    }
    // The sixth sets a wait of a second: an attempt within it is refused unchecked.
    app.login_with(&browser(), "jan", WRONG).await;
    assert_eq!(app.failed_login("jan", GOOD).await.0, StatusCode::UNAUTHORIZED);
    app.clock.advance(1);
    assert_eq!(location(&app.login_with(&browser(), "jan", GOOD).await), "/2fa");

    fail_logins(&app, "jan", 3).await; // failures 7 … 9 (the right password gave its place back)
    app.login_with(&browser(), "jan", WRONG).await; // the tenth: locked for 15 minutes
    app.clock.advance(15 * 60);
    app.login_with(&browser(), "jan", WRONG).await; // the eleventh: 30 minutes
    app.clock.advance(29 * 60);
    assert_eq!(app.failed_login("jan", GOOD).await.0, StatusCode::UNAUTHORIZED);
    app.clock.advance(60);
    assert_eq!(location(&app.login_with(&browser(), "jan", GOOD).await), "/2fa");
}

async fn parallel_wrong_passwords_are_counted_before_they_are_checked() {
    let app = spawn_app_with(default_throttle).await;
    app.active_user("acme", "jan", GOOD).await;
    let guesses = (0..64).map(|_| async {
        app.login_with(&browser(), "jan", WRONG).await.status()
    });
    let answers = futures::future::join_all(guesses).await;
    // A flood may also fill the hashing queue: those get 503 at once (and stay counted).
    let answered = answers
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert!(
        answers
            .iter()
            .all(|s| [StatusCode::UNAUTHORIZED, StatusCode::SERVICE_UNAVAILABLE].contains(s)),
        "{answers:?}"
    );
    let log = audit_of(&app, "jan").await;
    let checked = count(&log, AuditEvent::LoginPassword, Outcome::Failure);
    let refused = count(&log, AuditEvent::LoginPassword, Outcome::Throttled);
    // Five free failures and the one that sets the first wait; the rest wait unchecked.
    assert!(checked <= 6, "{checked} of 64 parallel guesses were checked");
    assert_eq!(checked + refused, answered);
}

async fn logins_refused_by_a_full_hashing_queue_do_not_count_as_failures() {
    let app = spawn_app_with(|s| {
        default_throttle(s);
        s.argon2_memory_kib = 32 * 1024;
        s.argon2_iterations = 3;
        s.hash_workers = 1;
        s.hash_queue = 1;
    })
    .await;
    app.active_user("acme", "jan", GOOD).await;
    let logins = (0..12).map(|_| async { app.login_with(&browser(), "jan", GOOD).await.status() });
    let answers = futures::future::join_all(logins).await;
    let busy = answers
        .iter()
        .filter(|s| **s == StatusCode::SERVICE_UNAVAILABLE)
        .count();
    assert!(busy > 0, "the queue overflowed: {answers:?}");
    let jan = &app.admin.user_summaries("acme").await.unwrap()[0];
    assert_eq!(jan.failures, 0, "unchecked attempts gave their places back");
    assert!(jan.blocked_until <= app.clock.now());
}

async fn wrong_codes_count_for_the_account_across_sessions() {
    let app = spawn_app_with(default_throttle).await;
    app.active_user("acme", "jan", GOOD).await;
    app.full_login("jan", GOOD).await;
    // Each session may type four wrong codes before the fifth sends it back to the
    // password; new sessions do not start the account's count again (RFC 4226 §7.3).
    let mut refused = None;
    'sessions: for _ in 0..5 {
        let (client, csrf) = at_code_page(&app, "jan").await;
        for _ in 0..4 {
            let response = app
                .post_with(&client, "/2fa/app/verify", &csrf, &[("code", "000000")])
                .await;
            if response.status() == StatusCode::TOO_MANY_REQUESTS {
                refused = Some(response.text().await.unwrap());
                break 'sessions;
            }
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
    }
    let page = refused.expect("the account's throttle stepped in");
    assert!(page.contains("Te veel pogingen. Probeer het over"), "{page}");
    let log = audit_of(&app, "jan").await;
    assert_eq!(count(&log, AuditEvent::LoginCode, Outcome::Failure), 6);
    assert_eq!(count(&log, AuditEvent::LoginCode, Outcome::Throttled), 1);
}

async fn one_address_trying_many_accounts_is_stopped() {
    let app = spawn_app_with(|s| {
        default_throttle(s);
        s.address_lockout_failures = 20;
    })
    .await;
    app.active_user("acme", "jan", GOOD).await;
    // Password spraying: one guess for each of many names, none of which locks an account.
    for i in 0..20 {
        app.login_with(&browser(), &format!("medewerker{i}"), WRONG).await;
        app.clock.advance(61);
    }
    assert_eq!(
        app.failed_login("jan", GOOD).await.0,
        StatusCode::UNAUTHORIZED,
        "the address is locked: even a right password is not checked"
    );
    let log = audit_of(&app, "jan").await;
    assert_eq!(count(&log, AuditEvent::LoginPassword, Outcome::Throttled), 1);
    app.clock.advance(15 * 60);
    assert_eq!(location(&app.login_with(&browser(), "jan", GOOD).await), "/2fa");
}

async fn a_disabled_user_is_logged_out_at_once_and_cannot_log_in() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    app.full_login("jan", GOOD).await;
    assert_eq!(app.get("/").await.status(), StatusCode::OK);

    assert!(app.admin.set_disabled("acme", "jan", true).await.unwrap());
    assert_eq!(location(&app.get("/").await), "/login", "the session ended at once");
    let disabled = app.failed_login("jan", GOOD).await;
    assert_eq!(disabled, app.failed_login("onbekend", GOOD).await);

    assert!(app.admin.set_disabled("acme", "jan", false).await.unwrap());
    app.full_login("jan", GOOD).await;
    let log = audit_of(&app, "jan").await;
    assert_eq!(count(&log, AuditEvent::AccountDisabled, Outcome::Success), 1);
    assert_eq!(count(&log, AuditEvent::AccountEnabled, Outcome::Success), 1);
}

async fn a_disabled_invited_user_cannot_activate() {
    let app = spawn_app().await;
    app.create_org("acme", Lang::Nl, PasswordPolicy::default()).await;
    let invited = app.invite("acme", "jan").await;
    app.admin.set_disabled("acme", "jan", true).await.unwrap();
    let path = &invited.link[PUBLIC_URL.len()..];
    // The link says what is true, no more than a login would: not "already used".
    let page = app.get(path).await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let html = page.text().await.unwrap();
    assert!(html.contains("Dit account is niet beschikbaar"), "{html}");
    assert!(html.contains("Neem contact op met je werkgever"));
    assert!(!html.contains("OPSLAAN") && !html.contains("al gebruikt"));
    // A form posted anyway (with a token from another page) is refused the same way.
    let response = app
        .submit(
            "/login",
            path,
            &[("password", GOOD), ("password_repeat", GOOD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("niet beschikbaar"));
    assert_eq!(app.password_hash("jan").await, None, "no password was set");
}

async fn log_out_everywhere_ends_every_session_of_the_user() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    let (laptop, phone) = (browser(), browser());
    app.full_login_with(&laptop, "jan", GOOD).await;
    app.clock.advance(30);
    app.full_login_with(&phone, "jan", GOOD).await;
    assert_eq!(app.admin.sessions("acme", "jan").await.unwrap().len(), 2);

    assert_eq!(app.admin.end_sessions("acme", "jan").await.unwrap(), 2);
    for client in [&laptop, &phone] {
        assert_eq!(location(&app.get_with(client, "/").await), "/login");
    }
    assert!(app.admin.sessions("acme", "jan").await.unwrap().is_empty());
}

async fn users_see_their_sessions_and_log_out_everywhere_themselves() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    // 25 November 2026, 19:41 UTC: 20:41 in Amsterdam (winter time).
    app.clock.set(1_795_635_660);
    let (laptop, phone, stranger) = (browser(), browser(), browser());
    app.full_login_with(&laptop, "jan", GOOD).await;
    app.clock.advance(30);
    app.full_login_with(&phone, "jan", GOOD).await;
    // Someone with the password but not the app: the user sees that too.
    app.login_with(&stranger, "jan", GOOD).await;

    let home = app.get_with(&laptop, "/").await.text().await.unwrap();
    assert_eq!(home.matches("<li>ingelogd op ").count(), 3, "{home}");
    // Dutch local time in Dutch notation, never UTC.
    assert_eq!(home.matches("ingelogd op 25 november 2026 om 20:41").count(), 3);
    assert!(!home.contains("UTC"));
    assert_eq!(home.matches("(dit apparaat)").count(), 1);
    assert_eq!(home.matches("(alleen het wachtwoord, nog zonder code)").count(), 1);

    let done = app.submit_with(&laptop, "/", "/logout/everywhere", &[]).await;
    assert_eq!(location(&done), "/login?notice=logged_out_everywhere");
    for client in [&laptop, &phone] {
        assert_eq!(location(&app.get_with(client, "/").await), "/login");
    }
    assert_eq!(location(&app.get_with(&stranger, "/2fa").await), "/login");
    let log = audit_of(&app, "jan").await;
    assert!(log.iter().any(|e| e.event == AuditEvent::SessionEnded
        && e.detail.as_deref() == Some("everywhere")));
}

async fn the_sweep_removes_what_has_run_out_and_keeps_the_rest() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    app.full_login("jan", GOOD).await;
    app.clock.advance(31 * 60);
    app.full_login_with(&browser(), "jan", GOOD).await;
    let now = app.clock.now();
    let idle = app.settings.session_idle_seconds();

    // The first session is idle, the second live; the audit log is not the sweep's (it is
    // kept five years and pruned at a checkpoint: tests/it/evidence.rs).
    let before = audit_of(&app, "jan").await.len();
    let swept = app.store.sweep(now, idle).await.unwrap();
    assert_eq!(swept.sessions, 1);
    assert_eq!(app.admin.sessions("acme", "jan").await.unwrap().len(), 1);
    assert_eq!(audit_of(&app, "jan").await.len(), before);

    // A day later the address's throttle row is forgotten and the last session has expired.
    app.clock.advance(25 * 3600);
    let later = app.store.sweep(app.clock.now(), idle).await.unwrap();
    assert_eq!(later.sessions, 1);
    assert!(later.throttle_rows >= 1, "{later:?}");
}

async fn session_timeouts_come_from_the_settings() {
    let app = spawn_app_with(|s| {
        s.session_idle_minutes = 5;
        s.session_absolute_hours = 1;
    })
    .await;
    app.active_user("acme", "jan", GOOD).await;
    app.full_login("jan", GOOD).await;
    app.clock.advance(4 * 60);
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    app.clock.advance(5 * 60);
    assert_eq!(location(&app.get("/").await), "/login", "idle for 5 minutes");

    app.clock.advance(30);
    app.full_login("jan", GOOD).await;
    for _ in 0..15 {
        app.clock.advance(4 * 60);
        app.get("/").await;
    }
    assert_eq!(location(&app.get("/").await), "/login", "an hour at most");
    let log = audit_of(&app, "jan").await;
    let reasons: Vec<_> = log
        .iter()
        .filter(|e| e.event == AuditEvent::SessionEnded)
        .map(|e| e.detail.clone().unwrap_or_default())
        .collect();
    assert_eq!(reasons, ["idle", "expired"]);
}

async fn the_audit_log_tells_the_journey_and_holds_no_secret() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    app.login_with(&browser(), "jan", WRONG).await;
    app.full_login("jan", GOOD).await;
    app.submit("/", "/logout", &[]).await;
    app.admin.reset_two_step("acme", "jan", None).await.unwrap();

    let log = audit_of(&app, "jan").await;
    // The invitation's delivery comes when the outbox sends it, somewhere after its queueing.
    let delivered = log.iter().position(|e| e.event == AuditEvent::InvitationDelivered);
    let queued = log.iter().position(|e| e.event == AuditEvent::InvitationSent);
    assert!(delivered.is_some() && delivered > queued, "{log:?}");
    let log: Vec<_> = log
        .into_iter()
        .filter(|e| e.event != AuditEvent::InvitationDelivered)
        .collect();
    let events: Vec<(&str, &str)> = log
        .iter()
        .map(|e| (e.event.as_str(), e.outcome.as_str()))
        .collect();
    assert_eq!(
        events,
        [
            ("invitation_sent", "success"),
            ("invitation_used", "success"),
            ("password_set", "success"),
            ("login_password", "failure"),
            ("login_password", "success"),
            ("setup_mail", "success"),
            ("two_step_enabled", "success"),
            ("login_code", "success"),
            ("recovery_codes_created", "success"),
            ("session_ended", "success"),
            ("two_step_reset", "success"),
        ]
    );
    assert!(log.iter().all(|e| e.org_slug.as_deref() == Some("acme")));
    assert!(log[3].client.as_deref() == Some("127.0.0.1"));

    // No password, code, link token or key in any column of any row.
    let key = app.keys.lock().unwrap()["jan"].clone();
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT event || '|' || outcome || '|' || COALESCE(username, '') || '|' || \
         COALESCE(client, '') || '|' || COALESCE(detail, '') FROM audit_log",
    )
    .fetch_all(&app.db().await)
    .await
    .unwrap();
    let dump = rows.join("\n");
    let codes = app.recovery_codes.lock().unwrap()["jan"].clone();
    for secret in [GOOD, WRONG, key.as_str()].into_iter().chain(codes.iter().map(String::as_str)) {
        assert!(!dump.contains(secret), "{secret} in the audit log");
        assert!(!dump.contains(&secret.replace('-', "")), "{secret} in the audit log");
    }
    assert!(!dump.contains("/invite/"));
}

async fn a_replayed_code_is_refused_and_audited() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    app.full_login("jan", GOOD).await;
    let key = app.keys.lock().unwrap()["jan"].clone();
    let (client, csrf) = at_code_page(&app, "jan").await;
    let used = app_code(&key, app.clock.now());
    let response = app
        .post_with(&client, "/2fa/app/verify", &csrf, &[("code", used.as_str())])
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let log = audit_of(&app, "jan").await;
    assert_eq!(count(&log, AuditEvent::LoginCode, Outcome::Replayed), 1);
}

async fn an_organization_cannot_reach_another_organizations_users() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    app.create_org("globex", Lang::Nl, PasswordPolicy::default()).await;
    let refused = |result: Result<(), AdminError>| {
        assert!(
            matches!(result, Err(AdminError::UnknownUser { .. })),
            "{result:?}"
        );
    };
    refused(app.admin.unlock("globex", "jan").await.map(drop));
    refused(app.admin.set_disabled("globex", "jan", true).await.map(drop));
    refused(app.admin.end_sessions("globex", "jan").await.map(drop));
    refused(app.admin.sessions("globex", "jan").await.map(drop));
    refused(app.admin.reset_two_step("globex", "jan", None).await.map(drop));
    refused(
        app.admin
            .audit_log(Some("globex"), Some("jan"), None, 10)
            .await
            .map(drop),
    );
    assert!(app.admin.user_summaries("globex").await.unwrap().is_empty());
    assert!(
        app.admin
            .audit_log(Some("globex"), None, None, 100)
            .await
            .unwrap()
            .is_empty(),
        "another organization's events are not shown"
    );
    // And jan is untouched.
    app.full_login("jan", GOOD).await;
}
}
