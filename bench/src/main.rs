//! Poortwachter's load benchmark. Starts the release server with a fresh database on loopback
//! and drives it with concurrent simulated users doing the real flows; measures, in one run,
//! the hashing limit, password logins at saturation, latencies of other requests while logins
//! saturate the CPU, what happens past saturation, full journeys per second, memory and start
//! time, with 1,000 and with 1,000,000 users in the database.
//!
//! `cargo run --release -p poortwachter-bench` (add `-- --smoke` for the short CI run).

mod load;
mod oidc;
mod seed;
mod server;
mod targets;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use clap::Parser;
use poortwachter::admin::Admin;
use poortwachter::clock::SystemClock;
use poortwachter::config::Settings;
use reqwest::StatusCode;
use serde::Serialize;

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

/// The median time of one hash with the configured parameters, measured here, alone.
fn hash_time_ms(settings: &Settings) -> anyhow::Result<f64> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        settings.argon2_params()?,
    );
    let mut times = Vec::new();
    for _ in 0..15 {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let started = Instant::now();
        argon
            .hash_password(seed::PASSWORD.as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        times.push(started.elapsed());
    }
    Ok(load::percentiles(times).p50_ms)
}

/// Hashes per second with `threads` threads hashing at once: the ceiling the server can reach
/// on this machine, memory bandwidth shared as it is when all cores hash.
fn parallel_hash_rate(
    settings: &Settings,
    threads: usize,
    window: Duration,
) -> anyhow::Result<f64> {
    let params = settings.argon2_params()?;
    let counts: Vec<u64> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let params = params.clone();
                scope.spawn(move || {
                    let argon = argon2::Argon2::new(
                        argon2::Algorithm::Argon2id,
                        argon2::Version::V0x13,
                        params.clone(),
                    );
                    let mut blocks = vec![argon2::Block::new(); params.block_count()];
                    let mut out = [0u8; 32];
                    let started = Instant::now();
                    let mut done = 0;
                    while started.elapsed() < window {
                        let _ = argon.hash_password_into_with_memory(
                            seed::PASSWORD.as_bytes(),
                            b"sixteen byte salt",
                            &mut out,
                            &mut blocks,
                        );
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).collect()
    });
    Ok(counts.iter().sum::<u64>() as f64 / window.as_secs_f64())
}

/// User + system CPU seconds this process has used (Linux /proc).
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After the command name: state is field 0, utime field 11, stime field 12; 100 ticks/s.
    (ticks(11) + ticks(12)) / 100.0
}

/// A fresh, empty database for one run: the data folder the server is started with, the
/// settings, the store on it, a direct pool for seeding, and — on PostgreSQL — the schema
/// made for the run (dropped by [`Database::remove`]).
struct Database {
    data: std::path::PathBuf,
    settings: Settings,
    store: Arc<dyn poortwachter::store::Store>,
    pool: sqlx::AnyPool,
    schema: Option<(String, String)>,
}

impl Database {
    /// In a fresh temporary folder (named with `tag`): SQLite there, or with `postgres` (a
    /// database URL) a fresh schema in that database.
    async fn fresh(tag: &str, postgres: Option<&str>) -> anyhow::Result<Database> {
        sqlx::any::install_default_drivers();
        let data =
            std::env::temp_dir().join(format!("poortwachter-bench-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data)?;
        let mut settings = Settings {
            data_dir: data.clone(),
            ..Settings::default()
        };
        settings.totp_key = Some(server::TOTP_KEY.into());
        let mut schema = None;
        if let Some(base) = postgres {
            let name = format!("pw_bench_{}_{tag}", std::process::id());
            let admin = sqlx::AnyPool::connect(base).await?;
            sqlx::query(&format!("CREATE SCHEMA {name}"))
                .execute(&admin)
                .await?;
            admin.close().await;
            let separator = if base.contains('?') { '&' } else { '?' };
            settings.database_url = Some(format!(
                "{base}{separator}options=-c%20search_path%3D{name}"
            ));
            schema = Some((base.to_owned(), name));
        }
        let store = poortwachter::startup::open_store(&settings).await?;
        let pool = sqlx::AnyPool::connect(&settings.database_url()).await?;
        Ok(Database {
            data,
            settings,
            store,
            pool,
            schema,
        })
    }

    /// The variables that point a server at this database (beside its data folder).
    fn server_settings(&self) -> Vec<(&'static str, String)> {
        match &self.schema {
            Some(_) => vec![("POORTWACHTER_DATABASE_URL", self.settings.database_url())],
            None => Vec::new(),
        }
    }

    async fn remove(self) -> anyhow::Result<()> {
        self.pool.close().await;
        let _ = std::fs::remove_dir_all(&self.data);
        if let Some((base, name)) = self.schema {
            let admin = sqlx::AnyPool::connect(&base).await?;
            sqlx::query(&format!("DROP SCHEMA {name} CASCADE"))
                .execute(&admin)
                .await?;
        }
        Ok(())
    }
}

async fn measure(
    binary: &std::path::Path,
    users: u64,
    phase: Duration,
    hash_ms: f64,
    pool: poortwachter::hashing::PoolSize,
) -> anyhow::Result<Run> {
    let database = Database::fresh(&format!("{users}"), None).await?;
    let (data, settings, store, sqlite) = (
        database.data.clone(),
        database.settings.clone(),
        database.store.clone(),
        database.pool.clone(),
    );
    let seeding = Instant::now();
    seed::users(&sqlite, &settings, users).await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let probes_needed = (2.0 * phase.as_secs_f64() / 0.02) as u64 + 50;
    let sessions = seed::half_sessions(&sqlite, 0, probes_needed.min(users), now).await?;
    let logged_in: Vec<String> = seed::sessions(&sqlite, 0, 64.min(users), now, "complete")
        .await?
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    eprintln!(
        "\n{users} users seeded in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let server = server::Server::start(binary, &data).await?;
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
    let settings_for_rate = settings.clone();
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
        store.clone(),
        Arc::new(settings.clone()),
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
    let journey_address = address.clone();
    let (journeys, journeys_per_s) = load::journeys(pool.workers * 2, phase, move |n| {
        let (admin, address, sqlite) = (admin.clone(), journey_address.clone(), sqlite.clone());
        async move { journey(&admin, &address, &sqlite, n).await }
    })
    .await?;
    eprintln!("journeys: {journeys} ({journeys_per_s:.2}/s)");
    let (_, rss_peak) = server.memory_mib();
    let started_in = server.started_in;
    drop(server);
    let metrics = metrics_cost(binary, &data, users, concurrency, phase).await?;
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
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let logged_in: Vec<String> = seed::sessions(&database.pool, 0, 64.min(users), now, "complete")
        .await?
        .into_iter()
        .map(|(_, id)| id)
        .collect();
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

/// The whole journey of one new user: invite → activate (OPSLAAN) → password →
/// AUTHENTICATOR APP → the code from the set-up e-mail → logged in.
async fn journey(
    admin: &Admin,
    address: &str,
    mailbox: &sqlx::AnyPool,
    n: u64,
) -> anyhow::Result<()> {
    let username = format!("journey{n}");
    let email = format!("{username}@bench.test");
    let invited = admin
        .invite("bench", &username, &email, "Nieuwe Gebruiker")
        .await?;
    let path = invited.link[invited
        .link
        .find("/invite/")
        .ok_or_else(|| anyhow::anyhow!("link"))?..]
        .to_owned();
    let browser = load::client();
    let html = browser
        .get(format!("{address}{path}"))
        .send()
        .await?
        .text()
        .await?;
    let csrf =
        load::csrf_of(&html).ok_or_else(|| anyhow::anyhow!("no form on the activation page"))?;
    let page = load::Browser {
        client: browser,
        csrf,
    };
    let password = seed::PASSWORD;
    let saved = page
        .post(
            format!("{address}{path}"),
            &[("password", password), ("password_repeat", password)],
        )
        .await?;
    anyhow::ensure!(
        saved.status() == StatusCode::SEE_OTHER,
        "activation: {}",
        saved.status()
    );
    let login = page
        .post(
            format!("{address}/login"),
            &[("username", &username), ("password", password)],
        )
        .await?;
    anyhow::ensure!(
        login.status() == StatusCode::SEE_OTHER,
        "login: {}",
        login.status()
    );
    let chosen = page.post(format!("{address}/2fa/app"), &[]).await?;
    anyhow::ensure!(
        chosen.status() == StatusCode::SEE_OTHER,
        "choose: {}",
        chosen.status()
    );
    let key = setup_key(mailbox, &email).await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let secret = poortwachter::domain::totp::TotpSecret::from_bytes(&key)
        .ok_or_else(|| anyhow::anyhow!("key"))?;
    let code = format!("{:06}", secret.code_at_step(now / 30));
    let done = page
        .post(format!("{address}/2fa/app/verify"), &[("code", &code)])
        .await?;
    anyhow::ensure!(
        done.status() == StatusCode::SEE_OTHER,
        "code: {}",
        done.status()
    );
    Ok(())
}

/// Waits for the set-up e-mail in the development mailbox and reads the key from its text.
async fn setup_key(mailbox: &sqlx::AnyPool, email: &str) -> anyhow::Result<Vec<u8>> {
    let started = Instant::now();
    loop {
        let messages: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT message FROM dev_mail WHERE recipient = ?")
                .bind(email)
                .fetch_all(mailbox)
                .await?;
        for raw in messages {
            let Some(parsed) = mail_parser::MessageParser::default().parse(&raw) else {
                continue;
            };
            let text = parsed.body_text(0).unwrap_or_default().to_string();
            if let Some(line) = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("Aanvraagcode: "))
            {
                let key = line.replace(' ', "");
                return Ok(data_encoding::BASE32_NOPAD.decode(key.as_bytes())?);
            }
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(10),
            "no set-up e-mail for {email}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn today() -> String {
    std::process::Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn print_table(report: &Report) {
    println!(
        "\nPoortwachter benchmark, {} — {} cores, Argon2id {}, {} hashing workers, queue {}\n",
        report.date, report.cores, report.argon2, report.hash_workers, report.hash_queue
    );
    let header: Vec<String> = report
        .runs
        .iter()
        .map(|r| format!("{} users", r.users))
        .collect();
    println!("| measure | {} |", header.join(" | "));
    println!("|---|{}", "---:|".repeat(report.runs.len()));
    let row = |name: &str, value: &dyn Fn(&Run) -> String| {
        let cells: Vec<String> = report.runs.iter().map(value).collect();
        println!("| {name} | {} |", cells.join(" | "));
    };
    let p = |x: &load::Percentiles| format!("{:.2} / {:.2}", x.p50_ms, x.p99_ms);
    row("one Argon2id hash, alone (ms)", &|r| {
        format!("{:.1}", r.hash_ms)
    });
    row("hashes/s with all cores hashing at once (measured)", &|r| {
        format!("{:.1}", r.parallel_hashes_per_s)
    });
    row("password logins at saturation (/s)", &|r| {
        format!("{:.1}", r.saturation.per_second)
    });
    row("… ratio to the all-core hashing rate", &|r| {
        format!("{:.1} %", 100.0 * r.ratio_to_parallel)
    });
    row("logins at saturation, metrics off / on (/s)", &|r| {
        format!("{:.1} / {:.1}", r.metrics.off_per_s, r.metrics.on_per_s)
    });
    row("… cost of metrics (median of 4 pairs; range)", &|r| {
        format!(
            "{:.1} % ({:.1} … {:.1} %)",
            100.0 * r.metrics.median_cost,
            100.0 * r.metrics.pair_costs[0],
            100.0 * r.metrics.pair_costs[3]
        )
    });
    row("load driver's own CPU during saturation (cores)", &|r| {
        format!("{:.2}", r.driver_cpu_share_of_a_core)
    });
    row("login page p50 / p99 idle (ms)", &|r| p(&r.idle.login_page));
    row("login page p50 / p99 under saturation (ms)", &|r| {
        p(&r.under_saturation.login_page)
    });
    row("TOTP check p50 / p99 idle (ms)", &|r| p(&r.idle.totp_check));
    row("TOTP check p50 / p99 under saturation (ms)", &|r| {
        p(&r.under_saturation.totp_check)
    });
    row("health p50 / p99 idle (ms)", &|r| p(&r.idle.health));
    row("health p50 / p99 under saturation (ms)", &|r| {
        p(&r.under_saturation.health)
    });
    row("past saturation: offered (/s)", &|r| {
        format!("{:.1}", r.past_saturation_offered_per_s)
    });
    row("past saturation: answered 503", &|r| {
        format!("{:.1} %", 100.0 * r.share_503)
    });
    row("past saturation: accepted p50 / p99 (ms)", &|r| {
        p(&r.past_saturation.accepted_latency)
    });
    row("full journeys (/s)", &|r| {
        format!("{:.2}", r.journeys_per_s)
    });
    row("OIDC code exchanges at saturation (/s)", &|r| {
        format!("{:.0}", r.oidc.code_exchanges_per_s)
    });
    row("OIDC refresh-token requests at saturation (/s)", &|r| {
        format!("{:.0}", r.oidc.refresh_per_s)
    });
    row("OIDC refresh p50 / p99 at saturation (ms)", &|r| {
        p(&r.oidc.refresh_latency)
    });
    row("OIDC userinfo at saturation (/s)", &|r| {
        format!("{:.0}", r.oidc.userinfo_per_s)
    });
    row("OIDC userinfo p50 / p99 at saturation (ms)", &|r| {
        p(&r.oidc.userinfo_latency)
    });
    row("OIDC client credentials at saturation (/s)", &|r| {
        format!("{:.0}", r.oidc.client_credentials_per_s)
    });
    row("OIDC JWKS at saturation (/s)", &|r| {
        format!("{:.0}", r.oidc.jwks_per_s)
    });
    row("OIDC code exchange p50 / p99 idle (ms)", &|r| {
        p(&r.oidc.exchange_idle)
    });
    row(
        "OIDC code exchange p50 / p99 under login saturation (ms)",
        &|r| p(&r.oidc.exchange_under_flood),
    );
    row("resident memory idle / peak (MiB)", &|r| {
        format!("{:.1} / {:.1}", r.rss_idle_mib, r.rss_peak_mib)
    });
    row("start to first answer (ms)", &|r| {
        format!("{:.0}", r.start_to_first_answer_ms)
    });
}
