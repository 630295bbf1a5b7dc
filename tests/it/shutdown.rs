//! SIGTERM to the real server in the middle of a login flood, while the outbox is sending:
//! every request that was accepted is answered, no mail is lost or sent twice, and mail the
//! outbox had claimed but not sent is handed back, so the next start sends it at once (not
//! after its two-minute lease).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::cluster::{
    GOOD, activate_at, csrf_from, free_port, invite_with, wait_until_ready,
};
use crate::common::smtp::SmtpSink;
use crate::common::*;
use reqwest::StatusCode;

struct Server {
    child: Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn env(data: &std::path::Path, smtp: &SmtpSink) -> Vec<(&'static str, String)> {
    vec![
        ("POORTWACHTER_DATA_DIR", data.display().to_string()),
        ("POORTWACHTER_SMTP_URL", smtp.url()),
        ("POORTWACHTER_PUBLIC_URL", PUBLIC_URL.into()),
        ("POORTWACHTER_OUTBOX_POLL_MS", "100".into()),
        // One hashing worker with the production settings: logins queue up and stay in
        // flight long enough for the signal to find them there.
        ("POORTWACHTER_HASH_WORKERS", "1".into()),
        ("POORTWACHTER_HASH_QUEUE", "1000".into()),
        ("POORTWACHTER_ADDRESS_LOCKOUT_FAILURES", "100000".into()),
        // Parallel logins each hold a place in the account throttle until they are checked.
        ("POORTWACHTER_LOCKOUT_FAILURES", "100".into()),
    ]
}

async fn start(data: &std::path::Path, smtp: &SmtpSink) -> Server {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_poortwachter"))
        .arg("serve")
        .envs(env(data, smtp))
        .env("POORTWACHTER_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let server = Server {
        child,
        address: format!("http://127.0.0.1:{port}"),
    };
    wait_until_ready(&server.address).await;
    server
}

fn cli(data: &std::path::Path, smtp: &SmtpSink, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_poortwachter"))
        .args(args)
        .envs(env(data, smtp))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn invite(data: &std::path::Path, smtp: &SmtpSink, username: &str) -> String {
    invite_with(|args| cli(data, smtp, args), username)
}

fn mails_to(smtp: &SmtpSink, username: &str) -> usize {
    let recipient = format!("{username}@example.nl");
    smtp.received()
        .iter()
        .filter(|e| e.to.contains(&recipient))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_login_flood_loses_no_accepted_request_and_no_mail() {
    let _turn = machine_to_myself().await;
    poortwachter::tls::install_provider();
    let data = tempfile::tempdir().unwrap();
    let smtp = SmtpSink::start().await;
    let mut server = start(data.path(), &smtp).await;
    cli(
        data.path(),
        &smtp,
        &["org", "create", "--slug", "acme", "--name", "Acme"],
    );
    let users: Vec<String> = (0..6).map(|i| format!("actief{i}")).collect();
    for user in &users {
        activate_at(&server.address, &invite(data.path(), &smtp, user)).await;
    }

    // A slow mail server, and invitations queued: the outbox is mid-batch at the signal.
    smtp.set_delay(Duration::from_millis(300));
    let late: Vec<String> = (0..10).map(|i| format!("laat{i}")).collect();
    for user in &late {
        invite(data.path(), &smtp, user);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The flood: each login on a connection of its own, all sent before the signal.
    let mut ready = Vec::new();
    for i in 0..40 {
        let client = browser();
        let csrf = csrf_from(&client, &format!("{}/login", server.address)).await;
        ready.push((client, csrf, users[i % users.len()].clone()));
    }
    let answered = Arc::new(AtomicUsize::new(0));
    let mut flood = Vec::new();
    for (client, csrf, user) in ready {
        let url = format!("{}/login", server.address);
        let answered = answered.clone();
        flood.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("username", &user),
                    ("password", GOOD),
                ])
                .send()
                .await;
            answered.fetch_add(1, Ordering::SeqCst);
            response
        }));
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    let signalled = Instant::now();
    let pid = libc::pid_t::try_from(server.child.id()).unwrap();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let in_flight = 40 - answered.load(Ordering::SeqCst);
    assert!(in_flight > 0, "the signal came while logins were in flight");

    for task in flood {
        let response = task
            .await
            .unwrap()
            .expect("an accepted request is answered");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/2fa");
    }
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(30),
            "the server stops within its grace period"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");
    assert!(
        reqwest::get(format!("{}/healthz", server.address))
            .await
            .is_err(),
        "no new connections"
    );

    // What the outbox had not sent is handed back: no lease left on any queued mail.
    let sent_before = late.iter().filter(|u| mails_to(&smtp, u) > 0).count();
    assert!(sent_before < late.len(), "the signal came mid-batch");
    let db = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}/poortwachter.db",
        data.path().display()
    ))
    .await
    .unwrap();
    let (queued, leased): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(lease_until) FROM outbox")
            .fetch_one(&db)
            .await
            .unwrap();
    db.close().await;
    assert_eq!(queued as usize, late.len() - sent_before);
    assert_eq!(leased, 0, "every unsent mail was handed back");

    // The next start sends the rest at once, and nothing twice.
    smtp.set_delay(Duration::ZERO);
    let restarted = Instant::now();
    let _server = start(data.path(), &smtp).await;
    for user in &late {
        smtp.wait_for(&format!("{user}@example.nl"), 1).await;
    }
    assert!(
        restarted.elapsed() < Duration::from_secs(20),
        "not after the lease"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    for user in late.iter().chain(&users) {
        assert_eq!(mails_to(&smtp, user), 1, "{user}: exactly one invitation");
    }
}
