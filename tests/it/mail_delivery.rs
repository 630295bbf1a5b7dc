//! E-mail goes through the outbox: written with the change that causes it, delivered over
//! real SMTP with retries, and never lost when the mail server is down.

use std::time::Duration;

use crate::common::*;
use poortwachter::domain::audit::{AuditEvent, Outcome};
use poortwachter::domain::lang::Lang;
use poortwachter::domain::password::PasswordPolicy;
use reqwest::StatusCode;

async fn outbox_len(app: &TestApp) -> i64 {
    app.store.outbox_len().await.unwrap()
}

async fn wait_until(mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("condition not reached in 5 s");
}

store_tests! {
async fn a_mail_server_that_is_down_delays_mail_and_loses_none() {
    let app = spawn_app().await;
    app.smtp.set_refusing(true);
    app.create_org("acme", Lang::Nl, PasswordPolicy::default())
        .await;
    app.invite("acme", "jan").await;

    // Tried, refused, kept for a retry. (The refusal itself, not the claim: a mail is counted
    // as attempted when a sender takes it, a moment before the SMTP server answers.)
    wait_until(async || {
        let db = app.db().await;
        let refused: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE attempts >= 1 AND last_error IS NOT NULL")
                .fetch_one(&db)
                .await
                .unwrap();
        refused == 1
    })
    .await;
    assert_eq!(outbox_len(&app).await, 1);
    assert!(app.smtp.received().is_empty());
    // Visible: the overview (CLI, console, API) says failing with the server's answer, and
    // the audit log has the refusal, once, beside the queueing.
    let jan = app.admin.user_overview("acme", "jan").await.unwrap();
    let step = poortwachter::domain::onboarding::onboarding_step(&jan.facts(), app.clock.now());
    assert!(matches!(step, Some(poortwachter::domain::onboarding::OnboardingStep::MailFailing(_))), "{step:?}");
    let delivered = async || {
        app.admin.audit_log(Some("acme"), Some("jan"), None, 100).await.unwrap().into_iter()
            .filter(|e| e.event == AuditEvent::InvitationDelivered)
            .map(|e| e.outcome)
            .collect::<Vec<_>>()
    };
    assert_eq!(delivered().await, vec![Outcome::Failure]);

    // The server comes back; after the back-off the mail leaves, once.
    app.smtp.set_refusing(false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(app.smtp.received().is_empty(), "waits for its back-off");
    app.clock.advance(5);
    let mail = app.mail_to("jan", 1).await;
    assert!(mail.subject.starts_with("Activeer je account"));
    wait_until(async || outbox_len(&app).await == 0).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.smtp.received().len(), 1, "sent exactly once");
    assert_eq!(delivered().await, vec![Outcome::Failure, Outcome::Success], "and its delivery");
}

async fn no_listener_at_all_keeps_the_mail_queued_with_the_error() {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let app =
        spawn_app_with(|s| s.smtp_url = Some(format!("smtp://127.0.0.1:{closed_port}").into()))
            .await;
    app.create_org("acme", Lang::Nl, PasswordPolicy::default())
        .await;
    app.invite("acme", "jan").await;
    let db = app.db().await;
    wait_until(async || {
        let error: Option<String> = sqlx::query_scalar("SELECT last_error FROM outbox")
            .fetch_one(&db)
            .await
            .unwrap();
        error.is_some()
    })
    .await;
    assert_eq!(outbox_len(&app).await, 1, "still queued");
}

async fn a_refused_invitation_queues_no_mail() {
    let app = spawn_app().await;
    app.create_org("acme", Lang::Nl, PasswordPolicy::default())
        .await;
    app.create_org("other", Lang::Nl, PasswordPolicy::default())
        .await;
    app.active_user("acme", "jan", "Fiets-Sleutel-2024!").await;
    wait_until(async || outbox_len(&app).await == 0).await;

    let taken = app
        .admin
        .invite("other", "jan", "jan@other.nl", "Jan")
        .await;
    assert!(
        taken
            .err()
            .unwrap()
            .to_string()
            .contains("another organization")
    );
    let active = app
        .admin
        .invite("acme", "jan", "jan@example.nl", "Jan")
        .await;
    assert!(
        active
            .err()
            .unwrap()
            .to_string()
            .contains("already activated")
    );
    let bad = app
        .admin
        .invite(
            "acme",
            "piet",
            "piet@example.nl\r\nBcc: x@evil.test",
            "Piet",
        )
        .await;
    assert!(bad.is_err());
    assert_eq!(outbox_len(&app).await, 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.smtp.received().len(), 1, "only the first invitation");
}

async fn without_smtp_mail_goes_to_the_dev_mailbox_page() {
    let app = spawn_app_with(|s| s.smtp_url = None).await;
    app.create_org("acme", Lang::Nl, PasswordPolicy::default())
        .await;
    let invited = app.invite("acme", "jan").await;
    wait_until(async || outbox_len(&app).await == 0).await;

    let list = app.get("/dev/mail").await.text().await.unwrap();
    assert!(
        list.contains("geen SMTP-server is ingesteld"),
        "the page says what mode it is"
    );
    assert!(list.contains("Activeer je account bij Organisatie acme"));
    // Received in Dutch local time, in a table that scrolls on a phone instead of running off.
    assert!(list.contains(" om ") && !list.contains("UTC"), "{list}");
    assert!(list.contains("class=\"table-scroll\""));
    let show = app.get("/dev/mail/1").await.text().await.unwrap();
    assert!(show.contains("jan@example.nl"));
    let link = &invited.link;
    assert!(show.contains(&format!("<a href=\"{link}\">{link}</a>")), "the text part's link is clickable");
    assert!(show.contains("class=\"mail-frame\""), "the frame is tall enough for the set-up mail");
    let html = app.get("/dev/mail/1/html").await;
    let policy = html.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("sandbox") && policy.contains("allow-top-navigation-by-user-activation"));
    let html = html.text().await.unwrap();
    assert!(html.contains(">HIER</a>"));
    assert!(html.starts_with("<base target=\"_top\">"), "HIER leaves the frame, which our pages refuse");
    assert!(!html.contains("dev-band"), "the mail is shown as it was sent");
    // Every page of a development server says so, error pages too.
    for page in ["/login", "/dev/mail", "/does/not/exist", &invited.link[PUBLIC_URL.len()..]] {
        let html = app.get(page).await.text().await.unwrap();
        assert!(html.contains("id=\"dev-band\""), "{page}");
        assert!(html.contains("Ontwikkelmodus") && html.contains("Development mode"));
    }
    assert_eq!(
        app.get("/dev/mail/99").await.status(),
        StatusCode::NOT_FOUND
    );
    assert!(app.smtp.received().is_empty());
}

async fn with_smtp_configured_there_is_no_dev_mailbox() {
    let app = spawn_app().await;
    assert_eq!(app.get("/dev/mail").await.status(), StatusCode::NOT_FOUND);
    let login = app.get("/login").await.text().await.unwrap();
    assert!(!login.contains("dev-band"));
}
}
