//! Argon2id password hashing (RFC 9106) in the PHC string format, with admission control.
//!
//! Hashing takes tens of milliseconds of CPU on purpose. It runs on a dedicated pool of
//! threads sized to the cores, never on the async workers that serve every other request, and
//! at a lower scheduling priority, so pages, code checks and health checks stay fast while
//! hashes use the rest of the CPU. In front of the pool a bounded queue: when it is full a
//! login is refused at once ([`HashError::Busy`], a 503 with Retry-After) instead of waiting
//! until clients time out.

use std::sync::Arc;

use std::cell::RefCell;

use argon2::password_hash::PasswordHash;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::domain::password::Password;

#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    /// Verified against when there is no real hash (unknown user, account not activated), so
    /// those answers take as long as a wrong password (OWASP Authentication Cheat Sheet).
    dummy_hash: String,
    pool: rayon::ThreadPool,
    /// Hashes running plus waiting; a request that finds none free is refused.
    admission: Arc<Semaphore>,
    /// The admission's permits when none is taken.
    capacity: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("all password hashing workers are busy and the queue is full")]
    Busy,
    #[error("password hashing failed: {0}")]
    Failed(anyhow::Error),
}

/// How many hashes run at once (`workers`, one per core by default) and how many may wait.
#[derive(Debug, Clone, Copy)]
pub struct PoolSize {
    pub workers: usize,
    pub queue: usize,
}

impl PasswordHasher {
    pub fn new(params: Params, size: PoolSize) -> anyhow::Result<PasswordHasher> {
        let dummy = Password::parse("dummy password that never matches")?;
        // On a thread of its own, so its Argon2 memory is freed with it and does not stay
        // with the thread that starts the server.
        let dummy_hash =
            std::thread::scope(|scope| scope.spawn(|| hash_now(&params, &dummy)).join())
                .map_err(|_| anyhow::anyhow!("hashing the dummy password panicked"))??;
        let workers = size.workers.max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("pw-hash-{i}"))
            .start_handler(|_| lower_priority())
            .build()?;
        let capacity = workers + size.queue;
        let admission = Arc::new(Semaphore::new(capacity));
        Ok(PasswordHasher {
            inner: Arc::new(Inner {
                params,
                dummy_hash,
                pool,
                admission,
                capacity,
            }),
        })
    }

    /// Hashes running or waiting now, and how many may be before logins are refused.
    pub fn queue(&self) -> (usize, usize) {
        let capacity = self.inner.capacity;
        (
            capacity.saturating_sub(self.inner.admission.available_permits()),
            capacity,
        )
    }

    /// Runs `work` on the hashing pool, or refuses at once when it is saturated.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let permit = self
            .inner
            .admission
            .clone()
            .try_acquire_owned()
            .map_err(|_| {
                crate::telemetry::hash_refused();
                HashError::Busy
            })?;
        let (done, result) = tokio::sync::oneshot::channel();
        let inner = self.inner.clone();
        let span = tracing::Span::current();
        let queued = std::time::Instant::now();
        self.inner.pool.spawn(move || {
            crate::telemetry::hash_started(queued.elapsed());
            let output = span.in_scope(|| work(&inner));
            drop(permit);
            let _ = done.send(output);
        });
        result
            .await
            .map_err(|_| HashError::Failed(anyhow::anyhow!("hashing worker stopped")))
    }

    pub async fn hash(&self, password: Password) -> Result<String, HashError> {
        self.run(move |inner| hash_now(&inner.params, &password))
            .await?
            .map_err(HashError::Failed)
    }

    /// True only when `stored` is a hash of `password`. With no stored hash the dummy hash is
    /// verified instead, so the time taken says nothing about whether the account exists.
    pub async fn verify(
        &self,
        password: Password,
        stored: Option<String>,
    ) -> Result<bool, HashError> {
        self.run(move |inner| {
            let phc = stored.as_deref().unwrap_or(&inner.dummy_hash);
            // Verify first, then look at whether it was real: `&&` would skip the work.
            let matches = verify_now(phc, &password);
            matches && stored.is_some()
        })
        .await
    }
}

/// What a login learns from checking its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    Wrong,
    Right,
    /// Right, and the stored hash was made with other Argon2 settings than today's: this is
    /// the password hashed anew with today's, to be stored with the login step.
    RightAndRehashed(String),
}

impl Verified {
    pub fn is_right(&self) -> bool {
        !matches!(self, Verified::Wrong)
    }
}

impl PasswordHasher {
    /// [`verify`](Self::verify), and when the password is right but its hash was made with
    /// other settings (raised after an upgrade, say), a new hash with today's settings, made
    /// in the same job on the hashing pool: raising the settings upgrades each account at
    /// its next login, and nobody has to reset a password.
    pub async fn verify_and_upgrade(
        &self,
        password: Password,
        stored: Option<String>,
    ) -> Result<Verified, HashError> {
        self.run(move |inner| {
            let phc = stored.as_deref().unwrap_or(&inner.dummy_hash);
            let matches = verify_now(phc, &password);
            match stored {
                Some(phc) if matches => match is_current(&phc, &inner.params) {
                    true => Ok(Verified::Right),
                    false => hash_now(&inner.params, &password).map(Verified::RightAndRehashed),
                },
                _ => Ok(Verified::Wrong),
            }
        })
        .await?
        .map_err(HashError::Failed)
    }
}

/// True when `phc` is an Argon2id v1.3 hash with exactly these settings.
fn is_current(phc: &str, params: &Params) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let stored = Params::try_from(&parsed);
    Algorithm::try_from(parsed.algorithm) == Ok(Algorithm::Argon2id)
        && parsed.version == Some(Version::V0x13.into())
        && stored.is_ok_and(|stored| {
            (stored.m_cost(), stored.t_cost(), stored.p_cost())
                == (params.m_cost(), params.t_cost(), params.p_cost())
        })
}

/// Hashing threads yield to the request-serving threads (Linux: per-thread nice 19, weight 15
/// against 1024 for a normal thread), so a flood of logins cannot make pages, code checks or
/// health checks slow; idle CPU still goes to hashing. Measured (README, Performance): nice 10
/// left TOTP-check p99 under saturation at 12–56 ms, nice 19 at 4–8 ms. Not SCHED_IDLE: that
/// would let any busy process on the same host starve logins completely.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on the calling thread's own id only changes its scheduling weight.
    unsafe {
        let thread_id = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, thread_id, 19);
    }
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

thread_local! {
    /// Each hashing thread keeps its Argon2 memory (19 MiB by default) between hashes:
    /// allocating and zeroing it for every login costs thousands of page faults per hash and
    /// leaves freed blocks scattered over the allocator's arenas.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn with_blocks<T>(count: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
    BLOCKS.with(|cell| {
        let mut blocks = cell.borrow_mut();
        if blocks.len() != count {
            *blocks = vec![Block::new(); count];
        }
        work(&mut blocks)
    })
}

/// A new Argon2id hash of `password` as a PHC string (the format `PasswordHash` parses).
fn hash_now(params: &Params, password: &Password) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let mut output = [0u8; 32];
    with_blocks(params.block_count(), |blocks| {
        argon2(params).hash_password_into_with_memory(
            password.expose().as_bytes(),
            &salt,
            &mut output,
            blocks,
        )
    })
    .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(output)
    ))
}

/// Whether `password` matches the PHC string `phc`, with the parameters the string carries
/// (hashes made under older settings still verify), compared in constant time.
fn verify_now(phc: &str, password: &Password) -> bool {
    let Some((argon, salt, expected)) = parse_phc(phc) else {
        tracing::error!("stored password hash is not a valid Argon2 PHC string");
        return false;
    };
    let mut output = vec![0u8; expected.len()];
    let computed = with_blocks(argon.params().block_count(), |blocks| {
        argon.hash_password_into_with_memory(
            password.expose().as_bytes(),
            &salt,
            &mut output,
            blocks,
        )
    });
    computed.is_ok() && bool::from(output.ct_eq(&expected))
}

fn parse_phc(phc: &str) -> Option<(Argon2<'static>, Vec<u8>, Vec<u8>)> {
    let parsed = PasswordHash::new(phc).ok()?;
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = parsed
        .version
        .map_or(Ok(Version::V0x13), Version::try_from)
        .ok()?;
    let params = Params::try_from(&parsed).ok()?;
    let salt = STANDARD_NO_PAD.decode(parsed.salt?.as_str()).ok()?;
    let expected = parsed.hash?.as_bytes().to_vec();
    Some((Argon2::new(algorithm, version, params), salt, expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZE: PoolSize = PoolSize {
        workers: 2,
        queue: 8,
    };

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(Params::new(1024, 1, 1, None).unwrap(), SIZE).unwrap()
    }

    #[tokio::test]
    async fn a_right_password_with_old_settings_is_hashed_anew_with_todays() {
        let old = cheap();
        let stored = old
            .hash(Password::parse("correct horse").unwrap())
            .await
            .unwrap();
        assert_eq!(
            old.verify_and_upgrade(
                Password::parse("correct horse").unwrap(),
                Some(stored.clone())
            )
            .await
            .unwrap(),
            Verified::Right,
            "same settings: nothing to do"
        );
        let raised = PasswordHasher::new(Params::new(2048, 2, 1, None).unwrap(), SIZE).unwrap();
        let wrong = raised
            .verify_and_upgrade(
                Password::parse("correct horsE").unwrap(),
                Some(stored.clone()),
            )
            .await
            .unwrap();
        assert_eq!(wrong, Verified::Wrong, "a wrong password is never rehashed");
        let Verified::RightAndRehashed(new) = raised
            .verify_and_upgrade(Password::parse("correct horse").unwrap(), Some(stored))
            .await
            .unwrap()
        else {
            panic!("expected a new hash");
        };
        assert!(new.starts_with("$argon2id$v=19$m=2048,t=2,p=1$"), "{new}");
        assert!(
            raised
                .verify(Password::parse("correct horse").unwrap(), Some(new))
                .await
                .unwrap()
        );
        assert_eq!(
            raised
                .verify_and_upgrade(Password::parse("x").unwrap(), None)
                .await
                .unwrap(),
            Verified::Wrong
        );
    }

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_that_verify() {
        let hasher = cheap();
        let hash = hasher
            .hash(Password::parse("correct horse").unwrap())
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
        let ok = hasher.verify(
            Password::parse("correct horse").unwrap(),
            Some(hash.clone()),
        );
        assert!(ok.await.unwrap());
        let wrong = hasher.verify(Password::parse("correct horsE").unwrap(), Some(hash));
        assert!(!wrong.await.unwrap());
    }

    #[tokio::test]
    async fn default_parameters_are_owasps() {
        let settings = crate::config::Settings::default();
        let params = settings.argon2_params().unwrap();
        let hasher = PasswordHasher::new(params, SIZE).unwrap();
        let hash = hasher.hash(Password::parse("x").unwrap()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }

    #[test]
    fn our_phc_strings_are_the_argon2_crates_own_format() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier, SaltString};
        let params = Params::new(1024, 1, 1, None).unwrap();
        let password = Password::parse("correct horse").unwrap();
        // Ours verifies with the crate's verifier…
        let ours = hash_now(&params, &password).unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        // …and the crate's own hashes verify with ours.
        let salt = SaltString::generate(&mut OsRng);
        let theirs = argon2(&params)
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert!(verify_now(&theirs, &password));
        assert!(!verify_now(
            &theirs,
            &Password::parse("correct horsE").unwrap()
        ));
        assert!(!verify_now("$argon2id$garbage", &password));
    }

    #[tokio::test]
    async fn missing_hash_never_verifies() {
        let hasher = cheap();
        let dummy = Password::parse("dummy password that never matches").unwrap();
        assert!(!hasher.verify(dummy, None).await.unwrap());
    }

    #[tokio::test]
    async fn same_password_gets_a_new_salt_each_time() {
        let hasher = cheap();
        let a = hasher.hash(Password::parse("x").unwrap()).await.unwrap();
        let b = hasher.hash(Password::parse("x").unwrap()).await.unwrap();
        assert_ne!(a, b);
    }

    /// On a single-threaded runtime a hash done on the async worker would freeze every other
    /// task until it finished; on the blocking pool the timer keeps ticking meanwhile.
    #[tokio::test(flavor = "current_thread")]
    async fn hashing_leaves_the_async_worker_free() {
        let slow = PasswordHasher::new(Params::new(64 * 1024, 3, 1, None).unwrap(), SIZE).unwrap();
        let ticks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = ticks.clone();
        let ticker = tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        slow.hash(Password::parse("x").unwrap()).await.unwrap();
        ticker.abort();
        assert!(ticks.load(std::sync::atomic::Ordering::SeqCst) >= 3);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_instead_of_waiting() {
        let one = PoolSize {
            workers: 1,
            queue: 1,
        };
        let slow = PasswordHasher::new(Params::new(64 * 1024, 4, 1, None).unwrap(), one).unwrap();
        let running = tokio::spawn({
            let slow = slow.clone();
            async move { slow.hash(Password::parse("a").unwrap()).await }
        });
        let queued = tokio::spawn({
            let slow = slow.clone();
            async move { slow.hash(Password::parse("b").unwrap()).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let started = std::time::Instant::now();
        let refused = slow.hash(Password::parse("c").unwrap()).await;
        assert!(matches!(refused, Err(HashError::Busy)), "{refused:?}");
        assert!(started.elapsed() < std::time::Duration::from_millis(50));
        assert!(running.await.unwrap().is_ok() && queued.await.unwrap().is_ok());
        // Capacity comes back when the work is done.
        assert!(slow.hash(Password::parse("d").unwrap()).await.is_ok());
    }

    #[test]
    fn hashing_threads_are_named_and_yield_to_request_threads() {
        let hasher = cheap();
        let (name, nice) = hasher.inner.pool.install(|| {
            let name = std::thread::current().name().unwrap_or_default().to_owned();
            #[cfg(target_os = "linux")]
            // SAFETY: getpriority reads the calling thread's own scheduling weight.
            let nice = unsafe {
                let thread_id = libc::syscall(libc::SYS_gettid) as libc::id_t;
                libc::getpriority(libc::PRIO_PROCESS, thread_id)
            };
            #[cfg(not(target_os = "linux"))]
            let nice = 19;
            (name, nice)
        });
        assert!(name.starts_with("pw-hash-"), "{name}");
        assert_eq!(nice, 19);
    }
}
