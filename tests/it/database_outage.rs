//! A database that goes away while the service runs: requests get a clear 503 page (with
//! Retry-After) instead of an error or a hang, and the service recovers by itself when the
//! database returns. PostgreSQL only: an embedded SQLite file cannot go away.

use std::time::Duration;

use crate::common::proxy::CuttableProxy;
use crate::common::*;
use reqwest::StatusCode;

#[tokio::test]
#[cfg_attr(
    not(test_postgres),
    ignore = "POORTWACHTER_TEST_POSTGRES_URL is not set"
)]
async fn requests_get_a_503_page_while_the_database_is_away_and_recover() {
    let base = std::env::var(POSTGRES_ENV).unwrap();
    let parsed = url::Url::parse(&base).unwrap();
    let target = format!(
        "{}:{}",
        parsed.host_str().unwrap(),
        parsed.port().unwrap_or(5432)
    );
    let proxy = CuttableProxy::start(target).await;
    let app = BACKEND
        .scope(Backend::Postgres, async {
            spawn_app_with(|s| {
                let mut through_proxy = url::Url::parse(s.database_url.as_ref().unwrap()).unwrap();
                through_proxy.set_port(Some(proxy.port)).unwrap();
                through_proxy.set_host(Some("127.0.0.1")).unwrap();
                s.database_url = Some(through_proxy.to_string());
                s.database_timeout_seconds = 1;
            })
            .await
        })
        .await;
    app.active_user("acme", "jan", "Fiets-Sleutel-2024!").await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);

    proxy.cut();
    for path in [
        "/readyz",
        "/invite/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(response.headers()["retry-after"], "5");
        let html = response.text().await.unwrap();
        assert!(html.contains("Even niet beschikbaar") && html.contains("Nothing was lost"));
    }
    let login = app.login("jan", "Fiets-Sleutel-2024!").await;
    assert_eq!(login.status(), StatusCode::SERVICE_UNAVAILABLE);
    // An application's call gets OAuth JSON, not the page (RFC 6749 §5.2).
    let token = app
        .client
        .post(app.url("/oauth2/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", "verzuimcoach"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(token.headers()["retry-after"], "5");
    let answer: serde_json::Value = serde_json::from_str(&token.text().await.unwrap()).unwrap();
    assert_eq!(answer["error"], "temporarily_unavailable", "{answer}");
    assert_eq!(
        app.get("/healthz").await.status(),
        StatusCode::OK,
        "the process lives"
    );

    proxy.restore();
    let mut recovered = false;
    for _ in 0..50 {
        if app.get("/readyz").await.status() == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "ready again once the database is back");
    app.full_login("jan", "Fiets-Sleutel-2024!").await;
}

#[test]
fn a_database_that_is_down_at_start_stops_the_server_with_a_clear_message() {
    let data = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_poortwachter"))
        .arg("serve")
        .current_dir(data.path())
        .env(
            "POORTWACHTER_DATABASE_URL",
            "postgres://postgres:secret@127.0.0.1:1/test",
        )
        .env("POORTWACHTER_DATABASE_TIMEOUT_SECONDS", "1")
        .env("POORTWACHTER_BIND", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("database_url") && message.contains("127.0.0.1:1"),
        "{message}"
    );
    assert!(
        !message.contains("secret"),
        "the password is not printed: {message}"
    );
}
