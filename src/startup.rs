//! Building and running the service: open the store, bind the listener, start the outbox
//! worker, serve until a shutdown signal. Tests build an [`App`] on port 0 and read the port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::admin::Admin;
use crate::clock::{SharedClock, SystemClock};
use crate::config::Settings;
use crate::hashing::PasswordHasher;
use crate::mail::outbox::OutboxWorker;
use crate::mail::transport::MailTransport;
use crate::oidc::backchannel::LogoutSender;
use crate::oidc::keys::Keys;
use crate::store::Store;
use crate::web::{self, AppState, StateParts};

/// Opens the configured database (creating the data folder for the SQLite default) and runs
/// its migrations. Both the server and every CLI command start here.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
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

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Outgoing HTTPS (back-channel logout) uses rustls with ring, the provider lettre's SMTP
/// already brings; it is installed once per process, before any HTTP client is built.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub struct App {
    listener: TcpListener,
    state: AppState,
    worker: OutboxWorker,
    logouts: LogoutSender,
    admin: Admin,
}

impl App {
    pub async fn build(settings: Settings) -> anyhow::Result<App> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(settings: Settings, clock: SharedClock) -> anyhow::Result<App> {
        install_tls_provider();
        let settings = Arc::new(settings);
        let store = open_store(&settings).await?;
        let keyring = Arc::new(settings.keyring()?);
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
        let listener = TcpListener::bind(settings.bind)
            .await
            .with_context(|| format!("setting `bind`: cannot listen on {}", settings.bind))?;
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
        let state = AppState::new(StateParts {
            store,
            settings,
            hasher,
            clock,
            keyring,
            outbox_wake: wake,
            keys,
            logout_wake,
            dev_mailbox,
        });
        Ok(App {
            listener,
            state,
            worker,
            logouts,
            admin,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    pub fn admin(&self) -> Admin {
        self.admin.clone()
    }

    /// The signing keys this instance uses (tests reload them after a rotation).
    pub fn keys(&self) -> Arc<Keys> {
        self.state.keys.clone()
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.state.store.clone()
    }

    /// Serves until SIGINT or SIGTERM; in-flight requests finish first.
    pub async fn run(self) -> anyhow::Result<()> {
        let addr = self.local_addr();
        if self.state.dev_mailbox {
            tracing::warn!(
                dev_mode = self.state.settings.dev_mode,
                "development mode: no smtp_url, so mail goes to the development mailbox at {}, \
                 readable by anyone who can reach {addr}",
                self.state.settings.link("/dev/mail")
            );
        }
        tracing::info!(%addr, public_url = %self.state.settings.public_url, "listening");
        let worker = tokio::spawn(self.worker.run());
        let logouts = tokio::spawn(self.logouts.run());
        let sweeper = tokio::spawn(sweep_regularly(
            self.state.store.clone(),
            self.state.settings.clone(),
            self.state.clock.clone(),
        ));
        let router = web::router(self.state);
        let served = axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await;
        worker.abort();
        logouts.abort();
        sweeper.abort();
        served.context("server stopped with an error")
    }
}

/// Removes what has run out (sessions, throttle rows, old audit lines) every few minutes.
/// Nothing depends on it for correctness (an expired session is refused when presented);
/// it keeps the tables from growing.
async fn sweep_regularly(store: Arc<dyn Store>, settings: Arc<Settings>, clock: SharedClock) {
    let mut tick = tokio::time::interval(Duration::from_secs(300));
    loop {
        tick.tick().await;
        let now = clock.now();
        let keep_audit_since = now - i64::from(settings.audit_retention_days) * 86400;
        match store
            .sweep(now, settings.session_idle_seconds(), keep_audit_since)
            .await
        {
            Ok(swept) if swept != Default::default() => tracing::info!(?swept, "swept"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "clean-up failed; will try again"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
