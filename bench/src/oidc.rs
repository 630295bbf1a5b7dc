//! OpenID Connect under load: code exchanges, refresh-token requests, userinfo and JWKS
//! answered per second at saturation, and the code exchange's latency alone and while a
//! password-login flood saturates the hashing pool.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use poortwachter::admin::{Admin, ClientRegistration};
use reqwest::{Client, StatusCode};
use serde::Serialize;
use serde_json::Value;

use crate::load::{Percentiles, percentiles};

const REDIRECT: &str = "http://127.0.0.1:9/callback";
/// RFC 7636 Appendix B: a verifier and its S256 challenge.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// Requests in flight at once in the throughput phases.
const CONCURRENCY: usize = 32;

#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Figures {
    pub code_exchanges_per_s: f64,
    pub refresh_per_s: f64,
    pub refresh_latency: Percentiles,
    pub userinfo_per_s: f64,
    pub userinfo_latency: Percentiles,
    pub client_credentials_per_s: f64,
    pub jwks_per_s: f64,
    pub exchange_idle: Percentiles,
    pub exchange_under_flood: Percentiles,
}

/// The registered application (first-party, confidential) and logged-in sessions to use.
#[derive(Clone)]
pub struct Application {
    /// The servers' addresses: one, or several instances on one database, taken in turn per
    /// request as a load balancer would.
    addresses: Arc<Vec<String>>,
    turn: Arc<AtomicUsize>,
    id: String,
    secret: String,
    /// A client-credentials client of the organization `bench`: its id and secret.
    machine: (String, String),
    sessions: Arc<Vec<String>>,
    http: Client,
}

impl Application {
    pub async fn register(
        admin: &Admin,
        address: &str,
        sessions: Vec<String>,
    ) -> anyhow::Result<Application> {
        let registered = admin
            .create_client(&ClientRegistration {
                name: "Bench".into(),
                redirect_uris: vec![REDIRECT.into()],
                first_party: true,
                ..Default::default()
            })
            .await?;
        let machine = admin
            .create_client(&ClientRegistration {
                name: "Bench machine".into(),
                grant: poortwachter::domain::oidc::client::GrantKind::ClientCredentials,
                orgs: vec!["bench".into()],
                ..Default::default()
            })
            .await?;
        Ok(Application {
            addresses: Arc::new(vec![address.to_owned()]),
            turn: Arc::default(),
            id: registered.client.id,
            secret: registered.secret.unwrap_or_default(),
            machine: (machine.client.id, machine.secret.unwrap_or_default()),
            sessions: Arc::new(sessions),
            http: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(64)
                .build()?,
        })
    }

    /// The same application behind several instances (the first is the one it was
    /// registered at).
    pub fn behind(mut self, addresses: Vec<String>) -> Application {
        self.addresses = Arc::new(addresses);
        self
    }

    /// The instance for the next request.
    fn address(&self) -> &str {
        let turn = self.turn.fetch_add(1, Ordering::Relaxed);
        &self.addresses[turn % self.addresses.len()]
    }

    /// A code from the authorization endpoint, for the logged-in session number `n`.
    pub async fn code(&self, n: usize) -> anyhow::Result<String> {
        let session = &self.sessions[n % self.sessions.len()];
        let url = format!(
            "{}/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid%20profile&state=s\
             &code_challenge={CHALLENGE}&code_challenge_method=S256",
            self.address(),
            self.id,
            "http%3A%2F%2F127.0.0.1%3A9%2Fcallback"
        );
        let response = self
            .http
            .get(url)
            .header("cookie", format!("pw_session={session}"))
            .send()
            .await?;
        let location = response
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .ok_or_else(|| anyhow::anyhow!("authorize: {}", response.status()))?;
        let url = reqwest::Url::parse(location)?;
        url.query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| anyhow::anyhow!("no code in {location}"))
    }

    async fn token(&self, form: &[(&str, &str)]) -> anyhow::Result<Value> {
        self.token_as((&self.id, &self.secret), form).await
    }

    async fn token_as(
        &self,
        (id, secret): (&str, &str),
        form: &[(&str, &str)],
    ) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!("{}/oauth2/token", self.address()))
            .basic_auth(id, Some(secret))
            .form(form)
            .send()
            .await?;
        let status = response.status();
        let body: Value = serde_json::from_str(&response.text().await?)?;
        anyhow::ensure!(status == StatusCode::OK, "token endpoint: {status} {body}");
        Ok(body)
    }

    pub async fn exchange(&self, code: &str) -> anyhow::Result<Value> {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .await
    }

    async fn refresh(&self, token: &str) -> anyhow::Result<Value> {
        self.token(&[("grant_type", "refresh_token"), ("refresh_token", token)])
            .await
    }

    async fn client_credentials(&self) -> anyhow::Result<Value> {
        let (id, secret) = &self.machine;
        self.token_as(
            (id, secret),
            &[("grant_type", "client_credentials"), ("scope", "admin")],
        )
        .await
    }

    async fn userinfo(&self, access_token: &str) -> anyhow::Result<()> {
        let response = self
            .http
            .get(format!("{}/oauth2/userinfo", self.address()))
            .bearer_auth(access_token)
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == StatusCode::OK,
            "userinfo: {}",
            response.status()
        );
        response.bytes().await?;
        Ok(())
    }

    async fn jwks(&self) -> anyhow::Result<()> {
        let response = self
            .http
            .get(format!("{}/oauth2/jwks", self.address()))
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == StatusCode::OK,
            "jwks: {}",
            response.status()
        );
        response.bytes().await?;
        Ok(())
    }
}

/// `CONCURRENCY` tasks calling `step(task, i)` until `duration` has passed or a step says
/// there is no more work; successful steps per second, and each step's latency.
async fn saturate<F, Fut>(
    name: &str,
    duration: Duration,
    step: F,
) -> anyhow::Result<(f64, Percentiles)>
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<bool>> + Send,
{
    let step = Arc::new(step);
    // On stderr, for a profiler to attach to the server during one phase.
    eprintln!("phase {name}: {} s", duration.as_secs());
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|task| {
            let step = step.clone();
            tokio::spawn(async move {
                let mut took = Vec::new();
                let mut i = 0;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    if !step(task, i).await? {
                        break;
                    }
                    took.push(t.elapsed());
                    i += 1;
                }
                anyhow::Ok(took)
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    let rate = all.len() as f64 / started.elapsed().as_secs_f64();
    Ok((rate, percentiles(all)))
}

/// The throughput phases, one after the other, each `phase` long.
pub async fn throughput(app: &Application, phase: Duration) -> anyhow::Result<Figures> {
    // Codes made beforehand (they live a minute), so that the phase measures exchanges alone.
    let wanted = 40_000usize;
    let made = Arc::new(tokio::sync::Mutex::new(Vec::with_capacity(wanted)));
    let (a, m) = (app.clone(), made.clone());
    let (_, _) = saturate(
        "codes",
        phase.min(Duration::from_secs(10)),
        move |task, i| {
            let (a, m) = (a.clone(), m.clone());
            async move {
                let code = a.code(task * 1_000_000 + i).await?;
                let mut made = m.lock().await;
                made.push(code);
                Ok(made.len() < wanted)
            }
        },
    )
    .await?;
    let codes = Arc::new(std::mem::take(&mut *made.lock().await));
    let next = Arc::new(AtomicUsize::new(0));
    let issued = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let (a, c, n, out) = (app.clone(), codes.clone(), next.clone(), issued.clone());
    let (code_exchanges_per_s, _) = saturate("code exchange", phase, move |_, _| {
        let (a, c, n, out) = (a.clone(), c.clone(), n.clone(), out.clone());
        async move {
            let Some(code) = c.get(n.fetch_add(1, Ordering::SeqCst)) else {
                return Ok(false);
            };
            let tokens = a.exchange(code).await?;
            out.lock().await.push(tokens);
            Ok(true)
        }
    })
    .await?;
    let issued = std::mem::take(&mut *issued.lock().await);
    anyhow::ensure!(
        issued.len() >= CONCURRENCY,
        "too few tokens issued to go on"
    );
    let field = |name: &str| -> Vec<String> {
        issued
            .iter()
            .take(CONCURRENCY)
            .map(|t| t[name].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    // Each task rotates its own refresh token chain.
    let chains: Arc<Vec<tokio::sync::Mutex<String>>> = Arc::new(
        field("refresh_token")
            .into_iter()
            .map(tokio::sync::Mutex::new)
            .collect(),
    );
    let a = app.clone();
    let (refresh_per_s, refresh_latency) = saturate("refresh", phase, move |task, _| {
        let (a, chains) = (a.clone(), chains.clone());
        async move {
            let mut token = chains[task].lock().await;
            let tokens = a.refresh(&token).await?;
            *token = tokens["refresh_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            Ok(true)
        }
    })
    .await?;
    let access = Arc::new(field("access_token"));
    let a = app.clone();
    let (userinfo_per_s, userinfo_latency) = saturate("userinfo", phase, move |task, _| {
        let (a, access) = (a.clone(), access.clone());
        async move {
            a.userinfo(&access[task]).await?;
            Ok(true)
        }
    })
    .await?;
    let a = app.clone();
    let (client_credentials_per_s, _) = saturate("client credentials", phase, move |_, _| {
        let a = a.clone();
        async move {
            a.client_credentials().await?;
            Ok(true)
        }
    })
    .await?;
    let a = app.clone();
    let (jwks_per_s, _) = saturate("jwks", phase, move |_, _| {
        let a = a.clone();
        async move {
            a.jwks().await?;
            Ok(true)
        }
    })
    .await?;
    Ok(Figures {
        code_exchanges_per_s,
        refresh_per_s,
        refresh_latency,
        userinfo_per_s,
        userinfo_latency,
        client_credentials_per_s,
        jwks_per_s,
        ..Figures::default()
    })
}

/// Every `interval` until `duration` has passed: a code, then its exchange, timed.
pub async fn exchange_latency(
    app: &Application,
    interval: Duration,
    duration: Duration,
) -> anyhow::Result<Percentiles> {
    let mut samples = Vec::new();
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < duration {
        let code = app.code(n).await?;
        let t = Instant::now();
        app.exchange(&code).await?;
        samples.push(t.elapsed());
        n += 1;
        let into_slot = started.elapsed().as_nanos() % interval.as_nanos();
        tokio::time::sleep(interval.saturating_sub(Duration::from_nanos(into_slot as u64))).await;
    }
    Ok(percentiles(samples))
}

/// The provider's figures beside the targets of issue 23, which are set for the default
/// store (SQLite, one instance); `store` names the store the figures are of; a verdict each.
pub fn print_targets(f: &Figures, rss_peak_mib: f64, store: &str) {
    println!("{store}\n\n| measure | measured | target | verdict |\n|---|---:|---:|---|");
    for (name, value, target, met) in target_rows(f) {
        let verdict = match (target.is_empty(), met) {
            (true, _) => "",
            (false, true) => "met",
            (false, false) => "not met",
        };
        println!("| {name} | {value:.1} | {target} | {verdict} |");
    }
    println!("| resident memory peak (MiB) | {rss_peak_mib:.1} | | |");
}

/// The provider's figures with their targets (empty: none) and whether each is met.
pub fn target_rows(f: &Figures) -> [(&'static str, f64, &'static str, bool); 7] {
    [
        (
            "refresh with rotation (/s)",
            f.refresh_per_s,
            "≥ 2400",
            f.refresh_per_s >= 2400.0,
        ),
        (
            "… p99 (ms)",
            f.refresh_latency.p99_ms,
            "≤ 20",
            f.refresh_latency.p99_ms <= 20.0,
        ),
        (
            "userinfo (/s)",
            f.userinfo_per_s,
            "≥ 10000",
            f.userinfo_per_s >= 10_000.0,
        ),
        (
            "… p99 (ms)",
            f.userinfo_latency.p99_ms,
            "≤ 10",
            f.userinfo_latency.p99_ms <= 10.0,
        ),
        (
            "client credentials (/s)",
            f.client_credentials_per_s,
            "≥ 3000",
            f.client_credentials_per_s >= 3000.0,
        ),
        ("code exchanges (/s)", f.code_exchanges_per_s, "", true),
        ("JWKS (/s)", f.jwks_per_s, "", true),
    ]
}
