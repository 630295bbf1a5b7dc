//! The server under test: the release binary in its own process, on loopback, with a fresh
//! SQLite database; its start time and resident memory are read from outside.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The key every benchmark run seals and opens TOTP secrets with.
pub const TOTP_KEY: &str = "1:YmVuY2htYXJrIGtleSAtIG5vdCBwcm9kdWN0aW9uISE=";

pub struct Server {
    child: Child,
    pub address: String,
    pub started_in: Duration,
}

impl Server {
    /// The server's process id (to attach a profiler).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `target/release/poortwachter`, built first if needed; or the binary `POORTWACHTER_BIN`
/// names (CI builds the whole workspace once: building `-p poortwachter` again here would
/// resolve other features and compile half the dependencies a second time).
pub fn release_binary() -> anyhow::Result<PathBuf> {
    if let Some(binary) = std::env::var_os("POORTWACHTER_BIN") {
        let binary = PathBuf::from(binary);
        anyhow::ensure!(
            binary.is_file(),
            "POORTWACHTER_BIN: {} is not a file",
            binary.display()
        );
        return Ok(binary);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "poortwachter",
            "--bin",
            "poortwachter",
        ])
        .current_dir(&root)
        .status()?;
    anyhow::ensure!(status.success(), "building the release server failed");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or(root.join("target"));
    Ok(target.join("release").join("poortwachter"))
}

pub fn environment(data_dir: &Path) -> Vec<(String, String)> {
    [
        ("POORTWACHTER_DATA_DIR", data_dir.display().to_string()),
        ("POORTWACHTER_TOTP_KEY", TOTP_KEY.to_owned()),
        ("POORTWACHTER_PUBLIC_URL", "http://127.0.0.1".to_owned()),
        ("RUST_LOG", "error".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

impl Server {
    /// Starts the server and measures the time from spawn to the first answered request.
    pub async fn start(binary: &Path, data_dir: &Path) -> anyhow::Result<Server> {
        Server::start_with(binary, data_dir, &[]).await
    }

    /// [`start`](Self::start) with more settings (`POORTWACHTER_…` variables).
    pub async fn start_with(
        binary: &Path,
        data_dir: &Path,
        extra: &[(&str, String)],
    ) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let address = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let started = Instant::now();
        let child = Command::new(binary)
            .arg("serve")
            .envs(environment(data_dir))
            .env("POORTWACHTER_BIND", format!("127.0.0.1:{port}"))
            .envs(extra.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut server = Server {
            child,
            address,
            started_in: Duration::ZERO,
        };
        loop {
            if let Ok(response) = client
                .get(format!("{}/healthz", server.address))
                .send()
                .await
                && response.status().is_success()
            {
                server.started_in = started.elapsed();
                return Ok(server);
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(30),
                "server did not start"
            );
            if let Some(status) = server.child.try_wait()? {
                anyhow::bail!("server exited: {status}");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Resident memory now and at its peak, in MiB (Linux /proc).
    pub fn memory_mib(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
                .map(|kib| kib / 1024.0)
                .unwrap_or(f64::NAN)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}
