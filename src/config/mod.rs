//! Settings: defaults, then an optional TOML file, then `POORTWACHTER_*` environment variables.
//! A wrong value stops start-up with a message that names the setting.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::domain::throttle::ThrottlePolicy;

mod validate;
use crate::keyring::Keyring;

/// NEN 7513 keeps the logging of access to health records for at least five years.
pub const MIN_AUDIT_RETENTION_DAYS: u32 = 1830;

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "poortwachter.toml";

#[derive(Debug, Clone, Deserialize, Serialize)]
// A misspelt setting (`POORTWACHTER_PUBLC_URL`, `publc_url = …`) stops start-up with the
// closest known name, instead of being ignored while the server runs on a default.
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTP server listens on.
    pub bind: SocketAddr,
    /// Address of the Prometheus endpoint (`GET /metrics`), for example `127.0.0.1:9090`;
    /// empty means no metrics. Never the public listener: it must differ from `bind`.
    pub metrics_bind: Option<String>,
    /// The address users reach the service at; every link in an e-mail is built from it,
    /// never from a request's Host header.
    pub public_url: Url,
    /// Folder for the SQLite database and the development keys.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://user@host/db`; empty means
    /// `sqlite://<data_dir>/poortwachter.db`. Never logged (it may hold a password).
    #[serde(serialize_with = "serialize_redacted")]
    pub database_url: Option<String>,
    /// Connections per instance.
    pub database_max_connections: u32,
    /// How long a request waits for a database connection before it gets a 503 page.
    pub database_timeout_seconds: u64,
    /// `smtp://user:pass@host:port` (plain or `?tls=required`), or `smtps://…`. Empty means
    /// the development mailbox at `/dev/mail`.
    #[serde(serialize_with = "serialize_redacted")]
    pub smtp_url: Option<SecretString>,
    /// Without `smtp_url` every e-mail, TOTP set-up keys included, is readable at
    /// `/dev/mail` by anyone who can reach the server. That is refused on any `bind` other
    /// than loopback unless this is set: an explicit "yes, this is a development server".
    pub dev_mode: bool,
    /// The From header of every e-mail.
    pub mail_from: String,
    /// Name shown in pages and e-mails.
    pub service_name: String,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// Password hashes computed at once; 0 means one per CPU core.
    pub hash_workers: usize,
    /// Logins that may wait for a hashing worker; more are answered 503 at once.
    /// 0 means 8 per worker.
    pub hash_queue: usize,
    pub invitation_ttl_hours: u32,
    /// How long a password reset link ("Wachtwoord vergeten?") works, in minutes.
    pub reset_link_minutes: u32,
    /// Requests a minute each machine client may make to the admin API (per instance).
    pub api_requests_per_minute: u32,
    /// Keys that encrypt the TOTP secrets: `VERSION:BASE64` entries (32-byte keys), separated
    /// by newlines or commas; the last is current. Every instance needs the same keys.
    #[serde(serialize_with = "serialize_redacted")]
    pub totp_key: Option<SecretString>,
    /// A file with the keys in the same format. Without `totp_key` or `totp_key_file`,
    /// `<data_dir>/totp.key` is used, and created (mode 0600) if it does not exist.
    pub totp_key_file: Option<PathBuf>,
    /// How long a pending authenticator-app set-up (the e-mailed secret) stays usable.
    pub totp_setup_ttl_hours: u32,
    /// Set-up e-mails ("Nieuwe code"): at most one per this many seconds …
    pub setup_mail_interval_seconds: u32,
    /// … and at most this many per hour, per user.
    pub setup_mails_per_hour: u32,
    /// How often the outbox is checked for mail queued by other processes (the CLI).
    pub outbox_poll_ms: u64,
    /// Failed passwords and codes on one account before it is locked. The first half are
    /// free; after that each failure makes the next attempt wait longer (1, 2, 4 … seconds).
    pub lockout_failures: u32,
    /// How long the first lock lasts; each further failure doubles it, up to a day.
    pub lockout_minutes: u32,
    /// Failed attempts from one client address (any accounts) before it is locked.
    pub address_lockout_failures: u32,
    pub address_lockout_minutes: u32,
    /// A session ends after this long without a request …
    pub session_idle_minutes: u32,
    /// … and this long after login, however active.
    pub session_absolute_hours: u32,
    /// Audit lines older than this are removed (at least 1830 days, five years: NEN 7513),
    /// with a signed checkpoint where the chain is cut, so that it still verifies.
    pub audit_retention_days: u32,
    /// How soon new audit lines are linked into the hash chain (and their webhooks queued).
    pub audit_seal_ms: u64,
    /// How often the chain's head is signed as a checkpoint (when it has grown).
    pub audit_checkpoint_minutes: u32,
    /// How long a webhook receiver gets to answer (connecting included).
    pub webhook_timeout_seconds: u64,
    /// How often the webhook outbox is looked at for deliveries that are due.
    pub webhook_poll_ms: u64,
    /// Toegang op orde: how many days before an expected login a user who is not ready gets
    /// the look-ahead mail (sent between 08:00 and 20:00 Dutch time, once per expected login).
    pub look_ahead_days: u32,
    /// How often the look-ahead mail is looked for.
    pub look_ahead_poll_seconds: u64,
    /// `text` or `json` log lines.
    pub log_format: String,
    /// At SIGTERM: how long requests in flight may take to finish before the server stops.
    pub shutdown_grace_seconds: u64,
    /// OpenID Connect: how long access tokens and ID tokens are valid.
    pub access_token_minutes: u32,
    /// `keys rotate`: how long the next signing key is published before it signs, so that
    /// applications that cache the JWKS have it before they see a token it signed.
    pub signing_key_overlap_hours: u32,
    /// Behind a load balancer: the header it puts the client's address in (for example
    /// `X-Forwarded-For`); its right-most entry is used. Empty: the connection's peer address.
    pub client_ip_header: Option<String>,
}

/// Secrets (and URLs that may hold a password) serialise as a placeholder.
fn serialize_redacted<T, S: serde::Serializer>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(_) => serializer.serialize_some("[redacted]"),
        None => serializer.serialize_none(),
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: "127.0.0.1:8080".parse().expect("valid literal"),
            metrics_bind: None,
            public_url: Url::parse("http://localhost:8080").expect("valid literal"),
            data_dir: PathBuf::from("data"),
            database_url: None,
            database_max_connections: 8,
            database_timeout_seconds: 5,
            smtp_url: None,
            dev_mode: false,
            mail_from: "Poortwachter <noreply@localhost>".into(),
            service_name: "Poortwachter".into(),
            // OWASP Password Storage Cheat Sheet: Argon2id, m=19 MiB, t=2, p=1.
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            hash_workers: 0,
            hash_queue: 0,
            invitation_ttl_hours: 7 * 24,
            reset_link_minutes: 60,
            api_requests_per_minute: 600,
            totp_key: None,
            totp_key_file: None,
            totp_setup_ttl_hours: 24,
            setup_mail_interval_seconds: 60,
            setup_mails_per_hour: 5,
            outbox_poll_ms: 1000,
            lockout_failures: 10,
            lockout_minutes: 15,
            address_lockout_failures: 100,
            address_lockout_minutes: 15,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            audit_retention_days: MIN_AUDIT_RETENTION_DAYS,
            audit_seal_ms: 1000,
            audit_checkpoint_minutes: 60,
            webhook_timeout_seconds: 10,
            webhook_poll_ms: 1000,
            look_ahead_days: 7,
            look_ahead_poll_seconds: 600,
            log_format: "text".into(),
            shutdown_grace_seconds: 20,
            access_token_minutes: 5,
            signing_key_overlap_hours: 24,
            client_ip_header: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration: setting `{setting}`: {reason}")]
    Invalid {
        setting: &'static str,
        reason: String,
    },
    #[error("configuration: unknown setting `{setting}` in {place}{}", closest.as_ref().map(|c| format!("; did you mean `{c}`?")).unwrap_or_default())]
    Unknown {
        setting: String,
        /// Where it was found: the TOML file, or the environment.
        place: String,
        /// The known setting nearest to it, as it would be written there.
        closest: Option<String>,
    },
}

/// `POORTWACHTER_*` variables that are not settings: the project's own tooling reads them
/// (the test suite's PostgreSQL, the release binary the benchmark and e2e checks run).
const NOT_SETTINGS: &[&str] = &["TEST_POSTGRES_URL", "BIN"];

/// An unknown field from figment as [`ConfigError::Unknown`], with the nearest known name
/// (Jaro-Winkler over the field names, as clap suggests subcommands) when it is near enough.
fn unknown_setting(error: &figment::Error) -> Option<ConfigError> {
    let figment::error::Kind::UnknownField(setting, known) = &error.kind else {
        return None;
    };
    let from_env = error
        .metadata
        .as_ref()
        .is_some_and(|m| m.name.contains("environment"));
    let closest = known
        .iter()
        .map(|name| (strsim::jaro_winkler(setting, name), *name))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| match from_env {
            true => format!("POORTWACHTER_{}", name.to_ascii_uppercase()),
            false => name.to_owned(),
        });
    let (setting, place) = match from_env {
        true => (
            format!("POORTWACHTER_{}", setting.to_ascii_uppercase()),
            "the environment".to_owned(),
        ),
        false => (
            setting.clone(),
            error
                .metadata
                .as_ref()
                .and_then(|m| m.source.as_ref())
                .map_or("the configuration".to_owned(), |s| s.to_string()),
        ),
    };
    Some(ConfigError::Unknown {
        setting,
        place,
        closest,
    })
}

fn invalid(setting: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting,
        reason: reason.into(),
    }
}

impl Settings {
    /// Defaults, then `file` (or `poortwachter.toml` if it exists), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match file {
            Some(path) => {
                if !path.exists() {
                    return Err(invalid(
                        "--config",
                        format!("file {} does not exist", path.display()),
                    ));
                }
                figment = figment.merge(Toml::file_exact(path));
            }
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG_FILE));
            }
            None => {}
        }
        let env = Env::prefixed("POORTWACHTER_").ignore(NOT_SETTINGS);
        Self::from_figment(figment.merge(env))
    }

    pub fn from_figment(figment: Figment) -> Result<Settings, ConfigError> {
        let mut settings: Settings = figment.extract().map_err(|error| {
            error
                .clone()
                .into_iter()
                .find_map(|e| unknown_setting(&e))
                .unwrap_or_else(|| ConfigError::Load(Box::new(error)))
        })?;
        // An empty string in the environment means "not set".
        if settings.database_url.as_deref() == Some("") {
            settings.database_url = None;
        }
        if settings.client_ip_header.as_deref() == Some("") {
            settings.client_ip_header = None;
        }
        if settings.metrics_bind.as_deref() == Some("") {
            settings.metrics_bind = None;
        }
        if settings
            .smtp_url
            .as_ref()
            .is_some_and(|s| s.expose_secret().is_empty())
        {
            settings.smtp_url = None;
        }
        if settings
            .totp_key
            .as_ref()
            .is_some_and(|s| s.expose_secret().is_empty())
        {
            settings.totp_key = None;
        }
        settings.validate()?;
        Ok(settings)
    }

    /// Where the metrics listener binds, if metrics are on.
    pub fn metrics_address(&self) -> Result<Option<SocketAddr>, ConfigError> {
        self.metrics_bind
            .as_deref()
            .map(|text| {
                text.parse().map_err(|_| {
                    invalid(
                        "metrics_bind",
                        "not an address with a port (127.0.0.1:9090)",
                    )
                })
            })
            .transpose()
    }

    pub fn argon2_params(&self) -> Result<argon2::Params, ConfigError> {
        argon2::Params::new(
            self.argon2_memory_kib,
            self.argon2_iterations,
            self.argon2_parallelism,
            None,
        )
        .map_err(|e| {
            let setting = match e {
                argon2::Error::MemoryTooLittle | argon2::Error::MemoryTooMuch => {
                    "argon2_memory_kib"
                }
                argon2::Error::TimeTooSmall => "argon2_iterations",
                _ => "argon2_parallelism",
            };
            invalid(setting, e.to_string())
        })
    }

    /// The hashing pool's size, with the defaults filled in.
    pub fn hash_pool(&self) -> crate::hashing::PoolSize {
        let workers = match self.hash_workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let queue = match self.hash_queue {
            0 => 8 * workers,
            n => n,
        };
        crate::hashing::PoolSize { workers, queue }
    }

    pub fn pool(&self) -> crate::store::PoolSettings {
        crate::store::PoolSettings {
            max_connections: self.database_max_connections,
            acquire_timeout: std::time::Duration::from_secs(self.database_timeout_seconds.max(1)),
        }
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.data_dir.join("poortwachter.db").display()
            )
        })
    }

    /// Cookies get `Secure` and the `__Host-` prefix only over https (RFC 6265bis §4.1.3.2).
    pub fn account_throttle(&self) -> ThrottlePolicy {
        ThrottlePolicy::for_accounts(self.lockout_failures, self.lockout_minutes)
    }

    pub fn address_throttle(&self) -> ThrottlePolicy {
        ThrottlePolicy::for_addresses(self.address_lockout_failures, self.address_lockout_minutes)
    }

    pub fn session_idle_seconds(&self) -> i64 {
        i64::from(self.session_idle_minutes) * 60
    }

    pub fn access_token_seconds(&self) -> i64 {
        i64::from(self.access_token_minutes) * 60
    }

    /// The issuer identifier (OIDC Discovery §4.3): the public URL without a trailing slash.
    pub fn issuer(&self) -> String {
        self.public_url.as_str().trim_end_matches('/').to_owned()
    }

    pub fn session_absolute_seconds(&self) -> i64 {
        i64::from(self.session_absolute_hours) * 3600
    }

    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The keys that encrypt TOTP secrets, from `totp_key`, `totp_key_file`, or the
    /// development key file in the data folder (created on first use).
    pub fn keyring(&self) -> Result<Keyring, ConfigError> {
        if let Some(text) = &self.totp_key {
            return parse_totp_key(text);
        }
        let (setting, path) = match &self.totp_key_file {
            Some(path) => ("totp_key_file", path.clone()),
            None => ("data_dir", self.data_dir.join("totp.key")),
        };
        if self.totp_key_file.is_none() && !path.exists() {
            create_key_file(&path).map_err(|e| {
                invalid(
                    setting,
                    format!("cannot create key file {}: {e}", path.display()),
                )
            })?;
            tracing::warn!(
                path = %path.display(),
                "created a new key for TOTP secrets: back it up with the database, and give every instance the same key"
            );
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            invalid(
                setting,
                format!("cannot read key file {}: {e}", path.display()),
            )
        })?;
        Keyring::parse(&text)
            .map_err(|e| invalid(setting, format!("key file {}: {e}", path.display())))
    }

    /// `public_url` + `path`, for links in e-mails.
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.public_url.as_str().trim_end_matches('/'), path)
    }

    /// The origin (`scheme://host[:port]`) browsers send in the Origin header.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }
}

/// The `totp_key` setting: key lines, separated by newlines or (in one environment
/// variable) commas.
fn parse_totp_key(text: &SecretString) -> Result<Keyring, ConfigError> {
    Keyring::parse(&text.expose_secret().replace(',', "\n"))
        .map_err(|e| invalid("totp_key", e.to_string()))
}

/// Writes a new random key, readable by the owner only, never replacing an existing file.
fn create_key_file(path: &Path) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)?;
    }
    let text = Keyring::generate_text(&mut rand::rngs::OsRng);
    let mut file = options.open(path)?;
    file.write_all(text.expose_secret().as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests;
