//! Poortwachter's load benchmark. Starts the release server with a fresh database on loopback
//! and drives it with concurrent simulated users doing the real flows; measures, in one run,
//! the hashing limit, password logins at saturation, latencies of other requests while logins
//! saturate the CPU, what happens past saturation, full journeys per second, memory and start
//! time, with 1,000 and with 1,000,000 users in the database.
//!
//! `cargo run --release -p poortwachter-bench` (add `-- --smoke` for the short CI run).

mod database;
mod hashing;
mod journey;
mod load;
mod oidc;
mod seed;
mod server;
mod table;
mod targets;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use clap::Parser;
use poortwachter::admin::Admin;
use poortwachter::clock::SystemClock;
use poortwachter::config::Settings;
use serde::Serialize;

use crate::database::Database;
use crate::hashing::{hash_time_ms, parallel_hash_rate, process_cpu_seconds};
use crate::journey::journey;
use crate::table::{print_table, today};

#[derive(Parser)]
#[command(about = "Load benchmark of the Poortwachter release server")]
struct Options {
    /// Short durations and small databases: a smoke test of the benchmark itself (CI).
    #[arg(long)]
    smoke: bool,
    /// Database sizes to measure (users).
    #[arg(long, value_delimiter = ',')]
    users: Option<Vec<u64>>,
    /// Seconds per measured phase.
    #[arg(long)]
    seconds: Option<f64>,
    /// Only the OpenID Connect throughput phases (refresh, userinfo, client credentials,
    /// JWKS) on one database of `--users`, with their targets and verdicts: the quick run
    /// to profile the provider against.
    #[arg(long)]
    oidc: bool,
    /// With `--oidc`: a PostgreSQL database URL to measure on instead of SQLite (a fresh
    /// schema in it, dropped afterwards).
    #[arg(long)]
    postgres: Option<String>,
    /// With `--oidc --postgres`: how many servers share the database (requests go to each in
    /// turn).
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// Where the JSON results go.
    #[arg(long, default_value = "target/bench-results.json")]
    json: String,
}

#[derive(Serialize)]
struct Run {
    users: u64,
    start_to_first_answer_ms: f64,
    rss_idle_mib: f64,
    rss_peak_mib: f64,
    hash_ms: f64,
    saturation: load::Flood,
    /// Hashes per second with every core hashing at once, in this process, nothing else,
    /// measured right before and right after the saturation phase (their mean).
    parallel_hashes_per_s: f64,
    ratio_to_parallel: f64,
    /// Password logins at saturation with metrics off and on (`metrics_bind`, scraped every
    /// second), alternating phases on the same database.
    metrics: MetricsCost,
    /// CPU the load driver itself used during the saturation phase (share of one core).
    driver_cpu_share_of_a_core: f64,
    idle: load::Probes,
    under_saturation: load::Probes,
    past_saturation_offered_per_s: f64,
    past_saturation: load::Flood,
    share_503: f64,
    journeys: u64,
    journeys_per_s: f64,
    oidc: oidc::Figures,
}

#[derive(Serialize)]
struct Report {
    date: String,
    cores: usize,
    argon2: String,
    hash_workers: usize,
    hash_queue: usize,
    /// The hashing workers' Argon2 memory together (what the peak is allowed beyond 20 MiB).
    hashing_memory_mib: f64,
    runs: Vec<Run>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    poortwachter::tls::install_provider();
    let options = Options::parse();
    let sizes = options.users.clone().unwrap_or(if options.smoke {
        vec![1_000, 10_000]
    } else {
        vec![1_000, 1_000_000]
    });
    let seconds = options
        .seconds
        .unwrap_or(if options.smoke { 2.0 } else { 10.0 });
    let binary = server::release_binary()?;
    let settings = Settings::default();
    let pool = settings.hash_pool();
    let cores = std::thread::available_parallelism()?.get();

    if options.oidc {
        let users = sizes.first().copied().unwrap_or(1_000);
        return oidc_only(
            &binary,
            users,
            Duration::from_secs_f64(seconds),
            options.postgres.as_deref(),
            options.instances,
        )
        .await;
    }
    let hash_ms = hash_time_ms(&settings)?;
    eprintln!("one Argon2id hash, alone: {hash_ms:.1} ms");

    let mut runs = Vec::new();
    for users in sizes {
        let run = measure(
            &binary,
            users,
            Duration::from_secs_f64(seconds),
            hash_ms,
            pool,
        )
        .await?;
        runs.push(run);
    }
    let report = Report {
        date: today(),
        cores,
        argon2: format!(
            "m={} KiB, t={}, p={}",
            settings.argon2_memory_kib, settings.argon2_iterations, settings.argon2_parallelism
        ),
        hash_workers: pool.workers,
        hash_queue: pool.queue,
        hashing_memory_mib: (pool.workers as u64 * u64::from(settings.argon2_memory_kib)) as f64
            / 1024.0,
        runs,
    };
    print_table(&report);
    targets::print(&report);
    if let Some(folder) = std::path::Path::new(&options.json).parent() {
        std::fs::create_dir_all(folder)?;
    }
    std::fs::write(&options.json, serde_json::to_string_pretty(&report)?)?;
    eprintln!("results written to {}", options.json);
    Ok(())
}

async fn measure(
    binary: &std::path::Path,
    users: u64,
    phase: Duration,
    hash_ms: f64,
    pool: poortwachter::hashing::PoolSize,
) -> anyhow::Result<Run> {
    let database = Database::fresh(&format!("{users}"), None).await?;
    let seeding = Instant::now();
    seed::users(&database.pool, &database.settings, users).await?;
    let now = seed::unix_now();
    let probes_needed = (2.0 * phase.as_secs_f64() / 0.02) as u64 + 50;
    let sessions = seed::half_sessions(&database.pool, 0, probes_needed.min(users), now).await?;
    let logged_in = seed::logged_in(&database.pool, users, now).await?;
    eprintln!(
        "\n{users} users seeded in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let server = server::Server::start(binary, &database.data).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (rss_idle, _) = server.memory_mib();
    let address = server.address.clone();
    let next = AtomicU64::new(0);
    let interval = Duration::from_millis(20);

    let idle = load::probe(&address, &sessions, &next, interval, phase).await?;
    eprintln!("idle probes: {idle:?}");

    // Saturation: enough browsers to keep every hashing worker and part of the queue busy.
    // The all-core hashing rate moves with the CPU's clock from minute to minute: it is
    // measured on both sides of the phase it is compared with.
    let concurrency = pool.workers * 3;
    let cores = std::thread::available_parallelism()?.get();
    let settings_for_rate = database.settings.clone();
    let rate_window = Duration::from_secs(3);
    let before = tokio::task::spawn_blocking({
        let s = settings_for_rate.clone();
        move || parallel_hash_rate(&s, cores, rate_window)
    })
    .await??;
    let driver_cpu = process_cpu_seconds();
    let (saturation, under) = tokio::join!(
        load::closed_loop(&address, users, concurrency, phase),
        load::probe(&address, &sessions, &next, interval, phase),
    );
    let (saturation, under) = (saturation?, under?);
    let driver_cpu_share = (process_cpu_seconds() - driver_cpu) / saturation.seconds;
    let after = tokio::task::spawn_blocking(move || {
        parallel_hash_rate(&settings_for_rate, cores, rate_window)
    })
    .await??;
    let parallel = (before + after) / 2.0;
    eprintln!(
        "saturation: {saturation:?}\nunder saturation: {under:?}\n\
         all cores hashing: {before:.1}/s before, {after:.1}/s after"
    );

    let offered = 2.0 * saturation.per_second.max(1.0);
    let past = load::open_loop(&address, users, offered, phase).await?;
    let offered_total = (past.accepted + past.busy + past.other) as f64;
    eprintln!("past saturation ({offered:.0}/s offered): {past:?}");

    let admin = Arc::new(Admin::new(
        database.store.clone(),
        Arc::new(database.settings.clone()),
        Arc::new(SystemClock),
    ));
    // OpenID Connect: the code exchange alone and under a login flood, then throughput.
    let application = oidc::Application::register(&admin, &address, logged_in).await?;
    let exchange_idle = oidc::exchange_latency(&application, interval, phase).await?;
    let (_, exchange_under_flood) = tokio::join!(
        load::closed_loop(&address, users, concurrency, phase),
        oidc::exchange_latency(&application, interval, phase),
    );
    let mut oidc_figures = oidc::throughput(&application, phase).await?;
    oidc_figures.exchange_idle = exchange_idle;
    oidc_figures.exchange_under_flood = exchange_under_flood?;
    eprintln!("OpenID Connect: {oidc_figures:?}");
    let (journey_address, mailbox) = (address.clone(), database.pool.clone());
    let (journeys, journeys_per_s) = load::journeys(pool.workers * 2, phase, move |n| {
        let (admin, address, mailbox) = (admin.clone(), journey_address.clone(), mailbox.clone());
        async move { journey(&admin, &address, &mailbox, n).await }
    })
    .await?;
    eprintln!("journeys: {journeys} ({journeys_per_s:.2}/s)");
    let (_, rss_peak) = server.memory_mib();
    let started_in = server.started_in;
    drop(server);
    let metrics = metrics_cost(binary, &database.data, users, concurrency, phase).await?;
    eprintln!("metrics: {metrics:?}");
    database.remove().await?;
    Ok(Run {
        users,
        start_to_first_answer_ms: started_in.as_secs_f64() * 1000.0,
        rss_idle_mib: rss_idle,
        rss_peak_mib: rss_peak,
        hash_ms,
        parallel_hashes_per_s: parallel,
        ratio_to_parallel: saturation.per_second / parallel,
        metrics,
        driver_cpu_share_of_a_core: driver_cpu_share,
        saturation,
        idle,
        under_saturation: under,
        past_saturation_offered_per_s: offered,
        share_503: past.busy as f64 / offered_total.max(1.0),
        past_saturation: past,
        journeys,
        journeys_per_s,
        oidc: oidc_figures,
    })
}

/// `--oidc`: a fresh database of `users` (SQLite, or a schema in the PostgreSQL database
/// `postgres`), `instances` servers on it, and the provider's throughput phases.
async fn oidc_only(
    binary: &std::path::Path,
    users: u64,
    phase: Duration,
    postgres: Option<&str>,
    instances: usize,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        instances == 1 || postgres.is_some(),
        "several instances share a PostgreSQL database (--postgres); SQLite is one instance's"
    );
    let database = Database::fresh("oidc", postgres).await?;
    seed::users(&database.pool, &database.settings, users).await?;
    let logged_in = seed::logged_in(&database.pool, users, seed::unix_now()).await?;
    let mut servers = Vec::new();
    for _ in 0..instances {
        let server =
            server::Server::start_with(binary, &database.data, &database.server_settings()).await?;
        eprintln!("server pid {}", server.pid());
        servers.push(server);
    }
    let admin = Admin::new(
        database.store.clone(),
        Arc::new(database.settings.clone()),
        Arc::new(SystemClock),
    );
    let application = oidc::Application::register(&admin, &servers[0].address, logged_in)
        .await?
        .behind(servers.iter().map(|s| s.address.clone()).collect());
    let figures = oidc::throughput(&application, phase).await?;
    let rss_peak = servers.iter().map(|s| s.memory_mib().1).fold(0.0, f64::max);
    let store = match postgres {
        None => "SQLite, one instance".to_owned(),
        Some(_) => format!(
            "PostgreSQL, {instances} instance{} (the targets are set for SQLite, the default)",
            if instances == 1 { "" } else { "s" }
        ),
    };
    oidc::print_targets(&figures, rss_peak, &store);
    drop(servers);
    database.remove().await
}

/// Password logins at saturation with metrics off and on: eight alternating phases (off, on,
/// off, on, …; a quarter phase each) on fresh servers over the same database, so that drift
/// in the machine's speed falls on both alike; the cost is the median of the four adjacent
/// off/on pairs. While on, `/metrics` is scraped every second (Prometheus every 15 s costs
/// less).
async fn metrics_cost(
    binary: &std::path::Path,
    data: &std::path::Path,
    users: u64,
    concurrency: usize,
    phase: Duration,
) -> anyhow::Result<MetricsCost> {
    let part = phase / 4;
    let mut rates = Vec::new();
    for metrics in [false, true].repeat(4) {
        let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let extra = if metrics {
            vec![(
                "POORTWACHTER_METRICS_BIND",
                format!("127.0.0.1:{metrics_port}"),
            )]
        } else {
            vec![]
        };
        let server = server::Server::start_with(binary, data, &extra).await?;
        let scraping = metrics.then(|| {
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    let scraped = client
                        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
                        .send()
                        .await;
                    if let Ok(response) = scraped {
                        let _ = response.text().await;
                    }
                }
            })
        });
        let flood = load::closed_loop(&server.address, users, concurrency, part).await?;
        if let Some(task) = scraping {
            task.abort();
        }
        rates.push(flood.per_second);
        drop(server);
    }
    let mut costs: Vec<f64> = rates
        .chunks(2)
        .map(|pair| 1.0 - pair[1] / pair[0])
        .collect();
    costs.sort_by(f64::total_cmp);
    let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
    Ok(MetricsCost {
        off_per_s: mean(rates.iter().step_by(2).copied().collect()),
        on_per_s: mean(rates.iter().skip(1).step_by(2).copied().collect()),
        median_cost: (costs[1] + costs[2]) / 2.0,
        pair_costs: costs,
    })
}

#[derive(Debug, Serialize)]
struct MetricsCost {
    off_per_s: f64,
    on_per_s: f64,
    /// 1 − on/off for each adjacent pair, smallest first.
    pair_costs: Vec<f64>,
    median_cost: f64,
}
