//! Building and running the service: open the store, bind the listener, start the outbox
//! worker, serve until a shutdown signal. Tests build an [`App`] on port 0 and read the port.

mod metrics_endpoint;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::admin::Admin;
use crate::clock::{SharedClock, SystemClock};
use crate::config::Settings;
use crate::evidence::Evidence;
use crate::hashing::PasswordHasher;
use crate::http::AppState;
use crate::mail::outbox::OutboxWorker;
use crate::mail::transport::MailTransport;
use crate::oidc::backchannel::LogoutSender;
use crate::services::Services;
use crate::shutdown;
use crate::signing_keys::Keys;
use crate::store::Store;
use crate::webhooks::WebhookSender;
use metrics_endpoint::Exporter;

/// Opens the configured database (creating the data folder for the SQLite default) and runs
/// its migrations. Both the server and every CLI command start here.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    // The metrics count logins, locks and every event from the committed audit records.
    crate::store::report_audits_to(crate::telemetry::audited);
    let url = settings.database_url();
    if settings.database_url.is_none() {
        // The embedded default keeps its database in the data folder.
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "setting `data_dir`: cannot create folder {}",
                settings.data_dir.display()
            )
        })?;
    }
    let store = crate::store::connect(&url, &settings.pool())
        .await
        .with_context(|| {
            format!(
                "setting `database_url`: cannot open database {}",
                redact(&url)
            )
        })?;
    Ok(store)
}

/// The store of a service that already runs somewhere: the command line's. A SQLite file
/// that is not there is refused with its path, never made (run from another folder, an
/// administrator would otherwise get an empty `./data` and "no organization acme"). Only
/// `serve` and `init` make a database.
pub async fn open_existing_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let url = settings.database_url();
    if !(url.starts_with("postgres:") || url.starts_with("postgresql:")) {
        let options: sqlx::sqlite::SqliteConnectOptions = url
            .parse()
            .with_context(|| format!("setting `database_url`: {}", redact(&url)))?;
        let file = options.get_filename();
        if !file.exists() {
            let folder = std::env::current_dir().unwrap_or_default();
            anyhow::bail!(
                "no database at {} (looked from {}): run this where the server runs, or set \
                 POORTWACHTER_DATA_DIR / database_url to its data; `poortwachter init` makes a new one",
                file.display(),
                folder.display()
            );
        }
    }
    open_store(settings).await
}

/// The keyring; a missing default key file is made only for a database that holds nothing
/// sealed yet. A database with sealed secrets and no key file is a restore without its key:
/// refused, and nothing written (a new key would open none of them).
async fn keyring_for(
    settings: &Settings,
    store: &dyn Store,
) -> anyhow::Result<crate::keyring::Keyring> {
    let default_file = settings.data_dir.join("totp.key");
    let would_make_one =
        settings.totp_key.is_none() && settings.totp_key_file.is_none() && !default_file.exists();
    if would_make_one && !store.signing_keys().await?.is_empty() {
        anyhow::bail!(
            "setting `data_dir`: there is no key file {}, but the database holds secrets \
             sealed with one (a restored backup?): put the key file that belongs to this \
             database there, or name it with totp_key_file; nothing was written",
            default_file.display()
        );
    }
    Ok(settings.keyring()?)
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

pub struct App {
    listener: TcpListener,
    exporter: Option<Exporter>,
    state: AppState,
    worker: OutboxWorker,
    logouts: LogoutSender,
    evidence: Evidence,
    webhooks: WebhookSender,
    admin: Admin,
}

impl App {
    pub async fn build(settings: Settings) -> anyhow::Result<App> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(settings: Settings, clock: SharedClock) -> anyhow::Result<App> {
        crate::tls::install_provider();
        let settings = Arc::new(settings);
        let store = open_store(&settings).await?;
        let keyring = Arc::new(keyring_for(&settings, store.as_ref()).await?);
        let params = settings.argon2_params()?;
        let hasher = PasswordHasher::new(params, settings.hash_pool())?;
        let transport = match &settings.smtp_url {
            Some(url) => MailTransport::smtp(url)?,
            None => MailTransport::DevMailbox {
                store: store.clone(),
                clock: clock.clone(),
            },
        };
        let dev_mailbox = transport.is_dev_mailbox();
        if let Some(url) = &settings.smtp_url {
            let (probe, server) = (
                transport.clone(),
                redact(secrecy::ExposeSecret::expose_secret(url)),
            );
            tokio::spawn(async move {
                if let Err(why) = probe.check().await {
                    tracing::warn!(
                        smtp = %server,
                        %why,
                        "the SMTP server cannot be reached: mail waits in the outbox and is \
                         tried again; invitations show as queued or failing until it is back"
                    );
                }
            });
        }
        let listener = TcpListener::bind(settings.bind)
            .await
            .with_context(|| format!("setting `bind`: cannot listen on {}", settings.bind))?;
        let exporter = match settings.metrics_address()? {
            Some(address) => Some(
                Exporter::bind(
                    address,
                    store.clone(),
                    hasher.clone(),
                    settings.clone(),
                    clock.clone(),
                )
                .await?,
            ),
            None => None,
        };
        let wake = Arc::new(Notify::new());
        let worker = OutboxWorker {
            store: store.clone(),
            transport,
            clock: clock.clone(),
            wake: wake.clone(),
            poll: Duration::from_millis(settings.outbox_poll_ms),
        };
        let admin = Admin {
            store: store.clone(),
            settings: settings.clone(),
            clock: clock.clone(),
            outbox_wake: wake.clone(),
            actor: Default::default(),
        };
        let keys = Arc::new(Keys::start(store.clone(), keyring.clone(), clock.now()).await?);
        let logout_wake = Arc::new(Notify::new());
        let logouts = LogoutSender {
            store: store.clone(),
            settings: settings.clone(),
            clock: clock.clone(),
            keys: keys.clone(),
            wake: logout_wake.clone(),
            poll: Duration::from_millis(settings.outbox_poll_ms),
        };
        let evidence = Evidence {
            store: store.clone(),
            keys: keys.clone(),
            clock: clock.clone(),
        };
        let webhooks = WebhookSender {
            store: store.clone(),
            settings: settings.clone(),
            clock: clock.clone(),
            keyring: keyring.clone(),
            wake: Arc::new(Notify::new()),
        };
        let services = Services {
            store,
            settings,
            hasher,
            clock,
            keyring,
            outbox_wake: wake,
            logout_wake,
        };
        let state = AppState::new(services, keys, dev_mailbox);
        Ok(App {
            listener,
            exporter,
            state,
            worker,
            logouts,
            evidence,
            webhooks,
            admin,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    /// Where `/metrics` is served, when `metrics_bind` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.exporter.as_ref().map(Exporter::local_addr)
    }

    pub fn admin(&self) -> Admin {
        self.admin.clone()
    }

    /// The signing keys this instance uses (tests reload them after a rotation).
    pub fn keys(&self) -> Arc<Keys> {
        self.state.keys.clone()
    }

    /// The audit chain of this instance (tests seal and verify through it).
    pub fn evidence(&self) -> Evidence {
        self.evidence.clone()
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.state.store.clone()
    }

    /// Serves until SIGINT or SIGTERM, then stops without losing anything (see
    /// [`crate::shutdown`]).
    pub async fn run(self) -> anyhow::Result<()> {
        self.run_until(shutdown::signal()).await
    }

    /// Serves until `stop` resolves, then: no new connections; requests in flight finish
    /// (for at most `shutdown_grace_seconds`); the outbox finishes the mail it is sending and
    /// hands back the rest; the other workers end.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = self.local_addr();
        let settings = self.state.settings.clone();
        if self.state.dev_mailbox {
            // "Development mailbox", not "development mode": `dev_mode` is the separate
            // setting that allows this mailbox beyond loopback.
            tracing::warn!(
                "no smtp_url: mail goes to the development mailbox at {}, readable by anyone \
                 who can reach {addr}",
                settings.link("/dev/mail")
            );
        }
        if self.state.relying_party.is_none() {
            tracing::warn!(
                public_url = %settings.public_url,
                "passkeys are off: WebAuthn needs a public_url whose host is a domain name \
                 (localhost will do for development), not an IP address"
            );
        }
        tracing::info!(%addr, public_url = %settings.public_url, "listening");
        let (trigger, shutdown) = shutdown::channel();
        let worker = tokio::spawn(self.worker.run(shutdown.clone()));
        let logouts = tokio::spawn(self.logouts.run(shutdown.clone()));
        let sealer = tokio::spawn(self.evidence.run(settings.clone(), shutdown.clone()));
        let webhooks = tokio::spawn(self.webhooks.run(shutdown.clone()));
        if let Some(exporter) = self.exporter {
            tracing::info!(addr = %exporter.local_addr(), "metrics at /metrics");
            tokio::spawn(exporter.serve(shutdown.clone()));
        }
        let sweeper = tokio::spawn(sweep_regularly(
            self.state.store.clone(),
            settings.clone(),
            self.state.clock.clone(),
        ));
        let looking_ahead = tokio::spawn(look_ahead_regularly(
            self.admin.clone(),
            Duration::from_secs(settings.look_ahead_poll_seconds),
        ));
        let router = crate::routes::router(self.state);
        let draining = shutdown.clone();
        let server = axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { draining.requested().await })
        .into_future();
        let mut server = tokio::spawn(server);
        let served = tokio::select! {
            served = &mut server => Some(served),
            _ = stop => None,
        };
        trigger.fire();
        let grace = Duration::from_secs(settings.shutdown_grace_seconds);
        let served = match served {
            Some(served) => served,
            None => {
                tracing::info!(
                    grace_seconds = grace.as_secs(),
                    "shutting down: no new connections, finishing requests in flight"
                );
                match tokio::time::timeout(grace, &mut server).await {
                    Ok(served) => served,
                    Err(_) => {
                        tracing::warn!(
                            "requests still running after the grace period; stopping them"
                        );
                        server.abort();
                        Ok(Ok(()))
                    }
                }
            }
        };
        // The workers end their current step; one stuck on a dead mail server is cut off
        // (its mail keeps its lease and is sent when that runs out).
        for (name, task) in [
            ("outbox", worker),
            ("back-channel logout", logouts),
            ("audit sealer", sealer),
            ("webhooks", webhooks),
        ] {
            let abort = task.abort_handle();
            if tokio::time::timeout(WORKER_STOP, task).await.is_err() {
                tracing::warn!(worker = name, "did not stop in time; stopped");
                abort.abort();
            }
        }
        sweeper.abort();
        looking_ahead.abort();
        tracing::info!("stopped");
        served
            .context("server task failed")?
            .context("server stopped with an error")
    }
}

/// How long a background worker may take to finish its current step at shutdown.
const WORKER_STOP: Duration = Duration::from_secs(10);

/// Sends the look-ahead mails of Toegang op orde as they fall due. Each pass is a few reads;
/// a mail is claimed in the database, so instances running this side by side send it once.
async fn look_ahead_regularly(admin: Admin, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match admin.look_ahead(admin.clock.now()).await {
            Ok(pass) if pass.mailed > 0 => tracing::info!(?pass, "look-ahead mail queued"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "look-ahead pass failed; will try again"),
        }
    }
}

/// Removes what has run out (sessions, throttle rows) every few minutes.
/// Nothing depends on it for correctness (an expired session is refused when presented);
/// it keeps the tables from growing.
async fn sweep_regularly(store: Arc<dyn Store>, settings: Arc<Settings>, clock: SharedClock) {
    let mut tick = tokio::time::interval(Duration::from_secs(300));
    loop {
        tick.tick().await;
        let now = clock.now();
        match store.sweep(now, settings.session_idle_seconds()).await {
            Ok(swept) if swept != Default::default() => tracing::info!(?swept, "swept"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "clean-up failed; will try again"),
        }
    }
}
