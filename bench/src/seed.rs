//! The fast bulk path: users, their authenticator credentials and sessions
//! written straight into the database, so a million users take seconds, not days of HTTP.
//! Every user gets the same password hash (computed once with the real parameters): what
//! scales with the number of users is the lookup, and that is what is measured.

use std::sync::Arc;

use poortwachter::config::Settings;
use poortwachter::domain::token::Token;
use poortwachter::domain::totp::TotpSecret;
use poortwachter::keyring::Keyring;
use sha1::{Digest, Sha1};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

pub const PASSWORD: &str = "Bench-Wachtwoord-2026!";

pub fn username(i: u64) -> String {
    format!("user{i}")
}

/// Each user's TOTP secret, derived from its number so the driver can make codes.
pub fn secret(i: u64) -> TotpSecret {
    let digest = Sha1::digest(format!("bench secret {i}").as_bytes());
    TotpSecret::from_bytes(&digest).expect("20 bytes")
}

pub async fn users(pool: &SqlitePool, settings: &Settings, count: u64) -> anyhow::Result<()> {
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
        let mut users: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO users (id, org_id, username, email, display_name, password_hash, state, created_at) ",
        );
        users.push_values(start..end, |mut row, i| {
            row.push_bind(i as i64 + 1)
                .push_bind(1i64)
                .push_bind(username(i))
                .push_bind(format!("{}@bench.test", username(i)))
                .push_bind(format!("Gebruiker {i}"))
                .push_bind(hash.clone())
                .push_bind("active")
                .push_bind(0i64);
        });
        users.build().execute(&mut *tx).await?;
        let mut credentials: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO totp_credentials (user_id, key_version, sealed, state, created_at, activated_at) ",
        );
        let mut rng = rand::rngs::OsRng;
        let sealed: Vec<_> = (start..end)
            .map(|i| keyring.seal(i as i64 + 1, secret(i).expose_bytes(), &mut rng))
            .collect();
        credentials.push_values((start..end).zip(sealed), |mut row, (i, sealed)| {
            row.push_bind(i as i64 + 1)
                .push_bind(i32::from(sealed.key_version))
                .push_bind(sealed.blob)
                .push_bind("active")
                .push_bind(0i64)
                .push_bind(0i64);
        });
        credentials.build().execute(&mut *tx).await?;
        tx.commit().await?;
        start = end;
    }
    Ok(())
}

/// Half-logged-in sessions (password step done) for users `first..first + count`: each
/// probe of the code check uses one, with the right code, and is logged in by it.
pub async fn half_sessions(
    pool: &SqlitePool,
    first: u64,
    count: u64,
    now: i64,
) -> anyhow::Result<Vec<(u64, String)>> {
    sessions(pool, first, count, now, "second_factor").await
}

/// Sessions of users `first..first + count` at login `stage` (`complete`: logged in).
pub async fn sessions(
    pool: &SqlitePool,
    first: u64,
    count: u64,
    now: i64,
    stage: &str,
) -> anyhow::Result<Vec<(u64, String)>> {
    let mut rng = rand::rngs::OsRng;
    let sessions: Vec<(u64, Token)> = (first..first + count)
        .map(|i| (i, Token::generate(&mut rng)))
        .collect();
    let mut insert: QueryBuilder<Sqlite> = QueryBuilder::new(
        "INSERT INTO sessions (id_hash, user_id, stage, created_at, last_seen_at, expires_at) ",
    );
    insert.push_values(&sessions, |mut row, (i, token)| {
        row.push_bind(token.hash().0.to_vec())
            .push_bind(*i as i64 + 1)
            .push_bind(stage)
            .push_bind(now)
            .push_bind(now)
            .push_bind(now + 3600);
    });
    insert.build().execute(pool).await?;
    Ok(sessions
        .into_iter()
        .map(|(i, token)| (i, token.expose().to_owned()))
        .collect())
}
