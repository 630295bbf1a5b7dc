//! The command line as an administrator uses it: the real binary, its own data folder.

use std::process::{Command, Output};

fn poortwachter(dir: &tempfile::TempDir, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_poortwachter"))
        .args(args)
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .env("POORTWACHTER_PUBLIC_URL", "https://login.example.nl")
        .output()
        .unwrap()
}

/// A data folder with a database in it, as `poortwachter init` (or a first `serve`) leaves it.
fn initialised() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    stdout(&poortwachter(&dir, &["init"]));
    dir
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn administrator_creates_an_organization_sets_its_policy_and_invites() {
    let dir = initialised();
    let created = stdout(&poortwachter(
        &dir,
        &[
            "org",
            "create",
            "--slug",
            "acme",
            "--name",
            "Acme B.V.",
            "--min-length",
            "14",
            "--require-digit",
        ],
    ));
    assert!(created.contains("min-length         14"), "{created}");
    assert!(created.contains("require-digit      true"), "{created}");

    let set = stdout(&poortwachter(
        &dir,
        &[
            "org",
            "policy",
            "set",
            "--org",
            "acme",
            "--require-symbol",
            "--require-digit",
            "false",
        ],
    ));
    assert!(
        set.contains("require-symbol     true") && set.contains("require-digit      false"),
        "{set}"
    );
    assert!(
        set.contains("min-length         14"),
        "unchanged options keep their value"
    );
    let shown = stdout(&poortwachter(
        &dir,
        &["org", "policy", "show", "--org", "acme"],
    ));
    assert_eq!(shown, set);

    let invited = stdout(&poortwachter(
        &dir,
        &[
            "user",
            "invite",
            "--org",
            "acme",
            "--username",
            "Jan",
            "--email",
            "jan@example.nl",
            "--name",
            "Jan de Vries",
        ],
    ));
    assert!(
        invited.contains("activation link: https://login.example.nl/invite/"),
        "{invited}"
    );
    let listed = stdout(&poortwachter(&dir, &["user", "list", "--org", "acme"]));
    assert!(
        listed.contains("jan") && listed.contains("invited") && listed.contains("Jan de Vries"),
        "{listed}"
    );
    // No server runs here to send it: the invitation mail is still in the outbox, and the
    // list says so instead of suggesting it went out.
    let jan = listed.lines().find(|l| l.starts_with("jan")).unwrap();
    assert!(jan.trim_end().ends_with("queued"), "{listed}");
    assert!(
        dir.path().join("data/poortwachter.db").exists(),
        "SQLite in the local data folder"
    );
}

#[test]
fn mistakes_get_a_clear_message_and_a_failing_exit_code() {
    let dir = initialised();
    let bad_policy = poortwachter(
        &dir,
        &[
            "org",
            "create",
            "--slug",
            "acme",
            "--name",
            "Acme",
            "--min-length",
            "4",
        ],
    );
    assert!(!bad_policy.status.success());
    assert!(String::from_utf8_lossy(&bad_policy.stderr).contains("min-length must be at least 8"));

    let unknown = poortwachter(&dir, &["user", "list", "--org", "nope"]);
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("no organization with slug \"nope\"")
    );

    let bad_setting = Command::new(env!("CARGO_BIN_EXE_poortwachter"))
        .args(["user", "list", "--org", "acme"])
        .current_dir(dir.path())
        .env("POORTWACHTER_ARGON2_ITERATIONS", "many")
        .output()
        .unwrap();
    assert_eq!(bad_setting.status.code(), Some(2));
    let message = String::from_utf8_lossy(&bad_setting.stderr).to_lowercase();
    assert!(
        message.contains("poortwachter_") && message.contains("argon2_iterations"),
        "{message}"
    );

    let missing_file = poortwachter(
        &dir,
        &["--config", "nope.toml", "user", "list", "--org", "x"],
    );
    assert_eq!(missing_file.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing_file.stderr).contains("nope.toml"));
}

/// The development mailbox shows every e-mail (TOTP set-up keys too) to whoever can reach
/// the server: on anything but loopback the server will not start with it by accident.
/// Client ids are random base64url: one that starts with '-' is still an id, not an option.
#[test]
fn a_client_id_that_starts_with_a_hyphen_is_an_id() {
    let dir = initialised();
    for command in ["show", "rotate-secret", "remove"] {
        let output = poortwachter(&dir, &["client", command, "-u8Xk3"]);
        assert!(!output.status.success());
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(message.contains("-u8Xk3"), "{command}: {message}");
        assert!(
            !message.contains("unexpected argument"),
            "{command}: {message}"
        );
    }
}

#[test]
fn the_dev_mailbox_is_not_served_beyond_loopback_unless_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let exposed = Command::new(env!("CARGO_BIN_EXE_poortwachter"))
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .env("POORTWACHTER_BIND", "0.0.0.0:0")
        .output()
        .unwrap();
    assert_eq!(exposed.status.code(), Some(2));
    let message = String::from_utf8_lossy(&exposed.stderr);
    assert!(
        message.contains("smtp_url") && message.contains("dev_mode"),
        "{message}"
    );
    assert!(
        !dir.path().join("data").exists(),
        "refused before anything was created"
    );
}

#[test]
fn a_database_that_cannot_be_opened_is_named() {
    let dir = initialised();
    let output = Command::new(env!("CARGO_BIN_EXE_poortwachter"))
        .args(["user", "list", "--org", "acme"])
        .current_dir(dir.path())
        .env(
            "POORTWACHTER_DATABASE_URL",
            "sqlite:///nonexistent-folder/x/db.sqlite",
        )
        .output()
        .unwrap();
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("database_url") && message.contains("nonexistent-folder"),
        "{message}"
    );
}

#[test]
fn every_command_has_help() {
    let dir = initialised();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["org", "create", "--help"],
        vec!["org", "policy", "set", "--help"],
        vec!["user", "invite", "--help"],
        vec!["user", "list", "--help"],
        vec!["user", "unlock", "--help"],
        vec!["user", "disable", "--help"],
        vec!["user", "enable", "--help"],
        vec!["user", "sessions", "--help"],
        vec!["audit", "--help"],
        vec!["user", "grant-admin", "--help"],
        vec!["user", "revoke-admin", "--help"],
        vec!["openapi", "--help"],
    ] {
        let out = stdout(&poortwachter(&dir, &args));
        assert!(out.contains("Usage:"), "{args:?}");
    }
}

#[test]
fn administrator_unlocks_disables_ends_sessions_and_reads_the_audit_log() {
    let dir = initialised();
    let run = |args: &[&str]| stdout(&poortwachter(&dir, args));
    run(&["org", "create", "--slug", "acme", "--name", "Acme"]);
    run(&["org", "create", "--slug", "globex", "--name", "Globex"]);
    let jan = ["--org", "acme", "--username", "jan"];
    run(&[
        &["user", "invite"][..],
        &jan,
        &["--email", "jan@example.nl", "--name", "Jan"],
    ]
    .concat());

    let listed = run(&["user", "list", "--org", "acme"]);
    assert!(
        listed.contains("2fa") && listed.contains("none"),
        "{listed}"
    );
    assert!(run(&[&["user", "unlock"][..], &jan].concat()).contains("jan unlocked"));
    assert!(run(&[&["user", "disable"][..], &jan].concat()).contains("jan disabled"));
    assert!(run(&["user", "list", "--org", "acme"]).contains("disabled"));
    assert!(run(&[&["user", "disable"][..], &jan].concat()).contains("already disabled"));
    assert!(run(&[&["user", "enable"][..], &jan].concat()).contains("jan enabled"));
    assert!(run(&[&["user", "sessions"][..], &jan].concat()).contains("0 session(s)"));
    assert!(
        run(&[&["user", "sessions"][..], &jan, &["--end"]].concat()).contains("0 session(s) ended")
    );

    // One organization's name does not reach another's user.
    let other = poortwachter(
        &dir,
        &["user", "disable", "--org", "globex", "--username", "jan"],
    );
    assert!(!other.status.success());
    assert!(
        String::from_utf8_lossy(&other.stderr)
            .contains("organization \"globex\" has no user \"jan\"")
    );
    let without_org = poortwachter(&dir, &["audit", "--username", "jan"]);
    assert!(
        !without_org.status.success(),
        "a user is named with an organization"
    );

    let table = run(&["audit", "--org", "acme", "--since", "1h"]);
    let events: Vec<&str> = table
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "invitation_sent",
            "account_unlocked",
            "account_disabled",
            "account_enabled",
            "session_ended"
        ],
        "{table}"
    );
    let json = run(&[
        "audit",
        "--org",
        "acme",
        "--username",
        "jan",
        "--json",
        "--limit",
        "1",
    ]);
    let line: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(line["event"], "session_ended");
    assert_eq!(line["org"], "acme");
    assert_eq!(line["detail"], "administrator");
    assert!(run(&["audit", "--org", "globex"]).is_empty());
    assert!(run(&["audit", "--since", "2999-01-01T00:00:00Z"]).is_empty());
    let bad_since = poortwachter(&dir, &["audit", "--since", "yesterday"]);
    assert!(String::from_utf8_lossy(&bad_since.stderr).contains("--since"));
}

#[test]
fn administrator_registers_applications_and_rotates_keys() {
    let dir = initialised();
    stdout(&poortwachter(
        &dir,
        &["org", "create", "--slug", "acme", "--name", "Acme B.V."],
    ));
    let created = stdout(&poortwachter(
        &dir,
        &[
            "client",
            "create",
            "--name",
            "Verzuimcoach",
            "--redirect-uri",
            "https://app.example.nl/callback",
            "--redirect-uri",
            "http://localhost:3000/cb",
            "--post-logout-redirect-uri",
            "https://app.example.nl/",
            "--backchannel-logout-uri",
            "https://app.example.nl/backchannel",
            "--first-party",
            "--org",
            "acme",
        ],
    ));
    let line = |name: &str| {
        created
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("{name} line in {created}"))
            .to_owned()
    };
    let id = line("client_id");
    let secret = line("client_secret");
    assert_eq!(secret.len(), 43, "256 random bits");
    assert!(
        created.contains("discovery: https://login.example.nl/.well-known/openid-configuration")
    );
    // Only the hash is kept: the secret appears nowhere in the database file.
    let db = std::fs::read(dir.path().join("data/poortwachter.db")).unwrap();
    assert!(!db.windows(secret.len()).any(|w| w == secret.as_bytes()));

    let public = stdout(&poortwachter(
        &dir,
        &[
            "client",
            "create",
            "--name",
            "App",
            "--redirect-uri",
            "https://m.example.nl/cb",
            "--public",
            "--id-token-alg",
            "RS256",
        ],
    ));
    assert!(
        public.contains("client_id: ") && !public.contains("client_secret"),
        "{public}"
    );

    let list = stdout(&poortwachter(&dir, &["client", "list"]));
    assert!(
        list.contains(&id) && list.contains("confidential*") && list.contains("acme"),
        "{list}"
    );
    assert!(list.contains("public") && list.contains("RS256"), "{list}");
    let shown = stdout(&poortwachter(&dir, &["client", "show", &id]));
    assert!(
        shown.contains("redirect_uri:              http://localhost:3000/cb"),
        "{shown}"
    );
    assert!(shown.contains("backchannel_logout_uri:    https://app.example.nl/backchannel"));

    let rotated = stdout(&poortwachter(&dir, &["client", "rotate-secret", &id]));
    assert!(rotated.starts_with("client_secret: ") && !rotated.contains(&secret));

    for (args, message) in [
        (
            vec![
                "client",
                "create",
                "--name",
                "X",
                "--redirect-uri",
                "http://app.example.nl/cb",
            ],
            "only https",
        ),
        (
            vec![
                "client",
                "create",
                "--name",
                "X",
                "--redirect-uri",
                "https://app.example.nl/*",
            ],
            "",
        ),
        (
            vec![
                "client",
                "create",
                "--name",
                "X",
                "--redirect-uri",
                "https://a.example.nl/cb#x",
            ],
            "fragment",
        ),
        (
            vec![
                "client",
                "create",
                "--name",
                "X",
                "--redirect-uri",
                "https://a.example.nl/cb",
                "--org",
                "nope",
            ],
            "no organization",
        ),
        (vec!["client", "show", "nope"], "no client"),
    ] {
        let output = poortwachter(&dir, &args);
        if message.is_empty() {
            // A literal `*` is a valid path character: it is registered and compared exactly.
            assert!(output.status.success());
            continue;
        }
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }

    let keys = stdout(&poortwachter(
        &dir,
        &["keys", "rotate", "--overlap-hours", "2"],
    ));
    assert!(
        keys.contains("ES256 key ") && keys.contains("RS256 key "),
        "{keys}"
    );
    stdout(&poortwachter(&dir, &["client", "remove", &id]));
    assert!(!stdout(&poortwachter(&dir, &["client", "list"])).contains(&id));
    let audit = stdout(&poortwachter(&dir, &["audit"]));
    for event in [
        "client_created",
        "client_secret_rotated",
        "client_removed",
        "signing_key_added",
    ] {
        assert!(audit.contains(event), "{event} in {audit}");
    }
}

#[test]
fn self_service_settings_and_a_reset_link_from_the_command_line() {
    let dir = initialised();
    let run = |args: &[&str]| poortwachter(&dir, args);
    stdout(&run(&[
        "org",
        "create",
        "--slug",
        "acme",
        "--name",
        "Acme B.V.",
    ]));
    let shown = stdout(&run(&["org", "policy", "show", "--org", "acme"]));
    assert!(shown.contains("self-service-reset    true"), "{shown}");
    assert!(
        shown.contains("remember-device-days  0"),
        "off by default: {shown}"
    );

    let set = stdout(&run(&[
        "org",
        "policy",
        "set",
        "--org",
        "acme",
        "--self-service-reset",
        "false",
        "--remember-device-days",
        "7",
    ]));
    assert!(set.contains("self-service-reset    false"), "{set}");
    assert!(set.contains("remember-device-days  7"), "{set}");
    let too_long = run(&[
        "org",
        "policy",
        "set",
        "--org",
        "acme",
        "--remember-device-days",
        "31",
    ]);
    assert!(!too_long.status.success());
    assert!(String::from_utf8_lossy(&too_long.stderr).contains("at most 30"));
    let unchanged = stdout(&run(&["org", "policy", "show", "--org", "acme"]));
    assert!(unchanged.contains("remember-device-days  7"), "{unchanged}");

    // An invited user has no password to reset: refused, nothing sent.
    stdout(&run(&[
        "user",
        "invite",
        "--org",
        "acme",
        "--username",
        "jan",
        "--email",
        "jan@example.nl",
        "--name",
        "Jan",
    ]));
    let refused = run(&[
        "user",
        "reset-password",
        "--org",
        "acme",
        "--username",
        "jan",
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no active account"));
    let unknown = run(&[
        "user",
        "reset-password",
        "--org",
        "acme",
        "--username",
        "piet",
    ]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("has no user"));
}

#[test]
fn machine_clients_roles_and_the_openapi_document_from_the_command_line() {
    let dir = initialised();
    stdout(&poortwachter(
        &dir,
        &["org", "create", "--slug", "acme", "--name", "Acme B.V."],
    ));
    let created = stdout(&poortwachter(
        &dir,
        &[
            "client",
            "create",
            "--name",
            "Verzuimcoach koppeling",
            "--grant",
            "client-credentials",
            "--org",
            "acme",
        ],
    ));
    assert!(created.contains("client_secret: "), "{created}");
    assert!(
        created.contains("token_endpoint: https://login.example.nl/oauth2/token"),
        "{created}"
    );
    let listed = stdout(&poortwachter(&dir, &["client", "list"]));
    assert!(
        listed.contains("machine") && listed.contains("acme"),
        "{listed}"
    );
    // A machine client names its organizations and has no redirect URI.
    let refused = poortwachter(
        &dir,
        &[
            "client",
            "create",
            "--name",
            "Overal",
            "--grant",
            "client-credentials",
        ],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--org"));
    let refused = poortwachter(
        &dir,
        &[
            "client",
            "create",
            "--name",
            "Mix",
            "--grant",
            "client-credentials",
            "--org",
            "acme",
            "--redirect-uri",
            "https://app.example.nl/cb",
        ],
    );
    assert!(!refused.status.success());

    stdout(&poortwachter(
        &dir,
        &[
            "user",
            "invite",
            "--org",
            "acme",
            "--username",
            "hr",
            "--email",
            "hr@example.nl",
            "--name",
            "HR",
        ],
    ));
    let granted = stdout(&poortwachter(
        &dir,
        &["user", "grant-admin", "--org", "acme", "--username", "hr"],
    ));
    assert!(granted.contains("is now a beheerder of acme"), "{granted}");
    let again = stdout(&poortwachter(
        &dir,
        &["user", "grant-admin", "--org", "acme", "--username", "hr"],
    ));
    assert!(again.contains("already was"), "{again}");
    let revoked = stdout(&poortwachter(
        &dir,
        &["user", "revoke-admin", "--org", "acme", "--username", "hr"],
    ));
    assert!(revoked.contains("no longer a beheerder"), "{revoked}");
    let audit = stdout(&poortwachter(&dir, &["audit", "--org", "acme"]));
    assert!(
        audit.contains("role_granted") && audit.contains("role_revoked"),
        "{audit}"
    );

    let document = stdout(&poortwachter(&dir, &["openapi"]));
    let document: serde_json::Value = serde_json::from_str(&document).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["paths"]["/api/v1/organizations/{org}/users/bulk"].is_object());
}

#[test]
fn no_command_but_serve_and_init_makes_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let invite = poortwachter(
        &dir,
        &[
            "user",
            "invite",
            "--org",
            "acme",
            "--username",
            "jan",
            "--email",
            "jan@example.nl",
            "--name",
            "Jan",
        ],
    );
    assert!(!invite.status.success());
    let message = String::from_utf8_lossy(&invite.stderr);
    assert!(
        message.contains("no database at data/poortwachter.db"),
        "{message}"
    );
    assert!(
        message.contains(&dir.path().display().to_string()),
        "says where it looked: {message}"
    );
    assert!(!dir.path().join("data").exists(), "nothing made");
    assert_eq!(
        message.matches("no database").count(),
        1,
        "said once: {message}"
    );

    let init = stdout(&poortwachter(&dir, &["init"]));
    assert!(init.contains("database ready"), "{init}");
    assert!(dir.path().join("data/poortwachter.db").exists());
    stdout(&poortwachter(
        &dir,
        &["org", "create", "--slug", "acme", "--name", "Acme"],
    ));
}

#[test]
fn an_unknown_setting_stops_the_start_with_the_nearest_name() {
    let dir = initialised();
    let misspelt = Command::new(env!("CARGO_BIN_EXE_poortwachter"))
        .args(["user", "list", "--org", "acme"])
        .current_dir(dir.path())
        .env("POORTWACHTER_PUBLC_URL", "https://login.example.nl")
        .output()
        .unwrap();
    assert_eq!(misspelt.status.code(), Some(2));
    let message = String::from_utf8_lossy(&misspelt.stderr);
    assert!(
        message.contains("unknown setting `POORTWACHTER_PUBLC_URL`")
            && message.contains("did you mean `POORTWACHTER_PUBLIC_URL`?"),
        "{message}"
    );
    std::fs::write(
        dir.path().join("poortwachter.toml"),
        "bind = \"127.0.0.1:8080\"\nservice_nam = \"X\"\n",
    )
    .unwrap();
    let in_file = poortwachter(&dir, &["user", "list", "--org", "acme"]);
    assert_eq!(in_file.status.code(), Some(2));
    let message = String::from_utf8_lossy(&in_file.stderr);
    assert!(
        message.contains("unknown setting `service_nam`")
            && message.contains("poortwachter.toml")
            && message.contains("did you mean `service_name`?"),
        "{message}"
    );
}

#[test]
fn start_up_errors_say_what_is_wrong_once_and_without_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let run = |url: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_poortwachter"))
            .args(["init"])
            .current_dir(dir.path())
            .env("POORTWACHTER_DATABASE_URL", url)
            .env("POORTWACHTER_DATABASE_TIMEOUT_SECONDS", "2")
            .output()
            .unwrap();
        assert!(!output.status.success());
        String::from_utf8(output.stderr).unwrap()
    };
    // Nothing listens on port 1: the reason and the address, at once, not "pool timed out".
    let started = std::time::Instant::now();
    let message = run("postgres://postgres@127.0.0.1:1/test");
    assert!(
        message.contains("cannot connect to PostgreSQL at 127.0.0.1:1"),
        "{message}"
    );
    assert!(message.to_lowercase().contains("refused"), "{message}");
    assert!(!message.contains("pool timed out"), "{message}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "no wait for a refusal"
    );
    // A SQLite file in a folder that is not there: said once.
    let message = run("sqlite:///nonexistent-folder/x/db.sqlite");
    assert_eq!(
        message.matches("nonexistent-folder").count(),
        1,
        "{message}"
    );
    for message in [message, run("postgres://postgres@127.0.0.1:1/test")] {
        assert!(
            !message.contains('\u{1b}'),
            "no terminal colour codes into a pipe: {message:?}"
        );
        let lines: Vec<&str> = message.lines().collect();
        assert_eq!(lines.len(), 1, "one line: {message}");
    }
}

/// What `serve` logs at start (stderr) with `env`, read until every line of `until` has been
/// seen (or 15 s passed); the server is stopped then.
fn start_up_log(env: &[(&str, String)], until: &[&str]) -> Vec<String> {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_poortwachter"))
        .arg("serve")
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .env("POORTWACHTER_BIND", "127.0.0.1:0")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = server.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let mut lines: Vec<String> = Vec::new();
    while !until.iter().all(|u| lines.iter().any(|l| l.contains(u))) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(_) => break,
        }
    }
    let _ = server.kill();
    let _ = server.wait();
    lines
}

#[test]
fn a_mail_server_that_cannot_be_reached_is_said_at_start() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let smtp = (
        "POORTWACHTER_SMTP_URL",
        format!("smtp://127.0.0.1:{closed_port}"),
    );
    let lines = start_up_log(&[smtp], &["SMTP server cannot be reached", "listening"]);
    let warned = lines
        .iter()
        .find(|l| l.contains("SMTP server cannot be reached"))
        .unwrap_or_else(|| panic!("no warning; the log said: {lines:#?}"));
    assert!(
        warned.contains(&format!("127.0.0.1:{closed_port}")) && warned.contains("outbox"),
        "{warned}"
    );
    // A warning, not a refusal: the server starts and serves.
    assert!(
        lines.iter().any(|l| l.contains("listening")),
        "it starts anyway: {lines:#?}"
    );
}

#[test]
fn the_start_up_line_of_the_development_mailbox_says_what_it_is() {
    let lines = start_up_log(&[], &["listening"]);
    let mailbox = lines
        .iter()
        .find(|l| l.contains("development mailbox"))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(
        mailbox.contains("no smtp_url") && mailbox.contains("/dev/mail"),
        "{mailbox}"
    );
    assert!(
        !mailbox.contains("development mode") && !mailbox.contains("dev_mode="),
        "{mailbox}"
    );
}

#[test]
fn an_operator_registers_an_expected_login_and_runs_the_look_ahead_as_if_a_day_later() {
    let dir = initialised();
    stdout(&poortwachter(
        &dir,
        &["org", "create", "--slug", "acme", "--name", "Acme B.V."],
    ));
    stdout(&poortwachter(
        &dir,
        &[
            "user",
            "invite",
            "--org",
            "acme",
            "--username",
            "jan",
            "--email",
            "jan@example.nl",
            "--name",
            "Jan",
        ],
    ));
    let day = |days: i64| {
        (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * days))
            .strftime("%Y-%m-%d")
            .to_string()
    };
    let user = ["--org", "acme", "--username", "jan"];
    let expect = |on: &str| {
        let mut args = vec!["access", "expect", "--key", "plan_van_aanpak", "--on", on];
        args.extend(user);
        stdout(&poortwachter(&dir, &args))
    };
    let registered = expect(&day(5));
    assert!(
        registered.starts_with("registered: jan is expected to log in at"),
        "{registered}"
    );
    assert!(expect(&day(5)).starts_with("already registered"));
    let mut show = vec!["access", "show"];
    show.extend(user);
    let shown = stdout(&poortwachter(&dir, &show));
    assert!(shown.contains("jan: at_risk"), "{shown}");
    assert!(shown.contains("not_activated"), "{shown}");
    assert!(shown.contains("action: resend_invitation"), "{shown}");
    let overview = stdout(&poortwachter(
        &dir,
        &["access", "overview", "--org", "acme"],
    ));
    assert!(
        overview.contains("1 expected login(s) in the next 14 days"),
        "{overview}"
    );
    // As if it were tomorrow at 10:00 or 11:00 in Amsterdam: the mail is queued once.
    let tomorrow = format!("{}T09:00:00Z", day(1));
    let pass = stdout(&poortwachter(
        &dir,
        &["access", "look-ahead", "--at", &tomorrow],
    ));
    assert!(pass.contains("1 mail(s) queued"), "{pass}");
    let again = stdout(&poortwachter(
        &dir,
        &["access", "look-ahead", "--at", &tomorrow],
    ));
    assert!(again.contains("0 mail(s) queued"), "{again}");
    let past = poortwachter(
        &dir,
        &[
            "access",
            "expect",
            "--key",
            "x",
            "--on",
            "2020-01-01",
            "--org",
            "acme",
            "--username",
            "jan",
        ],
    );
    assert!(!past.status.success());
    assert!(String::from_utf8_lossy(&past.stderr).contains("in the past"));
    let mut withdraw = vec!["access", "withdraw", "--key", "plan_van_aanpak"];
    withdraw.extend(user);
    assert!(stdout(&poortwachter(&dir, &withdraw)).contains("withdrawn"));
}
