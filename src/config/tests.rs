//! The settings' loading and checks.

use super::*;

fn load(toml: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let mut figment =
        Figment::from(Serialized::defaults(Settings::default())).merge(Toml::string(toml));
    for (key, value) in env {
        figment = figment.merge((*key, *value));
    }
    Settings::from_figment(figment)
}

#[test]
fn defaults_are_valid_and_local() {
    let settings = load("", &[]).unwrap();
    assert_eq!(settings.bind.to_string(), "127.0.0.1:8080");
    assert!(settings.smtp_url.is_none());
    assert_eq!(settings.database_url(), "sqlite://data/poortwachter.db");
    assert_eq!(settings.argon2_memory_kib, 19456);
}

#[test]
fn wrong_values_name_the_setting() {
    let cases = [
        ("public_url = \"ftp://x\"", "public_url"),
        ("argon2_memory_kib = 1", "argon2_memory_kib"),
        ("argon2_iterations = 0", "argon2_iterations"),
        ("mail_from = \"not an address\"", "mail_from"),
        ("smtp_url = \"http://mail\"", "smtp_url"),
        ("database_url = \"mysql://x\"", "database_url"),
        ("log_format = \"xml\"", "log_format"),
        ("bind = \"nowhere\"", "bind"),
        ("invitation_ttl_hours = \"soon\"", "invitation_ttl_hours"),
        ("audit_retention_days = 365", "at least 1830"),
        ("webhook_timeout_seconds = 0", "webhook_timeout_seconds"),
        ("audit_seal_ms = 0", "audit_seal_ms"),
    ];
    for (toml, setting) in cases {
        let message = load(toml, &[]).unwrap_err().to_string();
        assert!(message.contains(setting), "{toml}: {message}");
    }
}

#[test]
fn the_dev_mailbox_is_refused_off_loopback_without_dev_mode() {
    let message = load("bind = \"0.0.0.0:8080\"", &[])
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("smtp_url") && message.contains("dev_mode"),
        "{message}"
    );
    assert!(load("bind = \"[::]:8080\"", &[]).is_err());
    assert!(load("bind = \"0.0.0.0:8080\"\ndev_mode = true", &[]).is_ok());
    assert!(
        load(
            "bind = \"0.0.0.0:8080\"\nsmtp_url = \"smtp://mail:25\"",
            &[]
        )
        .is_ok()
    );
    assert!(load("bind = \"[::1]:8080\"", &[]).is_ok());
}

#[test]
fn metrics_are_off_by_default_and_never_on_the_public_listener() {
    assert_eq!(load("", &[]).unwrap().metrics_address().unwrap(), None);
    let on = load("metrics_bind = \"127.0.0.1:9090\"", &[]).unwrap();
    assert_eq!(on.metrics_address().unwrap().unwrap().port(), 9090);
    for refused in [
        "metrics_bind = \"127.0.0.1:8080\"",
        "metrics_bind = \"0.0.0.0:8080\"",
        "metrics_bind = \"nine\"",
    ] {
        let message = load(refused, &[]).unwrap_err().to_string();
        assert!(message.contains("metrics_bind"), "{refused}: {message}");
    }
    assert_eq!(load("metrics_bind = \"\"", &[]).unwrap().metrics_bind, None);
}

#[test]
fn smtp_url_is_never_printed() {
    let settings = load("smtp_url = \"smtp://user:hunter2@mail:25\"", &[]).unwrap();
    assert!(!format!("{settings:?}").contains("hunter2"));
    // Serialising (as figment does when it layers settings) shows a placeholder.
    let serialized: String = Figment::from(Serialized::defaults(&settings))
        .extract_inner("smtp_url")
        .unwrap();
    assert_eq!(serialized, "[redacted]");
}

#[test]
fn links_use_the_public_url() {
    let settings = load("public_url = \"https://login.example.nl/\"", &[]).unwrap();
    assert_eq!(
        settings.link("/invite/x"),
        "https://login.example.nl/invite/x"
    );
    assert_eq!(settings.public_origin(), "https://login.example.nl");
    assert!(settings.is_https());
}

#[test]
fn development_key_file_is_created_private_and_reused() {
    let folder = tempfile::tempdir().unwrap();
    let toml = format!("data_dir = \"{}\"", folder.path().display());
    let settings = load(&toml, &[]).unwrap();
    let first = settings.keyring().unwrap();
    let path = folder.path().join("totp.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let mut rng = rand::rngs::OsRng;
    let sealed = first.seal(1, b"x", &mut rng);
    assert!(
        settings.keyring().unwrap().open(1, &sealed).is_some(),
        "same key next start"
    );
}

#[test]
fn totp_key_setting_is_checked() {
    let message = load("totp_key = \"1:short\"", &[]).unwrap_err().to_string();
    assert!(message.contains("totp_key"), "{message}");
    let two = "totp_key = \"1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,2:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\"";
    assert_eq!(
        load(two, &[]).unwrap().keyring().unwrap().current_version(),
        2
    );
}
