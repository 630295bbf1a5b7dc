//! The Prometheus endpoint: `GET /metrics` on its own listener (`metrics_bind`), never on
//! the public one, so the numbers of a login service are not shown to the internet.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ::metrics::{describe_counter, describe_gauge, describe_histogram, gauge};
use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::hashing::PasswordHasher;
use crate::shutdown::Shutdown;
use crate::store::{Liveness, Store};
use crate::telemetry::*;

/// Latency buckets in seconds: from a page (a millisecond) to a slow login (seconds).
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The `metrics` recorder is global to the process; it is installed once, by the first
/// server that asks (tests run several servers in one process: they share it).
static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

fn recorder() -> anyhow::Result<PrometheusHandle> {
    if let Some(handle) = RECORDER.get() {
        return Ok(handle.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
        .context("metric buckets")?
        .build_recorder();
    let handle = recorder.handle();
    if ::metrics::set_global_recorder(recorder).is_ok() {
        for metric in METRICS {
            match metric.kind {
                Kind::Counter => describe_counter!(metric.name, metric.help),
                Kind::Gauge => describe_gauge!(metric.name, metric.help),
                Kind::Histogram => describe_histogram!(metric.name, metric.help),
            }
        }
        // Counters without labels start at 0, so `rate()` and `increase()` (and the alert
        // rules built on them) have a series before the first event.
        for name in [
            ACCOUNT_LOCKS,
            HASH_REFUSED,
            MAIL_DELIVERED,
            MAIL_FAILURES,
            DB_UNAVAILABLE,
        ] {
            ::metrics::counter!(name).absolute(0);
        }
    }
    Ok(RECORDER.get_or_init(|| handle).clone())
}

/// The metrics listener of one server, bound at start-up so a wrong address stops it there.
pub struct Exporter {
    listener: TcpListener,
    scrape: Scrape,
}

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    store: Arc<dyn Store>,
    hasher: PasswordHasher,
    settings: Arc<Settings>,
    clock: SharedClock,
}

impl Exporter {
    pub async fn bind(
        address: SocketAddr,
        store: Arc<dyn Store>,
        hasher: PasswordHasher,
        settings: Arc<Settings>,
        clock: SharedClock,
    ) -> anyhow::Result<Exporter> {
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("setting `metrics_bind`: cannot listen on {address}"))?;
        Ok(Exporter {
            listener,
            scrape: Scrape {
                handle: recorder()?,
                store,
                hasher,
                settings,
                clock,
            },
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    /// Serves `/metrics` until `shutdown`, and keeps the histograms' windows moving.
    pub async fn serve(self, shutdown: Shutdown) {
        let handle = self.scrape.handle.clone();
        let upkeep = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                handle.run_upkeep();
            }
        });
        let router = Router::new()
            .route("/metrics", get(metrics))
            .with_state(self.scrape);
        let served = axum::serve(self.listener, router)
            .with_graceful_shutdown(async move { shutdown.requested().await })
            .await;
        upkeep.abort();
        if let Err(e) = served {
            tracing::error!(error = %e, "metrics listener stopped");
        }
    }
}

/// Reads what is read rather than counted, then renders everything in the text format.
async fn metrics(State(scrape): State<Scrape>) -> Response {
    let now = scrape.clock.now();
    let live = Liveness {
        now,
        idle_cutoff: now - scrape.settings.session_idle_seconds(),
    };
    match scrape.store.gauges(live).await {
        Ok(gauges) => {
            gauge!(OUTBOX_DEPTH).set(gauges.outbox_depth as f64);
            let age = gauges.oldest_queued_at.map_or(0, |at| (now - at).max(0));
            gauge!(OUTBOX_OLDEST_AGE).set(age as f64);
            gauge!(SESSIONS_LIVE).set(gauges.live_sessions as f64);
        }
        // The rest is still worth having; the database's own gauges go stale meanwhile and
        // `poortwachter_db_unavailable_total` tells why.
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot read the database's numbers");
            database_unavailable();
        }
    }
    match scrape.store.subscriptions(None).await {
        Ok(subscriptions) => {
            for s in subscriptions {
                let id = s.public_id.clone();
                gauge!(WEBHOOK_DEPTH, "subscription" => id.clone()).set(s.pending as f64);
                let age = s.oldest_pending_at.map_or(0, |at| (now - at).max(0));
                gauge!(WEBHOOK_OLDEST_AGE, "subscription" => id.clone()).set(age as f64);
                gauge!(WEBHOOK_FAILING, "subscription" => id)
                    .set(f64::from(u8::from(s.failing_since.is_some())));
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: cannot read the webhook outbox"),
    }
    if let Ok(chain) = scrape.store.chain_state().await {
        gauge!(AUDIT_UNSEALED).set(chain.unsealed as f64);
    }
    for pool in scrape.store.pools() {
        gauge!(DB_CONNECTIONS, "pool" => pool.name, "state" => "in_use").set(pool.in_use);
        gauge!(DB_CONNECTIONS, "pool" => pool.name, "state" => "idle").set(pool.idle);
        gauge!(DB_CONNECTIONS_MAX, "pool" => pool.name).set(pool.max);
    }
    let (depth, capacity) = scrape.hasher.queue();
    gauge!(HASH_QUEUE_DEPTH).set(depth as f64);
    gauge!(HASH_QUEUE_CAPACITY).set(capacity as f64);
    scrape.handle.run_upkeep();
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        scrape.handle.render(),
    )
        .into_response()
}
