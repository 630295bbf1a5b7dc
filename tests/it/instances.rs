//! Several instances on one PostgreSQL database, as behind a load balancer: two real server
//! processes, and every promise that must hold across them (exactly once, shared counters,
//! shared sessions, one outbox drained by all).

use std::time::Duration;

use crate::common::cluster::*;
use crate::common::*;
use reqwest::StatusCode;

#[tokio::test]
#[cfg_attr(
    not(test_postgres),
    ignore = "POORTWACHTER_TEST_POSTGRES_URL is not set"
)]
async fn two_instances_share_everything_that_must_be_exactly_once_or_counted() {
    let cluster = Cluster::start().await;
    let (a, b) = (&cluster.a, &cluster.b);

    // An invitation used at the same moment on both instances: one wins.
    let path = cluster.invite("jan");
    let (ca, cb) = (browser(), browser());
    let (url_a, url_b) = (
        format!("{}{path}", a.address),
        format!("{}{path}", b.address),
    );
    let (csrf_a, csrf_b) = (csrf_from(&ca, &url_a).await, csrf_from(&cb, &url_b).await);
    let (ra, rb) = tokio::join!(
        post(
            &ca,
            url_a,
            &csrf_a,
            &[("password", GOOD), ("password_repeat", GOOD)]
        ),
        post(
            &cb,
            url_b,
            &csrf_b,
            &[("password", GOOD), ("password_repeat", GOOD)]
        ),
    );
    let mut statuses = [ra.status(), rb.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::GONE]);

    // A user with an app, set up through A.
    let key = ready_user(&cluster, "piet", a).await;

    // A session made on A works on B; log-out on A ends it on B.
    let (client, csrf) = to_code_page("piet", a).await;
    let next = app_code(&key, now() + 30);
    let done = send_code(&client, a, &csrf, &next).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        client
            .get(format!("{}/", b.address))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let csrf = csrf_from(&client, &format!("{}/", a.address)).await;
    post(&client, format!("{}/logout", a.address), &csrf, &[]).await;
    assert_eq!(
        client
            .get(format!("{}/", b.address))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER
    );

    // That step (now + 30 s) is spent on A, so B refuses it; and the same fresh code sent to
    // both at once logs in only one.
    let (on_b, csrf_b) = to_code_page("piet", b).await;
    let replay = send_code(&on_b, b, &csrf_b, &next).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    let mut sessions = Vec::new();
    for instance in [a, b, a, b] {
        sessions.push((
            to_code_page("piet", instance).await,
            instance.address.clone(),
        ));
    }
    tokio::time::sleep(Duration::from_secs((30 - now() % 30 + 1) as u64)).await;
    let fresh = app_code(&key, now() + 30);
    let answers = futures::future::join_all(sessions.iter().map(|((client, csrf), address)| {
        let fresh = &fresh;
        async move {
            post(
                client,
                format!("{address}/2fa/app/verify"),
                csrf,
                &[("code", fresh.as_str())],
            )
            .await
        }
    }))
    .await;
    let accepted = answers
        .iter()
        .filter(|r| r.status() == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(accepted, 1, "one step, one login, across instances");

    // Wrong codes are counted in the database: alternating instances, five end the session.
    let (client, csrf) = to_code_page("piet", a).await;
    for (i, instance) in [a, b, a, b].into_iter().enumerate() {
        let r = post(
            &client,
            format!("{}/2fa/app/verify", instance.address),
            &csrf,
            &[("code", "000000")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "wrong code {}", i + 1);
    }
    let fifth = post(
        &client,
        format!("{}/2fa/app/verify", b.address),
        &csrf,
        &[("code", "000000")],
    )
    .await;
    assert_eq!(fifth.headers()["location"], "/login?notice=too_many_codes");

    // The "Nieuwe code" limit is shared: a request on A, then at once on B, is refused.
    let path = cluster.invite("klaas");
    let client = browser();
    let url = format!("{}{path}", a.address);
    let csrf = csrf_from(&client, &url).await;
    post(
        &client,
        url,
        &csrf,
        &[("password", GOOD), ("password_repeat", GOOD)],
    )
    .await;
    let (client, csrf) = to_code_page("klaas", a).await;
    let again = post(&client, format!("{}/2fa/app/new", b.address), &csrf, &[]).await;
    assert!(
        again.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/2fa/app?notice=wait")
    );
}

#[tokio::test]
#[cfg_attr(
    not(test_postgres),
    ignore = "POORTWACHTER_TEST_POSTGRES_URL is not set"
)]
async fn one_outbox_drained_by_both_each_mail_sent_once_and_a_dead_senders_mail_is_sent() {
    let cluster = Cluster::start().await;
    let users: Vec<String> = (0..20).map(|i| format!("user{i}")).collect();
    for user in &users {
        cluster.invite(user);
    }
    for user in &users {
        cluster
            .smtp
            .wait_for(&format!("{user}@example.nl"), 1)
            .await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        cluster.smtp.received().len(),
        20,
        "each of the 20 mails once"
    );

    // A mail claimed by an instance that died mid-send: its lease runs out, another sends it.
    // The instances' own database URL (it selects their schema).
    let database_url = cluster
        .env
        .iter()
        .find(|(key, _)| key == "POORTWACHTER_DATABASE_URL")
        .map(|(_, url)| url.clone())
        .unwrap();
    let db = sqlx::PgPool::connect(&database_url).await.unwrap();
    let message = b"From: noreply@localhost\r\nTo: orphan@example.nl\r\nSubject: orphan\r\n\r\nclaimed by a crashed instance\r\n";
    sqlx::query(
        "INSERT INTO outbox (sender, recipient, message, created_at, attempts, next_attempt_at, lease_until) \
         VALUES ('noreply@localhost', 'orphan@example.nl', $1, $2, 1, $2, $3)",
    )
    .bind(&message[..])
    .bind(now())
    .bind(now() + 2)
    .execute(&db)
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(
        cluster
            .smtp
            .received()
            .iter()
            .all(|e| !e.to.contains(&"orphan@example.nl".to_owned())),
        "not while leased"
    );
    let orphan = cluster.smtp.wait_for("orphan@example.nl", 1).await;
    assert!(String::from_utf8_lossy(&orphan.data).contains("claimed by a crashed instance"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        cluster
            .smtp
            .received()
            .iter()
            .filter(|e| e.to.contains(&"orphan@example.nl".to_owned()))
            .count(),
        1
    );
}

/// RFC 4226 §7.3 across instances: 64 wrong codes at once, from 16 sessions spread over two
/// server processes, are counted in the shared database before they are checked; no more are
/// checked than the account may fail before its lock, however long the burst takes.
#[tokio::test]
#[cfg_attr(
    not(test_postgres),
    ignore = "POORTWACHTER_TEST_POSTGRES_URL is not set"
)]
async fn sixty_four_parallel_wrong_codes_across_two_instances_are_mostly_not_checked() {
    let cluster = Cluster::start_with_lockout("4").await;
    let (a, b) = (&cluster.a, &cluster.b);
    ready_user(&cluster, "jan", a).await;
    let mut sessions = Vec::new();
    for i in 0..16 {
        let via = if i % 2 == 0 { a } else { b };
        sessions.push((to_code_page("jan", via).await, via));
    }
    let guesses = (0..64).map(|i| {
        let ((client, csrf), _) = &sessions[i % 16];
        // Each guess goes to the other instance than the one its session was made on half
        // the time: the count is the database's, not a process's.
        let instance = if i % 4 < 2 { a } else { b };
        let code = format!("{:06}", 100_000 + i * 7919);
        async move { send_code(client, instance, csrf, &code).await.status() }
    });
    let answers = futures::future::join_all(guesses).await;
    let checked = answers
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = answers
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    // lockout_failures 4: two free failures, a wait after the third, a lock at the fourth.
    assert!(checked <= 4, "{checked} of 64 wrong codes were checked");
    assert_eq!(checked + refused, 64, "{answers:?}");

    // Both instances wrote the events as JSON lines; together they tell the same count.
    let lines: Vec<_> = ["a", "b"]
        .into_iter()
        .flat_map(|name| cluster.audit_lines(name))
        .filter(|l| l["event"] == "login_code" && l["username"] == "jan")
        .collect();
    let failures = lines.iter().filter(|l| l["outcome"] == "failure").count();
    let throttled = lines.iter().filter(|l| l["outcome"] == "throttled").count();
    assert_eq!((failures, throttled), (checked, refused));
    let audit = cluster.cli(&[
        "audit",
        "--org",
        "acme",
        "--username",
        "jan",
        "--limit",
        "1000",
        "--json",
    ]);
    let logged = audit
        .lines()
        .filter(|l| l.contains("\"login_code\"") && l.contains("\"throttled\""))
        .count();
    assert_eq!(logged, refused, "the audit command reads the same events");
}

/// Two instances seal one audit chain while a third process (the CLI) writes to it, and
/// deliver each webhook once between them; one killed with SIGKILL in the middle of its
/// deliveries loses none (the other takes them over when their lease ends).
#[tokio::test]
#[cfg_attr(
    not(test_postgres),
    ignore = "POORTWACHTER_TEST_POSTGRES_URL is not set"
)]
async fn two_instances_make_one_chain_and_deliver_each_webhook_once_even_when_one_is_killed() {
    use crate::common::webhook::{Answer, Receiver, signed_with};

    let mut cluster = Cluster::start().await;
    let receiver = Receiver::start().await;
    // Slow enough that instance A is killed with deliveries still to make.
    receiver.answer(Answer::Slow(Duration::from_millis(150)));
    let out = cluster.cli(&[
        "webhook",
        "add",
        "--org",
        "acme",
        "--url",
        &receiver.url,
        "--events",
        "user.invited",
    ]);
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .unwrap()
        .to_owned();
    for n in 0..12 {
        cluster.invite(&format!("user{n}"));
    }
    receiver.accepted(2).await;
    // SIGKILL: no shutdown, leases held.
    cluster.a.child.kill().unwrap();
    cluster.a.child.wait().unwrap();

    // Every event arrives (B takes A's over when their lease ends), however many twice.
    let distinct = |received: &[crate::common::webhook::Received]| {
        let mut ids: Vec<String> = received
            .iter()
            .filter(|r| r.accepted)
            .map(|r| r.id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids.len()
    };
    for _ in 0..1200 {
        if distinct(&receiver.received()) >= 12 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let accepted = receiver.accepted(12).await;
    let mut ids: Vec<&str> = accepted.iter().map(|r| r.id.as_str()).collect();
    let all = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 12, "every event, each at least once");
    // At most the one A was sending when it died comes twice (its webhook-id tells).
    assert!(all - ids.len() <= 1, "{all} deliveries for 12 events");
    assert!(accepted.iter().all(|r| signed_with(&secret, r)));

    // One chain, no forks, though two sealers and the CLI wrote at once.
    let verified = cluster.cli(&["audit", "verify"]);
    assert!(verified.contains("the audit chain is intact"), "{verified}");
}
