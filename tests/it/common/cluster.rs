//! Two real server processes on one PostgreSQL database, as behind a load balancer, and what
//! the tests do with them (tests/instances.rs, tests/oidc_instances.rs).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::{Client, StatusCode};

use super::smtp::SmtpSink;
use super::*;

pub const GOOD: &str = "Fiets-Sleutel-2024!";
pub const KEY: &str = "1:c2hhcmVkIGtleSBvZiBib3RoIGluc3RhbmNlcyEhISE=";

pub struct Instance {
    pub child: Child,
    pub address: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Cluster {
    pub a: Instance,
    pub b: Instance,
    pub env: Vec<(String, String)>,
    pub smtp: SmtpSink,
    pub schema: String,
    pub _data: tempfile::TempDir,
    /// Two server processes load the machine: no timing test runs beside them.
    pub _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Stop both instances before their schema goes.
        for instance in [&mut self.a, &mut self.b] {
            let _ = instance.child.kill();
            let _ = instance.child.wait();
        }
        drop_schema(self.schema.clone());
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Cluster {
    pub async fn start() -> Cluster {
        Cluster::start_with_lockout("100").await
    }

    /// Two instances whose accounts lock after `lockout_failures` failed attempts.
    pub async fn start_with_lockout(lockout_failures: &str) -> Cluster {
        let turn = machine_to_myself().await;
        poortwachter::tls::install_provider();
        let (schema, database_url) = postgres_schema().await;
        let smtp = SmtpSink::start().await;
        let data = tempfile::tempdir().unwrap();
        let env: Vec<(String, String)> = [
            ("POORTWACHTER_DATABASE_URL", database_url.as_str()),
            ("POORTWACHTER_SMTP_URL", &smtp.url()),
            ("POORTWACHTER_PUBLIC_URL", PUBLIC_URL),
            ("POORTWACHTER_TOTP_KEY", KEY),
            ("POORTWACHTER_OUTBOX_POLL_MS", "100"),
            ("POORTWACHTER_ARGON2_MEMORY_KIB", "1024"),
            ("POORTWACHTER_ARGON2_ITERATIONS", "1"),
            ("POORTWACHTER_LOCKOUT_FAILURES", lockout_failures),
            ("POORTWACHTER_ADDRESS_LOCKOUT_FAILURES", "100000"),
            // Webhooks to a receiver on loopback (the tests'), sealed and sent quickly.
            ("POORTWACHTER_DEV_MODE", "true"),
            ("POORTWACHTER_AUDIT_SEAL_MS", "100"),
            ("POORTWACHTER_WEBHOOK_POLL_MS", "100"),
            ("POORTWACHTER_WEBHOOK_TIMEOUT_SECONDS", "2"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        // Both start at once: the migrations run once, under PostgreSQL's advisory lock.
        let cluster_env = env.clone();
        let start = |name: &str| {
            let port = free_port();
            let folder = data.path().join(name);
            std::fs::create_dir_all(&folder).unwrap();
            let child = Command::new(env!("CARGO_BIN_EXE_poortwachter"))
                .arg("serve")
                .envs(cluster_env.iter().cloned())
                .env("POORTWACHTER_BIND", format!("127.0.0.1:{port}"))
                .env("POORTWACHTER_DATA_DIR", &folder)
                .env("RUST_LOG", "warn")
                // Audit events, one JSON object per line.
                .stdout(std::fs::File::create(data.path().join(format!("{name}.audit"))).unwrap())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap();
            Instance {
                child,
                address: format!("http://127.0.0.1:{port}"),
            }
        };
        let cluster = Cluster {
            a: start("a"),
            b: start("b"),
            env,
            smtp,
            schema,
            _data: data,
            _turn: turn,
        };
        for instance in [&cluster.a, &cluster.b] {
            wait_until_ready(&instance.address).await;
        }
        cluster.cli(&["org", "create", "--slug", "acme", "--name", "Acme"]);
        cluster
    }

    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new(env!("CARGO_BIN_EXE_poortwachter"))
            .args(args)
            .envs(self.env.iter().cloned())
            .env("POORTWACHTER_DATA_DIR", self._data.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// The audit lines instance `name` ("a" or "b") wrote on stdout so far.
    pub fn audit_lines(&self, name: &str) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self._data.path().join(format!("{name}.audit")))
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
            .collect()
    }

    /// Invites `username` and returns the activation path.
    pub fn invite(&self, username: &str) -> String {
        invite_with(|args| self.cli(args), username)
    }
}

/// Invites `username@example.nl` into `acme` with the `cli` given, and returns the
/// activation path the command printed.
pub fn invite_with(cli: impl Fn(&[&str]) -> String, username: &str) -> String {
    let email = format!("{username}@example.nl");
    let out = cli(&[
        "user",
        "invite",
        "--org",
        "acme",
        "--username",
        username,
        "--email",
        &email,
        "--name",
        username,
    ]);
    let link = out
        .lines()
        .find_map(|l| l.strip_prefix("activation link: "))
        .unwrap();
    link[PUBLIC_URL.len()..].to_owned()
}

pub async fn wait_until_ready(address: &str) {
    for _ in 0..100 {
        if let Ok(response) = reqwest::get(format!("{address}/readyz")).await
            && response.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("instance {address} did not become ready");
}

pub async fn csrf_from(client: &Client, url: &str) -> String {
    csrf_of(&client.get(url).send().await.unwrap().text().await.unwrap())
}

pub async fn post(
    client: &Client,
    url: String,
    csrf: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    client.post(url).form(&form).send().await.unwrap()
}

/// Follows the activation `path` on the server at `address` and saves the password (OPSLAAN).
pub async fn activate_at(address: &str, path: &str) {
    let client = browser();
    let url = format!("{address}{path}");
    let csrf = csrf_from(&client, &url).await;
    let done = post(
        &client,
        url,
        &csrf,
        &[("password", GOOD), ("password_repeat", GOOD)],
    )
    .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
}

/// Activates `username` through instance `via`, sets up the app there, logs in once; returns
/// the authenticator key from the set-up e-mail.
pub async fn ready_user(cluster: &Cluster, username: &str, via: &Instance) -> String {
    activate_at(&via.address, &cluster.invite(username)).await;
    let (client, csrf) = to_code_page(username, via).await;
    let recipient = format!("{username}@example.nl");
    let mut number = 1;
    let setup = loop {
        let envelope = cluster.smtp.wait_for(&recipient, number).await;
        let parsed = mail_parser::MessageParser::default()
            .parse(&envelope.data)
            .unwrap();
        if parsed.attachment_count() > 0 || parsed.parts.iter().any(|p| p.is_binary()) {
            break parsed.body_text(0).unwrap().to_string();
        }
        number += 1;
    };
    let key = setup
        .lines()
        .find_map(|l| l.trim().strip_prefix("Aanvraagcode: "))
        .unwrap()
        .replace(' ', "");
    let code = app_code(&key, now());
    let done = send_code(&client, via, &csrf, &code).await;
    assert_eq!(location(&done), "/account/recovery-codes");
    // The herstelcodes confirmed as saved (VERDER), or every later login asks for them again.
    let page = format!("{}/account/recovery-codes", via.address);
    let csrf = csrf_from(&client, &page).await;
    let saved = post(&client, format!("{page}/saved"), &csrf, &[("saved", "yes")]).await;
    assert_eq!(location(&saved), "/");
    key
}

/// Types `code` on the code page of `instance` (INLOGGEN).
pub async fn send_code(
    client: &Client,
    instance: &Instance,
    csrf: &str,
    code: &str,
) -> reqwest::Response {
    post(
        client,
        format!("{}/2fa/app/verify", instance.address),
        csrf,
        &[("code", code)],
    )
    .await
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A browser that typed the password on `via` and chose AUTHENTICATOR APP.
pub async fn to_code_page(username: &str, via: &Instance) -> (Client, String) {
    let client = browser();
    let csrf = csrf_from(&client, &format!("{}/login", via.address)).await;
    let login = post(
        &client,
        format!("{}/login", via.address),
        &csrf,
        &[("username", username), ("password", GOOD)],
    )
    .await;
    assert_eq!(login.headers()["location"], "/2fa");
    let chosen = post(&client, format!("{}/2fa/app", via.address), &csrf, &[]).await;
    assert_eq!(chosen.status(), StatusCode::SEE_OTHER);
    (client, csrf)
}
