//! The Prometheus endpoint on its own listener: what a journey leaves in it, and that every
//! metric the alert rules and the dashboard in `deploy/` name is one the service exports.

use crate::common::*;
use poortwachter::telemetry::METRICS;
use reqwest::StatusCode;

const GOOD: &str = "Fiets-Sleutel-2024!";

/// The `metrics` recorder is one per process: the servers of these tests share it, so the
/// gauges one sets would show in another's scrape. One test at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn scrape(app: &TestApp) -> String {
    let url = format!("{}/metrics", app.metrics.as_ref().expect("metrics are on"));
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    response.text().await.unwrap()
}

/// The value of the sample `series` (name with labels, as rendered), if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// Every `poortwachter_…` name in a rule or dashboard file.
fn names_in(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .match_indices("poortwachter_")
        .map(|(at, _)| {
            text[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

#[tokio::test]
async fn a_journey_shows_in_the_metrics_and_only_on_the_metrics_listener() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let app = spawn_app_with(|s| s.metrics_bind = Some("127.0.0.1:0".into())).await;
    app.active_user("acme", "jan", GOOD).await;
    app.full_login("jan", GOOD).await;
    let wrong = app
        .login_with(&browser(), "jan", "Verkeerd-Wachtwoord-1")
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    app.get("/does/not/exist").await;

    // Not on the public listener.
    assert_eq!(app.get("/metrics").await.status(), StatusCode::NOT_FOUND);

    // The last notice of the journey (two-step verification on) may still be on its way.
    let mut text = scrape(&app).await;
    for _ in 0..50 {
        if value(&text, "poortwachter_outbox_depth") == Some(0.0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        text = scrape(&app).await;
    }
    let at_least = |series: &str, minimum: f64| {
        let found = value(&text, series).unwrap_or_else(|| panic!("{series} missing:\n{text}"));
        assert!(found >= minimum, "{series} = {found}");
    };
    at_least(
        r#"poortwachter_logins_total{step="password",outcome="success"}"#,
        1.0,
    );
    at_least(
        r#"poortwachter_logins_total{step="password",outcome="wrong"}"#,
        1.0,
    );
    at_least(
        r#"poortwachter_logins_total{step="code",outcome="success"}"#,
        1.0,
    );
    at_least(
        r#"poortwachter_http_requests_total{route="/login",method="POST",status="303"}"#,
        1.0,
    );
    at_least(
        r#"poortwachter_http_requests_total{route="/invite/{token}",method="GET",status="200"}"#,
        1.0,
    );
    at_least(
        r#"poortwachter_http_requests_total{route="unmatched",method="GET",status="404"}"#,
        1.0,
    );
    at_least(
        r#"poortwachter_http_request_duration_seconds_bucket{route="/login",method="POST",le="+Inf"}"#,
        1.0,
    );
    at_least("poortwachter_mail_delivered_total", 2.0);
    at_least("poortwachter_sessions_live", 1.0);
    at_least("poortwachter_hash_queue_capacity", 1.0);
    at_least(r#"poortwachter_hash_wait_seconds_bucket{le="+Inf"}"#, 1.0);
    assert_eq!(value(&text, "poortwachter_outbox_depth"), Some(0.0));
    assert_eq!(
        value(&text, "poortwachter_outbox_oldest_age_seconds"),
        Some(0.0)
    );
    assert!(text.contains("poortwachter_db_connections{pool="), "{text}");
    // No secret reaches a label: the token in a link is a route template.
    let invited = app.invite("acme", "piet").await;
    app.get(&invited.link[PUBLIC_URL.len()..]).await;
    let token = invited.link.rsplit('/').next().unwrap();
    assert!(!scrape(&app).await.contains(token));
}

#[tokio::test]
async fn a_stuck_outbox_and_failing_mail_show_before_any_alert_would() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let app = spawn_app_with(|s| s.metrics_bind = Some("127.0.0.1:0".into())).await;
    app.smtp.set_refusing(true);
    app.create_org(
        "acme",
        poortwachter::domain::lang::Lang::Nl,
        Default::default(),
    )
    .await;
    app.invite("acme", "jan").await;
    app.clock.advance(700);
    let text = scrape(&app).await;
    assert_eq!(value(&text, "poortwachter_outbox_depth"), Some(1.0));
    let age = value(&text, "poortwachter_outbox_oldest_age_seconds").unwrap();
    assert!(age >= 700.0, "{age}");
}

#[tokio::test]
async fn every_metric_the_alert_rules_and_dashboard_name_is_exported() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let app = spawn_app_with(|s| s.metrics_bind = Some("127.0.0.1:0".into())).await;
    app.active_user("acme", "jan", GOOD).await;
    app.full_login("jan", GOOD).await;
    let text = scrape(&app).await;
    let exported: Vec<&str> = METRICS.iter().map(|m| m.name).collect();
    for file in [
        "deploy/prometheus/alerts.yml",
        "deploy/grafana/poortwachter.json",
    ] {
        let content = std::fs::read_to_string(file).unwrap();
        let names = names_in(&content);
        assert!(!names.is_empty(), "{file} names metrics");
        for name in names {
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .unwrap_or(&name);
            assert!(
                exported.contains(&base),
                "{file}: {name} is not a metric of ours"
            );
            assert!(
                text.lines().any(|l| l.starts_with(name.as_str())),
                "{file}: {name} is not in a scrape"
            );
        }
    }
    // The dashboard is valid JSON with panels; the rule file has the rules it promises.
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("deploy/grafana/poortwachter.json").unwrap())
            .unwrap();
    assert!(dashboard["panels"].as_array().unwrap().len() >= 8);
    let rules = std::fs::read_to_string("deploy/prometheus/alerts.yml").unwrap();
    for alert in [
        "PoortwachterOutboxStuck",
        "PoortwachterHashingQueueFull",
        "PoortwachterHighErrorRate",
    ] {
        assert!(rules.contains(&format!("alert: {alert}")), "{alert}");
    }
}
