//! The audit log's evidence: every record linked into a hash chain, signed checkpoints, and
//! `verify` naming the first record that was changed, removed or put in directly in the
//! database (the way an operator with database access would); pruning after the retention
//! that leaves a chain that still verifies; the export an auditor gets.

use crate::common::{Backend, Clock, TestApp, spawn_app, spawn_app_with};
use poortwachter::domain::audit_chain::{Break, ChainHash, Chained, link};
use sqlx::Row;

const GOOD: &str = "Fiets-Sleutel-2024!";

/// An app with some history: two users invited and activated, one logged in. Sealed, with
/// a checkpoint at its head.
async fn with_history() -> TestApp {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    app.active_user("acme", "piet", GOOD).await;
    app.full_login("jan", GOOD).await;
    app.evidence.seal().await.unwrap();
    app.evidence
        .checkpoint()
        .await
        .unwrap()
        .expect("a checkpoint");
    app
}

async fn verify(app: &TestApp) -> poortwachter::evidence::Verification {
    app.evidence.seal().await.unwrap();
    app.evidence.verify(None).await.unwrap()
}

/// A hash as a literal of the test's database.
fn blob(app: &TestApp, hash: &ChainHash) -> String {
    match app.backend {
        Backend::Sqlite => format!("X'{}'", hash.hex()),
        Backend::Postgres => format!("decode('{}', 'hex')", hash.hex()),
    }
}

async fn count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&app.db().await)
        .await
        .unwrap()
}

/// The chain's last place as stored.
async fn last_seq(db: &sqlx::AnyPool) -> i64 {
    sqlx::query_scalar("SELECT MAX(seq) FROM audit_log")
        .fetch_one(db)
        .await
        .unwrap()
}

store_tests! {
    async fn every_record_is_linked_and_an_intact_chain_verifies() {
        let app = with_history().await;
        let result = verify(&app).await;
        assert_eq!(result.broken, None);
        assert_eq!(result.unsealed, 0);
        assert_eq!(result.checked as i64, count(&app).await);
        assert!(result.checked > 10, "{result:?}");
        assert_eq!(result.checkpoints, 1);
        // Places are 1, 2, 3 … with no gap, in the order written.
        let db = app.db().await;
        let places: Vec<i64> = sqlx::query_scalar("SELECT seq FROM audit_log ORDER BY id")
            .fetch_all(&db)
            .await
            .unwrap();
        assert_eq!(places, (1..=places.len() as i64).collect::<Vec<_>>());
    }

    async fn verify_names_a_changed_record() {
        let app = with_history().await;
        let db = app.db().await;
        sqlx::query("UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 5")
            .execute(&db)
            .await
            .unwrap();
        let result = verify(&app).await;
        assert!(
            matches!(result.broken, Some(Break::Altered { seq: 5, .. })),
            "{result:?}"
        );
        assert_eq!(result.checked, 4, "the records before it check out");
    }

    async fn verify_names_a_removed_record() {
        let app = with_history().await;
        let db = app.db().await;
        sqlx::query("DELETE FROM audit_log WHERE seq = 7")
            .execute(&db)
            .await
            .unwrap();
        let result = verify(&app).await;
        assert_eq!(result.broken, Some(Break::Missing { after: 6, found: 8 }));
    }

    async fn verify_names_a_record_put_in_afterwards() {
        let app = with_history().await;
        let db = app.db().await;
        let head = last_seq(&db).await;
        // At the end, with a made-up hash (the next place is free).
        sqlx::query(&format!(
            "INSERT INTO audit_log (at, event, outcome, username, seq, hash) \
             VALUES (1, 'login_code', 'success', 'piet', {}, {})",
            head + 1,
            blob(&app, &ChainHash([7; 32]))
        ))
        .execute(&db)
        .await
        .unwrap();
        let result = app.evidence.verify(None).await.unwrap();
        assert!(
            matches!(result.broken, Some(Break::Altered { seq, .. }) if seq == head + 1),
            "{result:?}"
        );
    }

    async fn a_chain_rewritten_with_fresh_hashes_is_caught_by_the_signed_checkpoint() {
        let app = with_history().await;
        let db = app.db().await;
        // Record 3 changed and every hash from there on computed again, as someone who knows
        // the algorithm but not the signing key would.
        sqlx::query("UPDATE audit_log SET username = 'someone_else' WHERE seq = 3")
            .execute(&db)
            .await
            .unwrap();
        let rows = sqlx::query(
            "SELECT seq, at, event, outcome, org_id, user_id, username, client, detail \
             FROM audit_log ORDER BY seq",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        let mut previous = ChainHash::GENESIS;
        for row in &rows {
            let (username, client, detail): (Option<String>, Option<String>, Option<String>) = (
                row.get("username"),
                row.get("client"),
                row.get("detail"),
            );
            let (event, outcome): (String, String) = (row.get("event"), row.get("outcome"));
            let seq: i64 = row.get("seq");
            previous = link(
                &previous,
                seq,
                &Chained {
                    at: row.get("at"),
                    event: &event,
                    outcome: &outcome,
                    org_id: row.get("org_id"),
                    user_id: row.get("user_id"),
                    username: username.as_deref(),
                    client: client.as_deref(),
                    detail: detail.as_deref(),
                },
            );
            sqlx::query(&format!(
                "UPDATE audit_log SET hash = {} WHERE seq = {seq}",
                blob(&app, &previous)
            ))
            .execute(&db)
            .await
            .unwrap();
        }
        let result = app.evidence.verify(None).await.unwrap();
        assert!(
            matches!(result.broken, Some(Break::Checkpoint { .. })),
            "{result:?}"
        );

        // And a checkpoint changed to match is not signed by this server.
        sqlx::query(&format!(
            "UPDATE audit_checkpoints SET hash = {}",
            blob(&app, &previous)
        ))
        .execute(&db)
        .await
        .unwrap();
        let result = app.evidence.verify(None).await.unwrap();
        assert!(
            matches!(result.broken, Some(Break::Forged { .. })),
            "{result:?}"
        );
    }

    async fn records_removed_at_the_end_are_caught() {
        let app = with_history().await;
        let db = app.db().await;
        let head = last_seq(&db).await;
        sqlx::query(&format!("DELETE FROM audit_log WHERE seq > {}", head - 3))
            .execute(&db)
            .await
            .unwrap();
        let result = app.evidence.verify(None).await.unwrap();
        assert_eq!(
            result.broken,
            Some(Break::Truncated {
                seq: head,
                head: head - 3
            })
        );
    }

    async fn pruning_after_five_years_keeps_a_chain_that_verifies() {
        let app = spawn_app_with(|s| s.audit_retention_days = 1830).await;
        app.active_user("acme", "jan", GOOD).await;
        // The mails' delivery lines are written as the mails go out: all of them before the
        // count, or one could land at the old time after it.
        app.mail_settled().await;
        app.evidence.seal().await.unwrap();
        let old = count(&app).await;
        // Five years and a day later, more happens.
        app.clock.advance(1831 * 86400);
        app.full_login("jan", GOOD).await;
        app.evidence.seal().await.unwrap();
        // Within the retention nothing goes.
        let too_soon = app.clock.now() - 1832 * 86400;
        assert_eq!(app.evidence.prune(too_soon).await.unwrap(), 0);

        let keep_since = app.clock.now() - 1830 * 86400;
        let removed = app.evidence.prune(keep_since).await.unwrap();
        assert_eq!(removed as i64, old);
        let result = verify(&app).await;
        assert_eq!(result.broken, None, "{result:?}");
        assert_eq!(result.start.seq, old, "the walk starts at the cut's checkpoint");
        assert!(result.checked > 0);
        let db = app.db().await;
        let pruned: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE event = 'audit_pruned'")
                .fetch_one(&db)
                .await
                .unwrap();
        assert_eq!(pruned, 1);

        // Removing the cut's checkpoint (to hide a cut made by hand) is caught.
        sqlx::query("DELETE FROM audit_checkpoints")
            .execute(&db)
            .await
            .unwrap();
        let result = app.evidence.verify(None).await.unwrap();
        assert_eq!(result.broken, Some(Break::Checkpoint { seq: old }));
    }

    async fn the_export_has_the_fields_an_auditor_needs() {
        let app = with_history().await;
        let machine = app.machine(&["acme"]).await;
        let get = |query: &str| {
            let request = reqwest::Client::new()
                .get(app.url(&format!("/api/v1/organizations/acme/audit/export?{query}")))
                .bearer_auth(&machine.token);
            async move {
                let response = request.send().await.unwrap();
                (response.status(), response.text().await.unwrap())
            }
        };
        let day = |unix: i64| jiff::Timestamp::from_second(unix).unwrap().to_string();
        let now = app.clock.now();
        let range = format!("from={}&to={}", day(now - 86400), day(now + 86400));
        let (status, jsonl) = get(&range).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{jsonl}");
        let lines: Vec<serde_json::Value> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(lines.len() > 5);
        let login = lines
            .iter()
            .find(|l| l["event"] == "login_code" && l["outcome"] == "success")
            .expect("a login line");
        for field in ["seq", "at", "organization", "user_id", "username", "address", "hash"] {
            assert!(!login[field].is_null(), "{field}: {login}");
        }
        assert_eq!(login["organization"], "acme");

        let (status, csv) = get(&format!("{range}&format=csv")).await;
        assert_eq!(status, reqwest::StatusCode::OK);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let headers = reader.headers().unwrap().clone();
        assert_eq!(&headers[1], "at");
        assert_eq!(reader.records().count(), lines.len());

        let (status, _) = get("from=yesterday&to=now").await;
        assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    }
}
