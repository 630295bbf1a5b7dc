//! Argon2id password hashing (RFC 9106) in the PHC string format.
//!
//! Hashing takes tens of milliseconds of CPU on purpose, so it runs on tokio's blocking pool
//! and never on the async workers that serve every other request.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

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
}

impl PasswordHasher {
    pub fn new(params: Params) -> anyhow::Result<PasswordHasher> {
        let dummy = Password::parse("dummy password that never matches")?;
        let dummy_hash = hash_now(&params, &dummy)?;
        Ok(PasswordHasher {
            inner: Arc::new(Inner { params, dummy_hash }),
        })
    }

    pub async fn hash(&self, password: Password) -> anyhow::Result<String> {
        let inner = self.inner.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| hash_now(&inner.params, &password)))
            .await?
    }

    /// True only when `stored` is a hash of `password`. With no stored hash the dummy hash is
    /// verified instead, so the time taken says nothing about whether the account exists.
    pub async fn verify(&self, password: Password, stored: Option<String>) -> bool {
        let inner = self.inner.clone();
        let span = tracing::Span::current();
        let work = move || {
            span.in_scope(|| {
                let phc = stored.as_deref().unwrap_or(&inner.dummy_hash);
                // Verify first, then look at whether it was real: `&&` would skip the work.
                let matches = verify_now(phc, &password);
                matches && stored.is_some()
            })
        };
        tokio::task::spawn_blocking(work).await.unwrap_or(false)
    }
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_now(params: &Params, password: &Password) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let hash = argon2(params)
        .hash_password(password.expose().as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    Ok(hash.to_string())
}

fn verify_now(phc: &str, password: &Password) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        tracing::error!("stored password hash is not a valid PHC string");
        return false;
    };
    // The parameters come from the PHC string, so hashes made under older settings still verify.
    Argon2::default()
        .verify_password(password.expose().as_bytes(), &parsed)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(Params::new(1024, 1, 1, None).unwrap()).unwrap()
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
        assert!(ok.await);
        let wrong = hasher.verify(Password::parse("correct horsE").unwrap(), Some(hash));
        assert!(!wrong.await);
    }

    #[tokio::test]
    async fn default_parameters_are_owasps() {
        let settings = crate::config::Settings::default();
        let params = settings.argon2_params().unwrap();
        let hasher = PasswordHasher::new(params).unwrap();
        let hash = hasher.hash(Password::parse("x").unwrap()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }

    #[tokio::test]
    async fn missing_hash_never_verifies() {
        let hasher = cheap();
        let dummy = Password::parse("dummy password that never matches").unwrap();
        assert!(!hasher.verify(dummy, None).await);
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
        let slow = PasswordHasher::new(Params::new(64 * 1024, 3, 1, None).unwrap()).unwrap();
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
}
