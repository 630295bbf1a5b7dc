//! Test harness: each test starts the real server on a random port with its own temporary
//! SQLite database and its own SMTP server, and talks to it over HTTP like a browser would.
#![allow(dead_code)]

pub mod api;
pub mod cluster;
pub mod oidc;
pub mod passkey;
pub mod proxy;
pub mod recovery;
pub mod smtp;
pub mod webhook;

use std::sync::Arc;

use mail_parser::{MessageParser, MimeHeaders};
use poortwachter::App;
use poortwachter::admin::{Admin, Invited};
pub use poortwachter::clock::Clock;
use poortwachter::clock::ManualClock;
use poortwachter::config::Settings;
use poortwachter::domain::lang::Lang;
use poortwachter::domain::password::{CharacterClasses, PasswordPolicy};
use poortwachter::store::Store;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{Client, Response, StatusCode};
use smtp::SmtpSink;
use tempfile::TempDir;

/// Links in e-mails are built from this, never from the address the test connects to.
pub const PUBLIC_URL: &str = "http://localhost";

/// The authenticator app of the tests: the key from the e-mail, and codes made by an
/// implementation independent of the service's own (totp-lite).
pub fn app_code(base32_key: &str, unix_seconds: i64) -> String {
    let key = data_encoding::BASE32_NOPAD
        .decode(base32_key.as_bytes())
        .expect("Base32 key");
    totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, &key, unix_seconds as u64)
}

/// The Base32 key from an otpauth URI.
pub fn uri_secret(uri: &str) -> String {
    let query = uri.split_once('?').expect("a query").1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("secret="))
        .expect("a secret parameter")
        .to_owned()
}

pub struct TestApp {
    pub address: String,
    /// `http://host:port` of the metrics listener, when `metrics_bind` was set.
    pub metrics: Option<String>,
    pub admin: Admin,
    pub store: Arc<dyn Store>,
    pub signing_keys: Arc<poortwachter::signing_keys::Keys>,
    /// The audit chain (seal, checkpoint, verify, prune).
    pub evidence: poortwachter::evidence::Evidence,
    pub clock: Arc<ManualClock>,
    pub smtp: SmtpSink,
    pub client: Client,
    pub settings: Settings,
    /// The authenticator keys users have set up, by username.
    pub keys: std::sync::Mutex<std::collections::HashMap<String, String>>,
    /// The herstelcodes users were shown and have not used yet, by username.
    pub recovery_codes: std::sync::Mutex<std::collections::HashMap<String, Vec<String>>>,
    pub backend: Backend,
    schema: Option<String>,
    _data: TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(schema) = self.schema.take() {
            drop_schema(schema);
        }
    }
}

pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub raw: Vec<u8>,
    /// Inline parts: (Content-ID, content type, bytes).
    pub inline: Vec<(String, String, Vec<u8>)>,
}

impl Mail {
    fn parse(raw: Vec<u8>) -> Mail {
        let parsed = MessageParser::default()
            .parse(&raw)
            .expect("a MIME message");
        Mail {
            subject: parsed.subject().unwrap_or_default().to_owned(),
            text: parsed
                .body_text(0)
                .map(|t| t.into_owned())
                .unwrap_or_default(),
            html: parsed
                .body_html(0)
                .map(|t| t.into_owned())
                .unwrap_or_default(),
            inline: parsed
                .parts
                .iter()
                .filter_map(|part| {
                    let cid = part.content_id()?.to_owned();
                    let ct = part.content_type()?;
                    let kind = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or(""));
                    Some((cid, kind, part.contents().to_vec()))
                })
                .collect(),
            raw,
        }
    }

    /// Decodes the QR image of a set-up mail (independently of the service: rqrr) to the
    /// otpauth URI it carries.
    pub fn qr_uri(&self) -> String {
        let (_, kind, png_bytes) = self.inline.first().expect("an inline image");
        assert_eq!(kind, "image/png");
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes.clone()));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        let (w, h) = (info.width as usize, info.height as usize);
        let channels = info.line_size / w;
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
            pixels[y * info.line_size + x * channels]
        });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code");
        grids[0].decode().unwrap().1
    }

    /// The setup code as the text part shows it ("ABCD EFGH …"), without the spaces.
    pub fn text_key(&self) -> String {
        let line = self
            .text
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("Aanvraagcode: ")
                    .or_else(|| l.trim().strip_prefix("Setup code: "))
            })
            .expect("a setup code line");
        line.replace(' ', "")
    }

    /// The path of the first link to this service in the plain-text part.
    pub fn link_path(&self) -> String {
        let start = self.text.find(PUBLIC_URL).expect("a link to the service");
        let link: String = self.text[start..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        link[PUBLIC_URL.len()..].to_owned()
    }
}

/// Cheap hashing keeps the suite fast; the tests that measure timing use the real defaults.
pub fn test_settings(data: &TempDir) -> Settings {
    Settings {
        bind: "127.0.0.1:0".parse().unwrap(),
        public_url: PUBLIC_URL.parse().unwrap(),
        data_dir: data.path().to_owned(),
        database_url: None,
        smtp_url: None,
        argon2_memory_kib: 1024,
        argon2_iterations: 1,
        outbox_poll_ms: 100,
        // Tests of other things make many quick failed attempts from one address; the
        // throttle's own tests set these back to the defaults.
        lockout_failures: 100,
        address_lockout_failures: 100_000,
        ..Settings::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The database a test runs on. One suite, two stores: `store_tests!` runs each test on
/// both; the PostgreSQL runs are reported as ignored where `POORTWACHTER_TEST_POSTGRES_URL`
/// is not set (see `build.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

tokio::task_local! {
    pub static BACKEND: Backend;
}

/// One binary runs every test side by side. Tests that measure time (the timing side-channel
/// checks) and tests that load the machine (server processes, login floods) take turns
/// through this, so a flood's CPU never shows up as a timing difference; ordinary tests do
/// not take it. Held for the test's (or the cluster's) lifetime.
pub async fn machine_to_myself() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

pub const POSTGRES_ENV: &str = "POORTWACHTER_TEST_POSTGRES_URL";

/// A fresh schema in the test PostgreSQL database, and the URL that uses it.
pub async fn postgres_schema() -> (String, String) {
    let base = std::env::var(POSTGRES_ENV).expect("set (see build.rs)");
    let schema = format!("pw_test_{:016x}", rand::random::<u64>());
    let admin = sqlx::PgPool::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("{POSTGRES_ENV}={base}: cannot connect: {e}"));
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let separator = if base.contains('?') { '&' } else { '?' };
    // The schema's name is also the connections' application name, so that dropping it can
    // end connections of a server still running (see drop_schema).
    let url =
        format!("{base}{separator}options=-c%20search_path%3D{schema}&application_name={schema}");
    (schema, url)
}

/// Removes a test schema (from a thread of its own: it runs from `Drop`).
pub fn drop_schema(schema: String) {
    let Ok(base) = std::env::var(POSTGRES_ENV) else {
        return;
    };
    let _ = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            if let Ok(pool) = sqlx::PgPool::connect(&base).await {
                // The test's server may still hold a transaction open (its tasks run on the
                // test's runtime, which waits here): end its connections first.
                let _ = sqlx::query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                )
                .bind(&schema)
                .execute(&pool)
                .await;
                let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .execute(&pool)
                    .await;
            }
        });
    })
    .join();
}

/// Runs each test once on SQLite and once on PostgreSQL (when configured), as
/// `<test>::sqlite` and `<test>::postgres`.
#[macro_export]
macro_rules! store_tests {
    ($( $(#[$meta:meta])* async fn $name:ident() $body:block )*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                #[tokio::test]
                async fn sqlite() {
                    $crate::common::BACKEND
                        .scope($crate::common::Backend::Sqlite, async $body)
                        .await
                }

                #[tokio::test]
                #[cfg_attr(not(test_postgres), ignore = "POORTWACHTER_TEST_POSTGRES_URL is not set")]
                async fn postgres() {
                    $crate::common::BACKEND
                        .scope($crate::common::Backend::Postgres, async $body)
                        .await
                }
            }
        )*
    };
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let data = tempfile::tempdir().unwrap();
    let smtp = SmtpSink::start().await;
    let mut settings = test_settings(&data);
    settings.smtp_url = Some(smtp.url().into());
    let backend = BACKEND.try_with(|b| *b).unwrap_or(Backend::Sqlite);
    let mut schema = None;
    if backend == Backend::Postgres {
        let (name, url) = postgres_schema().await;
        settings.database_url = Some(url);
        schema = Some(name);
    }
    configure(&mut settings);
    let clock = ManualClock::starting_now();
    let app = App::build_with_clock(settings.clone(), clock.clone())
        .await
        .expect("app builds");
    let address = format!("http://{}", app.local_addr());
    let metrics = app.metrics_addr().map(|a| format!("http://{a}"));
    let admin = app.admin();
    let store = app.store();
    let keys = app.keys();
    let evidence = app.evidence();
    tokio::spawn(app.run());
    TestApp {
        address,
        metrics,
        admin,
        store,
        signing_keys: keys,
        evidence,
        clock,
        smtp,
        client: browser(),
        settings,
        keys: Default::default(),
        recovery_codes: Default::default(),
        backend,
        schema,
        _data: data,
    }
}

/// An HTTP client with its own cookie jar that does not follow redirects, so tests see them.
pub fn browser() -> Client {
    poortwachter::tls::install_provider();
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn strict_policy() -> PasswordPolicy {
    let all = CharacterClasses {
        lowercase: true,
        uppercase: true,
        digit: true,
        symbol: true,
    };
    PasswordPolicy::new(14, 64, all).unwrap()
}

pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a form with a csrf field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

pub fn location(response: &Response) -> String {
    response.headers()[LOCATION].to_str().unwrap().to_owned()
}

pub fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The value of cookie `name` from a response's Set-Cookie headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    set_cookies(headers).iter().find_map(|c| {
        c.strip_prefix(&format!("{name}="))
            .map(|rest| rest.split(';').next().unwrap().to_owned())
    })
}

impl TestApp {
    /// A direct connection to the test's database (either store), for checking what is
    /// stored and for simulating what the HTTP flow cannot (a crashed instance).
    pub async fn db(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.settings.database_url())
            .await
            .unwrap()
    }

    /// The PHC string stored for `username`, if a password was set.
    pub async fn password_hash(&self, username: &str) -> Option<String> {
        sqlx::query_scalar("SELECT password_hash FROM users WHERE username = $1")
            .bind(username)
            .fetch_one(&self.db().await)
            .await
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn create_org(&self, slug: &str, lang: Lang, policy: PasswordPolicy) {
        let name = format!("Organisatie {slug}");
        self.admin
            .create_organization(slug, &name, lang, policy)
            .await
            .unwrap();
    }

    pub async fn invite(&self, org: &str, username: &str) -> Invited {
        let email = format!("{username}@example.nl");
        self.admin
            .invite(org, username, &email, &format!("Gebruiker {username}"))
            .await
            .unwrap()
    }

    /// The usernames of the organization's users, sorted.
    pub async fn usernames(&self, org: &str) -> Vec<String> {
        let users = self.admin.users(org).await.unwrap();
        let mut names: Vec<String> = users.into_iter().map(|u| u.username).collect();
        names.sort();
        names
    }

    /// Waits until every queued mail has reached the SMTP sink (the outbox is empty), so
    /// that counting received mail is not raced by a notice still on its way.
    pub async fn mail_settled(&self) {
        for _ in 0..200 {
            if self.store.outbox_len().await.unwrap() == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the outbox did not empty in 5 s");
    }

    /// The subjects of every mail `username@example.nl` received so far (the outbox emptied).
    pub async fn subjects_to(&self, username: &str) -> Vec<String> {
        self.mail_settled().await;
        let recipient = format!("{username}@example.nl");
        self.smtp
            .received()
            .into_iter()
            .filter(|e| e.to.contains(&recipient))
            .map(|e| Mail::parse(e.data).subject)
            .collect()
    }

    /// Waits for the `count`-th mail to `username@example.nl` and parses it.
    pub async fn mail_to(&self, username: &str, count: usize) -> Mail {
        let envelope = self
            .smtp
            .wait_for(&format!("{username}@example.nl"), count)
            .await;
        Mail::parse(envelope.data)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.get_with(&self.client, path).await
    }

    pub async fn get_with(&self, client: &Client, path: &str) -> Response {
        client.get(self.url(path)).send().await.unwrap()
    }

    /// The status and text of the page at `path`, opened with `client`.
    pub async fn page_with(&self, client: &Client, path: &str) -> (StatusCode, String) {
        let response = self.get_with(client, path).await;
        (response.status(), response.text().await.unwrap())
    }

    /// Opens `page`, then posts `fields` to `action` with the page's CSRF token, as a browser
    /// submitting the form would.
    pub async fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Response {
        self.submit_with(&self.client, page, action, fields).await
    }

    pub async fn submit_with(
        &self,
        client: &Client,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let html = self.get_with(client, page).await.text().await.unwrap();
        self.post_with(client, action, &csrf_of(&html), fields)
            .await
    }

    /// Follows the invitation link and saves `password` (OPSLAAN).
    pub async fn activate(&self, link_path: &str, password: &str) -> Response {
        self.submit(
            link_path,
            link_path,
            &[("password", password), ("password_repeat", password)],
        )
        .await
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.login_with(&self.client, username, password).await
    }

    pub async fn login_with(&self, client: &Client, username: &str, password: &str) -> Response {
        self.submit_with(
            client,
            "/login",
            "/login",
            &[("username", username), ("password", password)],
        )
        .await
    }

    /// Status and page of a failed login from a fresh browser, with the echoed username and
    /// the CSRF token taken out: what must be identical for every kind of failure.
    pub async fn failed_login(&self, username: &str, password: &str) -> (StatusCode, String) {
        let response = self.login_with(&browser(), username, password).await;
        let status = response.status();
        let html = response.text().await.unwrap();
        let csrf = csrf_of(&html);
        let normalized = html
            .replace(&format!("value=\"{username}\""), "value=\"USERNAME\"")
            .replace(&csrf, "CSRF");
        (status, normalized)
    }

    /// Organization `org` with the default policy, and `username` invited, activated with
    /// `password`: the state every login test starts from.
    pub async fn active_user(&self, org: &str, username: &str, password: &str) {
        if self.admin.organization(org).await.is_err() {
            self.create_org(org, Lang::Nl, PasswordPolicy::default())
                .await;
        }
        let invited = self.invite(org, username).await;
        let path = &invited.link[PUBLIC_URL.len()..];
        let response = self.activate(path, password).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "activation of {username}"
        );
    }

    /// The first set-up mail (the one with the QR image) after the `count`-th mail.
    pub async fn setup_mail_after(&self, username: &str, count: usize) -> Mail {
        let mut number = count + 1;
        loop {
            let mail = self.mail_to(username, number).await;
            if !mail.inline.is_empty() {
                return mail;
            }
            number += 1;
        }
    }

    /// A form post with a CSRF token the client already has (from any page it loaded).
    pub async fn post_with(
        &self,
        client: &Client,
        action: &str,
        csrf: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let mut form: Vec<(&str, &str)> = vec![("csrf", csrf)];
        form.extend_from_slice(fields);
        client
            .post(self.url(action))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// After the password: AUTHENTICATOR APP. Returns the code page's HTML.
    pub async fn choose_app_with(&self, client: &Client) -> String {
        let chosen = self.submit_with(client, "/2fa", "/2fa/app", &[]).await;
        assert_eq!(
            chosen.status(),
            StatusCode::SEE_OTHER,
            "AUTHENTICATOR APP chosen"
        );
        let page = self.get_with(client, &location(&chosen)).await;
        assert_eq!(page.status(), StatusCode::OK);
        page.text().await.unwrap()
    }

    /// Types `code` on the code page (INLOGGEN).
    pub async fn send_code_with(&self, client: &Client, code: &str) -> Response {
        self.submit_with(client, "/2fa/app", "/2fa/app/verify", &[("code", code)])
            .await
    }

    /// The whole login of an active user: password, AUTHENTICATOR APP, and a code from the
    /// app. On the first login the app is set up from the e-mail (QR decoded, key checked).
    /// The clock moves to the next period when the current one was already used. Where the
    /// login went on to: `/`, or the waiting `/authorize?…` of an application.
    pub async fn full_login_with(&self, client: &Client, username: &str, password: &str) -> String {
        let response = self.login_with(client, username, password).await;
        assert_eq!(location(&response), "/2fa", "password accepted");
        let known = self.keys.lock().unwrap().get(username).cloned();
        let recipient = format!("{username}@example.nl");
        let mails_before = self
            .smtp
            .received()
            .iter()
            .filter(|e| e.to.contains(&recipient))
            .count();
        let html = self.choose_app_with(client).await;
        let key = match known {
            Some(key) => key,
            None => {
                assert!(
                    html.contains("Nieuwe code") || html.contains("New code"),
                    "set-up page"
                );
                let mail = self.setup_mail_after(username, mails_before).await;
                let key = uri_secret(&mail.qr_uri());
                assert_eq!(key, mail.text_key(), "QR and text carry the same key");
                self.keys
                    .lock()
                    .unwrap()
                    .insert(username.to_owned(), key.clone());
                key
            }
        };
        let mut code = app_code(&key, self.clock.now());
        let mut response = self.send_code_with(client, &code).await;
        if response.status() == StatusCode::UNAUTHORIZED {
            // This period's code was used by an earlier login of the test: take the next one.
            self.clock.advance(30);
            code = app_code(&key, self.clock.now());
            response = self.send_code_with(client, &code).await;
        }
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "code accepted");
        let mut next = location(&response);
        if next == "/account/recovery-codes" {
            // The end of the first set-up: the herstelcodes are shown and confirmed.
            next = self.save_recovery_codes_with(client, username).await;
        }
        assert!(next == "/" || next.starts_with("/authorize?"), "{next}");
        next
    }

    pub async fn full_login(&self, username: &str, password: &str) {
        self.full_login_with(&self.client, username, password).await;
    }
}
