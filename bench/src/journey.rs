//! One new user's whole journey over HTTP, as the full-journeys phase runs it.

use std::time::{Duration, Instant};

use poortwachter::admin::Admin;
use reqwest::StatusCode;

use crate::{load, seed};

/// The whole journey of one new user: invite → activate (OPSLAAN) → password →
/// AUTHENTICATOR APP → the code from the set-up e-mail → logged in.
pub async fn journey(
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
    let now = seed::unix_now();
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
