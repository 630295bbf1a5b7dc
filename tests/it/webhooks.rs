//! Webhooks out (Standard Webhooks): a real receiver checks every delivery's signature with
//! its own HMAC code; a receiver that is down gets every event once it is back, once each and
//! in order per user; a rotated secret signs beside the old one for the overlap; a receiver
//! down for more than a day makes the subscription failing, and a replay sends the events
//! again; in production no private address, no redirect, no slow or huge answer gets
//! anywhere.

use std::collections::HashMap;
use std::time::Duration;

use crate::common::webhook::{
    Answer, Received, Receiver, quick_dev_webhooks, signed_with, subscription_when,
};
use crate::common::{Clock, TestApp, spawn_app, spawn_app_with};
use poortwachter::domain::lang::Lang;
use poortwachter::domain::password::PasswordPolicy;
use serde_json::json;

const GOOD: &str = "Fiets-Sleutel-2024!";

/// A development server (a receiver on loopback is allowed) that seals and sends quickly.
async fn dev_app() -> TestApp {
    let app = spawn_app_with(quick_dev_webhooks).await;
    app.create_org("acme", Lang::Nl, PasswordPolicy::default())
        .await;
    app
}

fn seq_of(received: &Received) -> i64 {
    received.json["data"]["event_id"]
        .as_str()
        .and_then(|id| id.strip_prefix("evt_"))
        .unwrap()
        .parse()
        .unwrap()
}

fn types(received: &[Received]) -> Vec<String> {
    received
        .iter()
        .map(|r| r.json["type"].as_str().unwrap().to_owned())
        .collect()
}

store_tests! {
    async fn a_receiver_that_was_down_gets_every_event_once_in_order_and_signed() {
        let receiver = Receiver::start().await;
        receiver.answer(Answer::Down(503));
        let app = dev_app().await;
        let created = app
            .admin
            .add_webhook(Some("acme"), &receiver.url, "*", "Verzuimcoach")
            .await
            .unwrap();
        assert!(created.secret.starts_with("whsec_"));
        app.active_user("acme", "jan", GOOD).await;
        app.active_user("acme", "piet", GOOD).await;

        // Refused while it is down; retried 5 s later on the server's clock, once it is up.
        receiver.attempts(1).await;
        receiver.answer(Answer::Up);
        let now = app.clock.now();
        subscription_when(&app, &created.subscription.public_id, |s| s.last_attempt_at == Some(now)).await;
        app.clock.advance(10);
        receiver.accepted(6).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let accepted: Vec<Received> = receiver.received().into_iter().filter(|r| r.accepted).collect();

        // Once each.
        let mut per_id: HashMap<&str, usize> = HashMap::new();
        for r in &accepted {
            *per_id.entry(r.id.as_str()).or_default() += 1;
        }
        assert!(per_id.values().all(|n| *n == 1), "{per_id:?}");
        assert_eq!(accepted.len(), 6, "{:?}", types(&accepted));
        // In order per user, with the events of the journey.
        for username in ["jan", "piet"] {
            let theirs: Vec<Received> = accepted
                .iter()
                .filter(|r| r.json["data"]["username"] == username)
                .cloned()
                .collect();
            let places: Vec<i64> = theirs.iter().map(seq_of).collect();
            let mut sorted = places.clone();
            sorted.sort();
            assert_eq!(places, sorted, "{username}'s events in order");
            let mut kinds = types(&theirs);
            kinds.sort();
            assert_eq!(kinds, ["invitation.delivered", "user.activated", "user.invited"]);
        }
        // Every delivery, refused ones too, signed with the subscription's secret; the body
        // has ids and kinds, no link, token or password.
        for r in receiver.received() {
            assert!(signed_with(&created.secret, &r), "{r:?}");
            assert_eq!(r.id, format!("msg_{}", seq_of(&r)));
            assert!((r.timestamp - app.clock.now()).abs() < 60);
            assert_eq!(r.json["data"]["organization"], "acme");
            for secret_looking in ["http", "password", "token", "GOOD", GOOD] {
                assert!(!r.body.contains(secret_looking), "{}", r.body);
            }
        }
        let subscription = subscription_when(&app, &created.subscription.public_id, |s| s.pending == 0).await;
        assert_eq!(subscription.last_answer.as_deref(), Some("HTTP 204"));
        assert_eq!(subscription.failing_since, None);
    }

    async fn a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends() {
        let receiver = Receiver::start().await;
        let app = dev_app().await;
        let created = app
            .admin
            .add_webhook(Some("acme"), &receiver.url, "user.disabled,user.enabled", "")
            .await
            .unwrap();
        let id = created.subscription.public_id.clone();
        app.active_user("acme", "jan", GOOD).await;
        app.admin.set_disabled("acme", "jan", true).await.unwrap();
        let first = receiver.accepted(1).await;
        assert_eq!(types(&first), ["user.disabled"], "only the events asked for");
        assert!(signed_with(&created.secret, &first[0]));

        let new = app.admin.rotate_webhook_secret(&id, 24).await.unwrap();
        app.admin.set_disabled("acme", "jan", false).await.unwrap();
        let during = receiver.accepted(2).await;
        assert!(signed_with(&created.secret, &during[1]) && signed_with(&new, &during[1]));

        app.clock.advance(25 * 3600);
        app.admin.set_disabled("acme", "jan", true).await.unwrap();
        let after = receiver.accepted(3).await;
        assert!(signed_with(&new, &after[2]));
        assert!(!signed_with(&created.secret, &after[2]), "the old secret no longer signs");
    }

    async fn a_receiver_down_for_over_a_day_makes_the_subscription_failing_and_a_replay_sends_again() {
        let receiver = Receiver::start().await;
        receiver.answer(Answer::Down(500));
        let app = dev_app().await;
        let created = app
            .admin
            .add_webhook(Some("acme"), &receiver.url, "user.invited", "")
            .await
            .unwrap();
        let id = created.subscription.public_id.clone();
        app.invite("acme", "jan").await;
        receiver.attempts(1).await;
        // The specification's schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. Each time
        // the clock moves only once the server has written down the attempt before.
        for (n, wait) in [5, 300, 1800, 7200, 18_000, 36_000, 36_000].into_iter().enumerate() {
            let now = app.clock.now();
            let still = subscription_when(&app, &id, |s| s.last_attempt_at == Some(now)).await;
            assert_eq!(still.failing_since, None, "not failing while it is retried");
            app.clock.advance(wait + 1);
            receiver.attempts(n + 2).await;
        }
        let failing = subscription_when(&app, &id, |s| s.failing_since.is_some()).await;
        assert_eq!(failing.last_answer.as_deref(), Some("HTTP 500"));
        assert_eq!(failing.pending, 0, "given up");
        assert_eq!(receiver.received().len(), 8);

        // Back up: the day's events are sent again on request.
        receiver.answer(Answer::Up);
        let now = app.clock.now();
        let queued = app.admin.replay_webhooks(&id, now - 3 * 86400, now + 1).await.unwrap();
        assert_eq!(queued, 1);
        let accepted = receiver.accepted(1).await;
        assert_eq!(types(&accepted), ["user.invited"]);
        let healthy = subscription_when(&app, &id, |s| s.failing_since.is_none()).await;
        assert_eq!(healthy.last_answer.as_deref(), Some("HTTP 204"));
    }

    async fn in_production_no_private_address_is_called() {
        let receiver = Receiver::start().await;
        let app = spawn_app_with(|s| {
            s.audit_seal_ms = 50;
            s.webhook_poll_ms = 50;
        })
        .await;
        app.create_org("acme", Lang::Nl, PasswordPolicy::default()).await;
        for url in [
            receiver.url.as_str(),
            "https://127.0.0.1/hooks",
            "https://10.1.2.3/hooks",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hooks",
            "https://user:pw@hooks.example.nl/",
            "ftp://hooks.example.nl/",
        ] {
            let refused = app.admin.add_webhook(Some("acme"), url, "*", "").await;
            assert!(refused.is_err(), "{url}");
        }
        // A name that resolves to this machine passes the check of the URL, and is refused
        // when it is called.
        let port = receiver.url.split(':').nth(2).unwrap().split('/').next().unwrap();
        let created = app
            .admin
            .add_webhook(Some("acme"), &format!("https://localhost:{port}/hooks"), "*", "")
            .await
            .unwrap();
        app.invite("acme", "jan").await;
        let refused = subscription_when(&app, &created.subscription.public_id, |s| s.last_answer.is_some()).await;
        assert!(
            refused.last_answer.as_deref().unwrap().contains("private, loopback"),
            "{refused:?}"
        );
        assert!(receiver.received().is_empty());
    }

    async fn redirects_are_not_followed_and_slow_or_huge_answers_are_cut() {
        let (redirecting, elsewhere, slow, huge) = (
            Receiver::start().await,
            Receiver::start().await,
            Receiver::start().await,
            Receiver::start().await,
        );
        redirecting.answer(Answer::Redirect(elsewhere.url.clone()));
        slow.answer(Answer::Slow(Duration::from_secs(5)));
        huge.answer(Answer::Huge);
        let app = dev_app().await;
        let mut ids = Vec::new();
        for receiver in [&redirecting, &slow, &huge] {
            let created = app
                .admin
                .add_webhook(Some("acme"), &receiver.url, "user.invited", "")
                .await
                .unwrap();
            ids.push(created.subscription.public_id);
        }
        app.invite("acme", "jan").await;
        let answered = |i: usize| {
            let id = ids[i].clone();
            let app = &app;
            async move { subscription_when(app, &id, |s| s.last_answer.is_some()).await }
        };
        assert_eq!(answered(0).await.last_answer.as_deref(), Some("HTTP 302"));
        assert!(elsewhere.received().is_empty(), "the redirect was not followed");
        assert_eq!(answered(1).await.last_answer.as_deref(), Some("timed out"));
        let huge_answer = answered(2).await;
        assert_eq!(huge_answer.last_answer.as_deref(), Some("HTTP 200"));
        assert_eq!(huge_answer.pending, 0);
    }

    async fn an_organization_manages_its_webhooks_over_the_api() {
        let receiver = Receiver::start().await;
        let app = dev_app().await;
        app.create_org("other", Lang::Nl, PasswordPolicy::default()).await;
        let machine = app.machine(&["acme"]).await;
        let made = machine
            .post(&app, "/api/v1/organizations/acme/webhooks", json!({
                "url": receiver.url, "events": ["user.invited"], "description": "HR"
            }))
            .await;
        assert_eq!(made.status, reqwest::StatusCode::CREATED, "{:?}", made.body);
        let secret = made.body["secret"].as_str().unwrap().to_owned();
        let id = made.body["webhook"]["id"].as_str().unwrap().to_owned();
        assert_eq!(made.body["webhook"]["events"], "user.invited");

        app.invite("acme", "jan").await;
        let accepted = receiver.accepted(1).await;
        assert!(signed_with(&secret, &accepted[0]));

        let listed = machine.get(&app, "/api/v1/organizations/acme/webhooks").await;
        assert_eq!(listed.body["webhooks"][0]["id"], id.as_str());
        assert_eq!(listed.body["webhooks"][0]["state"], "ok");
        assert!(listed.body.to_string().find("whsec_").is_none(), "a secret is shown once");

        let bad = machine
            .post(&app, "/api/v1/organizations/acme/webhooks", json!({"url": "ftp://x", "events": []}))
            .await;
        assert_eq!(bad.status, reqwest::StatusCode::UNPROCESSABLE_ENTITY);
        let unknown = machine
            .post(&app, "/api/v1/organizations/acme/webhooks", json!({"url": receiver.url, "events": ["user.nope"]}))
            .await;
        assert_eq!(unknown.status, reqwest::StatusCode::UNPROCESSABLE_ENTITY);
        let not_ours = machine.get(&app, "/api/v1/organizations/other/webhooks").await;
        assert_eq!(not_ours.status, reqwest::StatusCode::FORBIDDEN);

        let rotated = machine
            .post(&app, &format!("/api/v1/organizations/acme/webhooks/{id}/rotate-secret"), json!({}))
            .await;
        assert_eq!(rotated.status, reqwest::StatusCode::OK);
        assert_ne!(rotated.body["secret"].as_str().unwrap(), secret);

        let gone = app
            .api(
                Some(&machine.token),
                reqwest::Method::DELETE,
                &format!("/api/v1/organizations/acme/webhooks/{id}"),
                None,
                &[],
            )
            .await;
        assert_eq!(gone.status, reqwest::StatusCode::NO_CONTENT);
        let listed = machine.get(&app, "/api/v1/organizations/acme/webhooks").await;
        assert_eq!(listed.body["webhooks"], json!([]));
    }
}

#[tokio::test]
async fn the_default_server_refuses_plain_http_targets() {
    let app = spawn_app().await;
    app.create_org("acme", Lang::Nl, PasswordPolicy::default())
        .await;
    let error = app
        .admin
        .add_webhook(Some("acme"), "http://hooks.example.nl/in", "*", "")
        .await
        .err()
        .unwrap();
    assert!(error.to_string().contains("https://"), "{error}");
}
