//! The reference the logins are compared with: one hash alone, and all cores hashing at once
//! in this process with nothing else running; and the CPU this process itself used.

use std::time::{Duration, Instant};

use poortwachter::config::Settings;

use crate::{load, seed};

/// The median time of one hash with the configured parameters, measured here, alone.
pub fn hash_time_ms(settings: &Settings) -> anyhow::Result<f64> {
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
pub fn parallel_hash_rate(
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
pub fn process_cpu_seconds() -> f64 {
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
