//! Toegang op orde: the application registers expected logins over the admin API, the
//! look-ahead pass mails a user who is not ready (over real SMTP, once, in the daytime) and
//! a ready user nothing, the test login runs a new login and shows what to fix, and HR's
//! overview puts the blocked first with the action that fixes them.

use crate::common::{
    Clock, TestApp, app_code, browser, csrf_of, location, spawn_app, spawn_app_with,
};
use poortwachter::admin::LookAheadPass;
use poortwachter::store::AuditFilter;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const GOOD: &str = "Fiets-Sleutel-2024!";
const DAY: i64 = 24 * 3600;

fn unix(rfc3339: &str) -> i64 {
    rfc3339.parse::<jiff::Timestamp>().unwrap().as_second()
}

/// 10:00 in Amsterdam on a Monday: look-ahead mail may go out.
fn morning() -> i64 {
    unix("2027-03-01T09:00:00Z")
}

async fn put(app: &TestApp, token: &str, path: &str, body: Value) -> crate::common::api::Answer {
    let body = serde_json::to_vec(&body).unwrap();
    app.api(
        Some(token),
        Method::PUT,
        path,
        Some(("application/json", body)),
        &[],
    )
    .await
}

fn expected_path(username: &str, key: &str) -> String {
    format!("/api/v1/organizations/acme/users/{username}/expected-logins/{key}")
}

async fn audit_events(app: &TestApp) -> Vec<String> {
    app.store
        .audit_entries(&AuditFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event.as_str().to_owned())
        .collect()
}

store_tests! {
    async fn the_look_ahead_mail_goes_once_to_a_user_who_is_not_ready_and_never_to_one_who_is() {
        let app = spawn_app().await;
        app.clock.set(morning());
        // piet activated but never set up the app; anna did, and saved her herstelcodes.
        app.active_user("acme", "piet", GOOD).await;
        app.active_user("acme", "anna", GOOD).await;
        app.full_login_with(&browser(), "anna", GOOD).await;
        let machine = app.machine(&["acme"]).await;
        // Ten days ahead: 00:00 in Amsterdam on 11 March.
        let piet = put(&app, &machine.token, &expected_path("piet", "plan_van_aanpak"),
            json!({"due_at": "2027-03-11", "label": "plan van aanpak"})).await;
        assert_eq!(piet.status, StatusCode::CREATED, "{:?}", piet.body);
        assert_eq!(piet.body["result"], "created");
        assert_eq!(piet.body["readiness"], "at_risk");
        assert_eq!(piet.body["reasons"][0]["code"], "two_step_not_set_up");
        assert_eq!(piet.body["reasons"][0]["text"], "Je hebt de authenticator-app nog niet ingesteld.");
        let anna = put(&app, &machine.token, &expected_path("anna", "plan_van_aanpak"),
            json!({"due_at": "2027-03-11"})).await;
        assert_eq!(anna.status, StatusCode::CREATED);
        assert_eq!(anna.body["readiness"], "ready", "{:?}", anna.body);
        // Idempotent: the same again changes nothing.
        let again = put(&app, &machine.token, &expected_path("piet", "plan_van_aanpak"),
            json!({"due_at": "2027-03-11", "label": "plan van aanpak"})).await;
        assert_eq!((again.status, again.body["result"].as_str()), (StatusCode::OK, Some("unchanged")));

        assert_eq!(piet.body["expected_login"]["due_at"], "2027-03-10T23:00:00Z");
        // Ten days ahead: outside the window of seven.
        let pass = app.admin.look_ahead(app.clock.now()).await.unwrap();
        assert_eq!(pass, LookAheadPass::default());
        app.clock.advance(4 * DAY);
        // Two instances at once: one mail.
        let now = app.clock.now();
        let (first, second) = tokio::join!(app.admin.look_ahead(now), app.admin.look_ahead(now));
        assert_eq!(first.unwrap().mailed + second.unwrap().mailed, 1);
        let mail = app.mail_to("piet", 2).await;
        assert_eq!(mail.subject, "Controleer of je nog kunt inloggen");
        assert!(mail.text.contains("Je hebt de authenticator-app nog niet ingesteld."), "{}", mail.text);
        assert_eq!(mail.link_path(), "/toegang");
        assert!(!mail.text.contains("plan van aanpak"), "the label stays out of the mail");
        assert!(mail.html.contains("href=\"http://localhost/toegang\""));
        assert_eq!(app.admin.look_ahead(app.clock.now()).await.unwrap().mailed, 0, "once");
        let anna_mail = app.subjects_to("anna").await;
        assert!(!anna_mail.iter().any(|s| s.contains("Controleer")), "{anna_mail:?}");

        // HR's overview over the API: piet (at risk) before anna (ready), his mail noted.
        let machine = crate::common::api::Machine {
            token: app.machine_token(&machine.id, &machine.secret).await,
            ..machine
        };
        let overview = machine.get(&app, "/api/v1/organizations/acme/readiness?days=14").await;
        assert_eq!(overview.status, StatusCode::OK);
        let users = overview.body["users"].as_array().unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!((users[0]["username"].as_str(), users[0]["readiness"].as_str()), (Some("piet"), Some("at_risk")));
        assert!(users[0]["expected_login"]["reminded_at"].is_string());
        assert_eq!(users[0]["expected_login"]["label"], "plan van aanpak");
        assert_eq!((users[1]["username"].as_str(), users[1]["readiness"].as_str()), (Some("anna"), Some("ready")));

        // A new date is a new expected login: its mail is due again.
        let moved = put(&app, &machine.token, &expected_path("piet", "plan_van_aanpak"),
            json!({"due_at": "2027-03-12", "label": "plan van aanpak"})).await;
        assert_eq!(moved.body["result"], "changed");
        assert!(moved.body["expected_login"]["reminded_at"].is_null());
        assert_eq!(app.admin.look_ahead(app.clock.now()).await.unwrap().mailed, 1);

        let one = machine.get(&app, "/api/v1/organizations/acme/users/piet/readiness").await;
        assert_eq!(one.body["expected_logins"].as_array().unwrap().len(), 1);
        assert_eq!(one.body["readiness"], "at_risk");
        let gone = app.api(Some(&machine.token), Method::DELETE, &expected_path("piet", "plan_van_aanpak"), None, &[]).await;
        assert_eq!(gone.status, StatusCode::NO_CONTENT);
        let again = app.api(Some(&machine.token), Method::DELETE, &expected_path("piet", "plan_van_aanpak"), None, &[]).await;
        assert_eq!(again.status, StatusCode::NOT_FOUND);
        assert_eq!(again.problem(), "not-found");

        let events = audit_events(&app).await;
        for event in ["expected_login_registered", "look_ahead_mail", "expected_login_withdrawn"] {
            assert!(events.iter().any(|e| e == event), "{event} in {events:?}");
        }
        // Unchanged registrations write nothing: piet created + moved, anna created.
        assert_eq!(events.iter().filter(|e| *e == "expected_login_registered").count(), 3);
    }

    async fn the_running_server_sends_the_look_ahead_mail_by_itself() {
        let app = spawn_app_with(|s| s.look_ahead_poll_seconds = 1).await;
        app.clock.set(morning());
        app.active_user("acme", "piet", GOOD).await;
        app.admin
            .expect_login("acme", "piet", "plan", app.clock.now() + 3 * DAY, None)
            .await
            .unwrap();
        // No pass is called here: the server's own worker finds it within a second or two.
        let mail = app.mail_to("piet", 2).await;
        assert_eq!(mail.subject, "Controleer of je nog kunt inloggen");
        let events = audit_events(&app).await;
        assert_eq!(events.iter().filter(|e| *e == "look_ahead_mail").count(), 1);
    }

    async fn no_look_ahead_mail_goes_out_at_night_and_bad_registrations_are_refused() {
        let app = spawn_app().await;
        // 02:00 in Amsterdam, three days before the login.
        app.clock.set(unix("2027-03-01T01:00:00Z"));
        app.active_user("acme", "piet", GOOD).await;
        app.invite("acme", "globex-not").await;
        let machine = app.machine(&["acme"]).await;
        let registered = put(&app, &machine.token, &expected_path("piet", "wia"),
            json!({"due_at": "2027-03-04T09:00:00+01:00"})).await;
        assert_eq!(registered.status, StatusCode::CREATED);
        assert_eq!(registered.body["expected_login"]["due_at"], "2027-03-04T08:00:00Z");
        let pass = app.admin.look_ahead(app.clock.now()).await.unwrap();
        assert_eq!((pass.looked_at, pass.mailed, pass.waiting_for_day), (1, 0, 1));
        app.clock.set(unix("2027-03-01T07:30:00Z"));
        assert_eq!(app.admin.look_ahead(app.clock.now()).await.unwrap().mailed, 1);
        let mail = app.mail_to("piet", 2).await;
        assert!(mail.text.contains("4 maart 2027"), "{}", mail.text);
        // The invited user cannot log in yet: no test login link, the employer helps.
        let machine = app.machine(&["acme"]).await;
        let invited = put(&app, &machine.token, &expected_path("globex-not", "wia"), json!({"due_at": "2027-03-04"})).await;
        assert_eq!(invited.status, StatusCode::CREATED, "{:?}", invited.body);
        assert_eq!(invited.body["reasons"][0]["code"], "not_activated");
        assert_eq!(app.admin.look_ahead(app.clock.now()).await.unwrap().mailed, 1);
        let invited = app.mail_to("globex-not", 2).await;
        assert!(invited.text.contains("Je hebt je account nog niet geactiveerd"), "{}", invited.text);
        assert!(!invited.text.contains("/toegang"));

        for (path, body, why) in [
            (expected_path("piet", "wia"), json!({"due_at": "2027-02-01"}), "in the past"),
            (expected_path("piet", "wia"), json!({"due_at": "morgen"}), "not a date"),
            (expected_path("piet", "met%20spatie"), json!({"due_at": "2027-04-01"}), "a bad key"),
            (expected_path("piet", "wia"), json!({"due_at": "2027-04-01", "diagnose": "x"}), "an unknown field"),
            (expected_path("piet", "wia"), json!({"due_at": "2031-04-01"}), "too far ahead"),
        ] {
            let refused = put(&app, &machine.token, &path, body).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {:?}", refused.body);
        }
        let unknown = put(&app, &machine.token, &expected_path("niemand", "wia"), json!({"due_at": "2027-04-01"})).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        let other = put(&app, &machine.token, "/api/v1/organizations/globex/users/piet/expected-logins/wia", json!({"due_at": "2027-04-01"})).await;
        assert_eq!(other.status, StatusCode::FORBIDDEN);
    }

    async fn the_test_login_asks_for_a_new_login_and_shows_what_to_fix() {
        let app = spawn_app().await;
        app.clock.set(morning());
        app.active_user("acme", "anna", GOOD).await;
        let anna = browser();
        app.full_login_with(&anna, "anna", GOOD).await;
        // Her herstelcodes are used up.
        let db = app.db().await;
        sqlx::query("UPDATE recovery_codes SET used_at = 1 WHERE user_id = (SELECT id FROM users WHERE username = 'anna')")
            .execute(&db).await.unwrap();
        app.clock.advance(60);

        // Logged in already, she still gets the test login's page, not its result …
        let intro = app.get_with(&anna, "/toegang").await.text().await.unwrap();
        assert!(intro.contains("Hier kun je oefenen met inloggen"), "{intro}");
        // … and the login page asks again instead of sending her on.
        let login = app.get_with(&anna, "/login").await;
        assert_eq!(login.status(), StatusCode::OK);
        let password = app.login_with(&anna, "anna", GOOD).await;
        assert_eq!(location(&password), "/2fa");
        app.choose_app_with(&anna).await;
        app.clock.advance(30);
        let key = app.keys.lock().unwrap().get("anna").cloned().unwrap();
        let code = app.send_code_with(&anna, &app_code(&key, app.clock.now())).await;
        assert_eq!(location(&code), "/toegang", "the login comes back to the test");
        let result = app.get_with(&anna, "/toegang").await.text().await.unwrap();
        assert!(result.contains("Inloggen lukt, maar regel dit nu:"), "{result}");
        assert!(result.contains("Je hebt geen herstelcodes meer."));
        assert!(result.contains("href=\"/account/recovery-codes\""));
        let events = audit_events(&app).await;
        assert_eq!(events.iter().filter(|e| *e == "access_checked").count(), 1);

        // With codes again, a reload says all is well (and records nothing more).
        app.clock.advance(60);
        sqlx::query("UPDATE recovery_codes SET used_at = NULL WHERE user_id = (SELECT id FROM users WHERE username = 'anna')")
            .execute(&db).await.unwrap();
        let well = app.get_with(&anna, "/toegang").await.text().await.unwrap();
        assert!(well.contains("Alles is in orde."), "{well}");
        assert_eq!(audit_events(&app).await.iter().filter(|e| *e == "access_checked").count(), 1);
        // The test is over: the login page sends a logged-in browser on as usual.
        let login = app.get_with(&anna, "/login").await;
        assert_eq!(location(&login), "/");
    }

    async fn hr_sees_the_blocked_first_and_fixes_them_from_the_overview() {
        let app = spawn_app().await;
        app.clock.set(morning());
        app.active_user("acme", "baas", GOOD).await;
        app.active_user("acme", "piet", GOOD).await;
        app.admin.set_beheerder("acme", "baas", true).await.unwrap();
        let baas = browser();
        app.full_login_with(&baas, "baas", GOOD).await;
        app.admin.set_disabled("acme", "piet", true).await.unwrap();
        let soon = app.clock.now() + 5 * DAY;
        app.admin.expect_login("acme", "baas", "evaluatie", soon, None).await.unwrap();
        app.admin.expect_login("acme", "piet", "plan", soon + DAY, Some("plan van aanpak")).await.unwrap();

        let page = app.get_with(&baas, "/beheer/toegang").await.text().await.unwrap();
        let piet = page.find("(piet)").expect("piet listed");
        let baas_row = page.find("(baas)").expect("baas listed");
        assert!(piet < baas_row, "the blocked first");
        assert!(page.contains("<tr class=\"blocked\">"));
        assert!(page.contains("account uitgezet"));
        assert!(page.contains("action=\"/beheer/medewerkers/piet/inschakelen\""));
        let enabled = app.post_with(&baas, "/beheer/medewerkers/piet/inschakelen", &csrf_of(&page), &[("terug", "toegang")]).await;
        assert_eq!(location(&enabled), "/beheer/toegang?notice=enabled");
        let after = app.get_with(&baas, "/beheer/toegang").await.text().await.unwrap();
        assert!(!after.contains("<tr class=\"blocked\">"), "{after}");
        assert!(after.contains("app nog niet ingesteld"));
    }
}
