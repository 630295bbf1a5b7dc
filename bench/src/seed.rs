//! The fast bulk path: users, their authenticator credentials and sessions
//! written straight into the database (SQLite or PostgreSQL), so a million users take
//! seconds, not days of HTTP.
//! Every user gets the same password hash (computed once with the real parameters): what
//! scales with the number of users is the lookup, and that is what is measured.

use std::sync::Arc;

use poortwachter::config::Settings;
use poortwachter::domain::token::Token;
use poortwachter::domain::totp::TotpSecret;
use poortwachter::keyring::Keyring;
use poortwachter::store::numbered_placeholders;
use sha1::{Digest, Sha1};
use sqlx::AnyPool;

pub const PASSWORD: &str = "Bench-Wachtwoord-2026!";

pub fn username(i: u64) -> String {
    format!("user{i}")
}

/// Each user's TOTP secret, derived from its number so the driver can make codes.
pub fn secret(i: u64) -> TotpSecret {
    let digest = Sha1::digest(format!("bench secret {i}").as_bytes());
    TotpSecret::from_bytes(&digest).expect("20 bytes")
}

pub async fn users(pool: &AnyPool, settings: &Settings, count: u64) -> anyhow::Result<()> {
    let params = settings.argon2_params()?;
    let password = poortwachter::domain::password::Password::parse(PASSWORD)?;
    let hash = {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(password.expose().as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .to_string()
    };
    let keyring = Arc::new(Keyring::parse(super::server::TOTP_KEY)?);
    sqlx::query(
        "INSERT INTO organizations (id, slug, name, language, min_length, max_length, created_at) \
         VALUES (1, 'bench', 'Bench B.V.', 'nl', 12, 64, 0)",
    )
    .execute(pool)
    .await?;
    const BATCH: u64 = 2000;
    let mut start = 0;
    while start < count {
        let end = (start + BATCH).min(count);
        let mut tx = pool.begin().await?;
        let sql = values(
            pool,
            "INSERT INTO users (id, org_id, username, email, display_name, password_hash, state, created_at)",
            (end - start) as usize,
            8,
        );
        let mut users = sqlx::query(&sql);
        for i in start..end {
            users = users
                .bind(i as i64 + 1)
                .bind(1i64)
                .bind(username(i))
                .bind(format!("{}@bench.test", username(i)))
                .bind(format!("Gebruiker {i}"))
                .bind(hash.clone())
                .bind("active")
                .bind(0i64);
        }
        users.execute(&mut *tx).await?;
        let sql = values(
            pool,
            "INSERT INTO totp_credentials (user_id, key_version, sealed, state, created_at, activated_at)",
            (end - start) as usize,
            6,
        );
        let mut credentials = sqlx::query(&sql);
        let mut rng = rand::rngs::OsRng;
        for i in start..end {
            let sealed = keyring.seal(i as i64 + 1, secret(i).expose_bytes(), &mut rng);
            credentials = credentials
                .bind(i as i64 + 1)
                .bind(i32::from(sealed.key_version))
                .bind(sealed.blob)
                .bind("active")
                .bind(0i64)
                .bind(0i64);
        }
        credentials.execute(&mut *tx).await?;
        tx.commit().await?;
        start = end;
    }
    Ok(())
}

/// The time now as the server reads it: seconds since 1970.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64)
}

/// Logged-in sessions of the first `count` users (at most 64): the cookies an application's
/// users arrive with.
pub async fn logged_in(pool: &AnyPool, users: u64, now: i64) -> anyhow::Result<Vec<String>> {
    Ok(sessions(pool, 0, 64.min(users), now, "complete")
        .await?
        .into_iter()
        .map(|(_, id)| id)
        .collect())
}

/// Half-logged-in sessions (password step done) for users `first..first + count`: each
/// probe of the code check uses one, with the right code, and is logged in by it.
pub async fn half_sessions(
    pool: &AnyPool,
    first: u64,
    count: u64,
    now: i64,
) -> anyhow::Result<Vec<(u64, String)>> {
    sessions(pool, first, count, now, "second_factor").await
}

/// Sessions of users `first..first + count` at login `stage` (`complete`: logged in).
pub async fn sessions(
    pool: &AnyPool,
    first: u64,
    count: u64,
    now: i64,
    stage: &str,
) -> anyhow::Result<Vec<(u64, String)>> {
    let mut rng = rand::rngs::OsRng;
    let sessions: Vec<(u64, Token)> = (first..first + count)
        .map(|i| (i, Token::generate(&mut rng)))
        .collect();
    let sql = values(
        pool,
        "INSERT INTO sessions (id_hash, user_id, stage, created_at, last_seen_at, expires_at)",
        sessions.len(),
        6,
    );
    let mut insert = sqlx::query(&sql);
    for (i, token) in &sessions {
        insert = insert
            .bind(token.hash().0.to_vec())
            .bind(*i as i64 + 1)
            .bind(stage)
            .bind(now)
            .bind(now)
            .bind(now + 3600);
    }
    insert.execute(pool).await?;
    Ok(sessions
        .into_iter()
        .map(|(i, token)| (i, token.expose().to_owned()))
        .collect())
}

/// `insert` with `rows` rows of `columns` placeholders, in the placeholders of the pool's
/// database (sqlx's `Any` passes them through as written): `?` for SQLite, `$1 …` for
/// PostgreSQL, by the store's own rewrite.
fn values(pool: &AnyPool, insert: &str, rows: usize, columns: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(", "));
    let sql = format!("{insert} VALUES {}", vec![row; rows].join(", "));
    let postgres = pool
        .connect_options()
        .database_url
        .scheme()
        .starts_with("postgres");
    if postgres {
        numbered_placeholders(&sql)
    } else {
        sql
    }
}
