//! The load driver: simulated browsers doing the real flows over HTTP (cookies, CSRF tokens,
//! password, TOTP code), and latency statistics.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde::Serialize;

use crate::seed;

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Percentiles {
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

pub fn percentiles(mut samples: Vec<Duration>) -> Percentiles {
    if samples.is_empty() {
        return Percentiles::default();
    }
    samples.sort();
    let at = |q: f64| {
        let index = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[index].as_secs_f64() * 1000.0
    };
    Percentiles {
        count: samples.len(),
        p50_ms: at(0.50),
        p99_ms: at(0.99),
    }
}

pub fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(4)
        .build()
        .expect("client")
}

pub fn csrf_of(html: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker)? + marker.len();
    Some(html[start..].split('"').next()?.to_owned())
}

/// A browser that opened the login page: it holds the CSRF cookie and the form's token.
#[derive(Clone)]
pub struct Browser {
    pub client: Client,
    pub csrf: String,
}

impl Browser {
    pub async fn open(address: &str) -> anyhow::Result<Browser> {
        let client = client();
        let html = client
            .get(format!("{address}/login"))
            .send()
            .await?
            .text()
            .await?;
        let csrf =
            csrf_of(&html).ok_or_else(|| anyhow::anyhow!("no CSRF token on the login page"))?;
        Ok(Browser { client, csrf })
    }

    pub async fn post(
        &self,
        url: String,
        fields: &[(&str, &str)],
    ) -> anyhow::Result<reqwest::Response> {
        let mut form = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        Ok(self.client.post(url).form(&form).send().await?)
    }

    /// The password step for a random seeded user; 303 means the password was accepted.
    pub async fn password_login(
        &self,
        address: &str,
        users: u64,
    ) -> anyhow::Result<(StatusCode, Duration)> {
        let user = seed::username(rand::random::<u64>() % users);
        let started = Instant::now();
        let response = self
            .post(
                format!("{address}/login"),
                &[("username", &user), ("password", seed::PASSWORD)],
            )
            .await?;
        Ok((response.status(), started.elapsed()))
    }
}

#[derive(Debug, Default, Serialize, Clone, Copy)]
pub struct Flood {
    pub seconds: f64,
    pub accepted: u64,
    pub busy: u64,
    pub other: u64,
    pub per_second: f64,
    pub accepted_latency: Percentiles,
}

/// `concurrency` browsers logging in back to back until `duration` has passed.
pub async fn closed_loop(
    address: &str,
    users: u64,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<Flood> {
    let mut browsers = Vec::new();
    for _ in 0..concurrency {
        browsers.push(Browser::open(address).await?);
    }
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = browsers
        .into_iter()
        .map(|browser| {
            let address = address.to_owned();
            tokio::spawn(async move {
                let mut results = Vec::new();
                while Instant::now() < deadline {
                    results.push(browser.password_login(&address, users).await);
                }
                results
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        for result in task.await? {
            results.push(result?);
        }
    }
    Ok(tally(&results, started.elapsed()))
}

/// Logins offered at `rate` per second whatever the server does (open loop), for `duration`.
pub async fn open_loop(
    address: &str,
    users: u64,
    rate: f64,
    duration: Duration,
) -> anyhow::Result<Flood> {
    let mut browsers = Vec::new();
    for _ in 0..32 {
        browsers.push(Browser::open(address).await?);
    }
    let interval = Duration::from_secs_f64(1.0 / rate);
    let started = Instant::now();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::new();
    let mut n = 0usize;
    while started.elapsed() < duration {
        ticker.tick().await;
        let browser = browsers[n % browsers.len()].clone();
        let address = address.to_owned();
        tasks.push(tokio::spawn(async move {
            browser.password_login(&address, users).await
        }));
        n += 1;
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await??);
    }
    Ok(tally(&results, started.elapsed()))
}

/// Counts answers: 303 (password accepted), 503 (refused by admission control), other.
fn tally(results: &[(StatusCode, Duration)], elapsed: Duration) -> Flood {
    let mut flood = Flood::default();
    let mut latencies = Vec::new();
    for (status, latency) in results {
        match *status {
            StatusCode::SEE_OTHER => {
                flood.accepted += 1;
                latencies.push(*latency);
            }
            StatusCode::SERVICE_UNAVAILABLE => flood.busy += 1,
            _ => flood.other += 1,
        }
    }
    flood.seconds = elapsed.as_secs_f64();
    flood.per_second = flood.accepted as f64 / flood.seconds;
    flood.accepted_latency = percentiles(latencies);
    flood
}

#[derive(Debug, Default, Serialize, Clone, Copy)]
pub struct Probes {
    pub login_page: Percentiles,
    pub totp_check: Percentiles,
    pub health: Percentiles,
}

/// Every `interval` until `duration` has passed: the login page, a TOTP check (a fresh
/// half-logged-in session with its right code: the whole success path) and the health check.
pub async fn probe(
    address: &str,
    sessions: &[(u64, String)],
    next_session: &AtomicU64,
    interval: Duration,
    duration: Duration,
) -> anyhow::Result<Probes> {
    // No cookie jar: each probe is a fresh visitor, and the session it logs in is dropped.
    let plain = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let csrf = poortwachter::domain::token::Token::generate(&mut rand::rngs::OsRng);
    let (mut page, mut totp, mut health) = (Vec::new(), Vec::new(), Vec::new());
    let started = Instant::now();
    while started.elapsed() < duration {
        let t = Instant::now();
        let status = plain.get(format!("{address}/login")).send().await?.status();
        anyhow::ensure!(status.is_success(), "login page: {status}");
        page.push(t.elapsed());

        let index = next_session.fetch_add(1, Ordering::SeqCst) as usize;
        let (user, session) = sessions
            .get(index)
            .ok_or_else(|| anyhow::anyhow!("out of seeded sessions"))?;
        let now = seed::unix_now();
        let code = format!("{:06}", seed::secret(*user).code_at_step(now / 30));
        let t = Instant::now();
        let response = plain
            .post(format!("{address}/2fa/app/verify"))
            .header(
                "cookie",
                format!("pw_session={session}; pw_csrf={}", csrf.expose()),
            )
            .form(&[("csrf", csrf.expose()), ("code", &code)])
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == StatusCode::SEE_OTHER,
            "TOTP check: {}",
            response.status()
        );
        totp.push(t.elapsed());

        let t = Instant::now();
        plain.get(format!("{address}/healthz")).send().await?;
        health.push(t.elapsed());
        let into_slot = started.elapsed().as_nanos() % interval.as_nanos();
        tokio::time::sleep(interval.saturating_sub(Duration::from_nanos(into_slot as u64))).await;
    }
    Ok(Probes {
        login_page: percentiles(page),
        totp_check: percentiles(totp),
        health: percentiles(health),
    })
}

/// Runs `f` `n` times on fresh tasks and collects what succeeded per second.
pub async fn journeys<F, Fut>(
    workers: usize,
    duration: Duration,
    f: F,
) -> anyhow::Result<(u64, f64)>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let f = Arc::new(f);
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (f, counter) = (f.clone(), counter.clone());
            tokio::spawn(async move {
                let mut done = 0u64;
                while Instant::now() < deadline {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    f(n).await?;
                    done += 1;
                }
                anyhow::Ok(done)
            })
        })
        .collect();
    let mut completed = 0;
    for task in tasks {
        completed += task.await??;
    }
    Ok((
        completed,
        completed as f64 / started.elapsed().as_secs_f64(),
    ))
}
