//! The admin API (`/api/v1`): machine clients with client-credentials tokens invite and
//! manage the users of their own organizations, and nothing of any other.

use std::time::Duration;

use crate::common::api::Machine;
use crate::common::oidc::start_login;
use crate::common::{TestApp, spawn_app, spawn_app_with};
use openidconnect::OAuth2TokenResponse;
use poortwachter::admin::ClientRegistration;
use poortwachter::domain::lang::Lang;
use poortwachter::domain::oidc::client::GrantKind;
use poortwachter::domain::password::PasswordPolicy;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const USERS: &str = "/api/v1/organizations/acme/users";
const GOOD: &str = "Fiets-Sleutel-2024!";

async fn wait_until(mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition not reached in 5 s");
}

/// acme and globex, each with a user, and a machine client of acme.
async fn two_orgs() -> (TestApp, Machine) {
    let app = spawn_app().await;
    app.create_org("acme", Lang::Nl, PasswordPolicy::default())
        .await;
    app.create_org("globex", Lang::En, PasswordPolicy::default())
        .await;
    app.invite("acme", "jan").await;
    app.invite("globex", "gina").await;
    let machine = app.machine(&["acme"]).await;
    (app, machine)
}

fn invite_body(username: &str) -> Value {
    json!({
        "username": username,
        "email": format!("{username}@example.nl"),
        "display_name": format!("Medewerker {username}"),
    })
}

store_tests! {
    async fn a_machine_client_invites_a_user_who_gets_the_mail() {
        let (app, machine) = two_orgs().await;
        let answer = machine.post(&app, USERS, invite_body("piet")).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
        assert_eq!(answer.body["username"], "piet");
        assert_eq!(answer.body["status"], "invited");
        let mail = app.mail_to("piet", 1).await;
        assert!(mail.subject.starts_with("Activeer je account"), "{}", mail.subject);

        // The onboarding overview follows the mail: sent once the SMTP server took it.
        wait_until(async || {
            machine.get(&app, &format!("{USERS}/piet")).await.body["onboarding"] == "mail_sent"
        })
        .await;
        let user = machine.get(&app, &format!("{USERS}/piet")).await;
        assert_eq!(user.body["status"], "invited");
        assert_eq!(user.body["email"], "piet@example.nl");
        assert!(user.body["invitation_expires_at"].as_str().unwrap().ends_with('Z'));

        // The audit line names the client that acted.
        let audit = machine
            .get(&app, "/api/v1/organizations/acme/audit?event=invitation_sent&username=piet")
            .await;
        assert_eq!(audit.status, StatusCode::OK);
        let events = audit.body["events"].as_array().unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["detail"], format!("client {}", machine.id));
    }

    async fn an_idempotency_key_never_sends_a_second_invitation() {
        let (app, machine) = two_orgs().await;
        let body = serde_json::to_vec(&invite_body("piet")).unwrap();
        let key = [("Idempotency-Key", "aanmelding-piet-1")];
        let first = machine.post_raw(&app, USERS, "application/json", &body, &key).await;
        assert_eq!(first.status, StatusCode::CREATED);
        let again = machine.post_raw(&app, USERS, "application/json", &body, &key).await;
        assert_eq!(again.status, StatusCode::CREATED);
        assert_eq!(again.body, first.body);
        assert_eq!(again.headers["idempotent-replayed"], "true");

        // Two at once with a new key: one invitation.
        let body2 = serde_json::to_vec(&invite_body("kees")).unwrap();
        let key2 = [("Idempotency-Key", "aanmelding-kees-1")];
        let (a, b) = tokio::join!(
            machine.post_raw(&app, USERS, "application/json", &body2, &key2),
            machine.post_raw(&app, USERS, "application/json", &body2, &key2),
        );
        assert_eq!((a.status, b.status), (StatusCode::CREATED, StatusCode::CREATED));
        assert_eq!(a.body, b.body);

        // The same key with another request is refused, and sends nothing.
        let other = serde_json::to_vec(&invite_body("klaas")).unwrap();
        let reused = machine.post_raw(&app, USERS, "application/json", &other, &key).await;
        assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reused.problem(), "idempotency-key-reused");

        app.mail_to("piet", 1).await;
        app.mail_to("kees", 1).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let to = |who: &str| {
            app.smtp
                .received()
                .iter()
                .filter(|m| m.to.iter().any(|r| r == &format!("{who}@example.nl")))
                .count()
        };
        assert_eq!((to("piet"), to("kees"), to("klaas")), (1, 1, 0));
        assert_eq!(app.usernames("acme").await, ["jan", "kees", "piet"]);
    }

    async fn a_client_of_one_organization_reaches_nothing_of_another() {
        let (app, machine) = two_orgs().await;
        // Every route, for an organization the client may not manage: 403, the same answer
        // whether the organization exists or not.
        let routes: Vec<(Method, &str)> = vec![
            (Method::GET, ""),
            (Method::PATCH, ""),
            (Method::GET, "/users"),
            (Method::POST, "/users"),
            (Method::POST, "/users/bulk"),
            (Method::GET, "/users/gina"),
            (Method::POST, "/users/gina/invitation"),
            (Method::POST, "/users/gina/disable"),
            (Method::POST, "/users/gina/enable"),
            (Method::POST, "/users/gina/unlock"),
            (Method::POST, "/users/gina/reset-two-step"),
            (Method::POST, "/users/gina/end-sessions"),
            (Method::GET, "/audit"),
        ];
        for (method, route) in &routes {
            let mut details = Vec::new();
            for org in ["globex", "bestaat-niet"] {
                let path = format!("/api/v1/organizations/{org}{route}");
                let body = Some(("application/json", b"{}".to_vec()));
                let answer = app
                    .api(Some(&machine.token), method.clone(), &path, body, &[])
                    .await;
                assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method} {path}");
                assert_eq!(answer.content_type(), "application/problem+json");
                details.push(answer.body["title"].clone());
            }
            assert_eq!(details[0], details[1], "{method} {route}");
        }
        // Another organization's user through this organization's path: not found.
        for route in ["", "/invitation", "/disable", "/enable", "/unlock", "/reset-two-step", "/end-sessions"] {
            let path = format!("{USERS}/gina{route}");
            let method = if route.is_empty() { Method::GET } else { Method::POST };
            let answer = app.api(Some(&machine.token), method, &path, None, &[]).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        }
        let audit = machine
            .get(&app, "/api/v1/organizations/acme/audit?username=gina")
            .await;
        assert_eq!(audit.status, StatusCode::NOT_FOUND);
        // Inviting globex's username into acme: refused, gina untouched.
        let taken = machine.post(&app, USERS, invite_body("gina")).await;
        assert_eq!(taken.status, StatusCode::CONFLICT);
        assert_eq!(taken.body["errors"][0]["code"], "username_taken");
        let bulk = machine.post(&app, &format!("{USERS}/bulk"), json!([invite_body("nieuw"), invite_body("gina")])).await;
        assert_eq!(bulk.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bulk.body["errors"][1]["problems"][0]["code"], "username_taken");
        assert_eq!(app.usernames("globex").await, ["gina"]);
        assert_eq!(app.usernames("acme").await, ["jan"], "nothing half-done");

        // A cursor made up from globex's user id still lists acme's users only.
        let gina = app.admin.user_overview("globex", "gina").await.unwrap().user.id;
        for id in [gina - 1, gina, 0] {
            let cursor = data_encoding::BASE64URL_NOPAD.encode(format!("c{id}").as_bytes());
            let page = machine.get(&app, &format!("{USERS}?cursor={cursor}")).await;
            assert_eq!(page.status, StatusCode::OK);
            for user in page.body["users"].as_array().unwrap() {
                assert_eq!(user["username"], "jan");
            }
        }
        // The audit log shows acme's lines only.
        let audit = machine.get(&app, "/api/v1/organizations/acme/audit?limit=500").await;
        for event in audit.body["events"].as_array().unwrap() {
            assert_ne!(event["username"], "gina");
        }
    }

    async fn only_a_valid_machine_token_gets_in() {
        let (app, machine) = two_orgs().await;
        // No token, a malformed one, a user's access token: 401 with WWW-Authenticate.
        let none = app.api(None, Method::GET, USERS, None, &[]).await;
        assert_eq!(none.status, StatusCode::UNAUTHORIZED);
        // RFC 6750 §3: no token, no error code; a bad token, invalid_token.
        assert_eq!(none.headers["www-authenticate"], "Bearer realm=\"poortwachter-admin\"");
        assert_eq!(none.body["titles"]["nl"], "Geen geldig toegangstoken");
        assert_eq!(none.body["titles"]["en"], "No valid access token");
        assert_eq!(none.headers["content-language"], "nl");
        assert_eq!(none.headers["content-disposition"], "attachment; filename=\"api.json\"");
        let english = app
            .api(None, Method::GET, USERS, None, &[("Accept-Language", "en-GB,en;q=0.9")])
            .await;
        assert_eq!(english.body["title"], "No valid access token");
        let forged = app.api(Some("eyJhbGciOiJub25lIn0.e30."), Method::GET, USERS, None, &[]).await;
        assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
        assert!(forged.headers["www-authenticate"].to_str().unwrap().contains("error=\"invalid_token\""));

        // A login application cannot use client credentials, a machine client cannot log
        // users in, and a machine client needs an organization.
        let (app_id, app_secret) = app.verzuimcoach().await;
        let refused = app
            .post_token_endpoint("/oauth2/token", &app_id, app_secret.as_deref(), &[("grant_type", "client_credentials")])
            .await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        let body: Value = serde_json::from_slice(&refused.bytes().await.unwrap()).unwrap();
        assert_eq!(body["error"], "unauthorized_client");
        let refused = app
            .post_token_endpoint("/oauth2/token", &machine.id, Some(&machine.secret), &[
                ("grant_type", "authorization_code"), ("code", "x"), ("redirect_uri", "http://127.0.0.1:9/callback"), ("code_verifier", "x"),
            ])
            .await;
        let body: Value = serde_json::from_slice(&refused.bytes().await.unwrap()).unwrap();
        assert_eq!(body["error"], "unauthorized_client");
        let wrong_scope = app
            .post_token_endpoint("/oauth2/token", &machine.id, Some(&machine.secret), &[("grant_type", "client_credentials"), ("scope", "openid")])
            .await;
        let body: Value = serde_json::from_slice(&wrong_scope.bytes().await.unwrap()).unwrap();
        assert_eq!(body["error"], "invalid_scope");
        let orgless = app
            .admin
            .create_client(&ClientRegistration {
                name: "Overal".into(),
                grant: GrantKind::ClientCredentials,
                ..Default::default()
            })
            .await;
        assert!(orgless.is_err(), "a machine client names its organizations");
        let wrong_secret = app
            .post_token_endpoint("/oauth2/token", &machine.id, Some("geraden"), &[("grant_type", "client_credentials")])
            .await;
        assert_eq!(wrong_secret.status(), StatusCode::UNAUTHORIZED);

        // The token works for five minutes.
        assert_eq!(machine.get(&app, USERS).await.status, StatusCode::OK);
        app.clock.advance(301);
        assert_eq!(machine.get(&app, USERS).await.status, StatusCode::UNAUTHORIZED);

        // A removed client's token stops at once.
        let fresh = app.machine_token(&machine.id, &machine.secret).await;
        let check = Machine { token: fresh, ..machine };
        assert_eq!(check.get(&app, USERS).await.status, StatusCode::OK);
        app.admin.remove_client(&check.id).await.unwrap();
        assert_eq!(check.get(&app, USERS).await.status, StatusCode::UNAUTHORIZED);
    }

    async fn a_users_access_token_is_not_an_admin_token() {
        let (app, _machine) = two_orgs().await;
        // A user's RFC 9068 access token is for the application (aud = its client id).
        app.active_user("acme", "beheer", GOOD).await;
        let (id, secret) = app.verzuimcoach().await;
        let metadata = app.discover().await;
        let rp = app.rp(&metadata, &id, secret.as_deref());
        let login = start_login(&rp, &["profile"]);
        let code = app.log_in_at_application(&crate::common::browser(), &login, "beheer", GOOD).await;
        let tokens = app.exchange(&rp, &code, login.verifier).await;
        let token = tokens.access_token().secret().clone();
        // A valid token of ours, but without the admin scope: 403 (RFC 6750 §3.1).
        let answer = app.api(Some(&token), Method::GET, USERS, None, &[]).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        assert_eq!(answer.problem(), "insufficient-scope");
        assert!(answer.headers["www-authenticate"].to_str().unwrap().contains("insufficient_scope"));
    }

    async fn bulk_invitations_from_dutch_excel_are_all_or_nothing() {
        let (app, machine) = two_orgs().await;
        let bulk = format!("{USERS}/bulk");
        // A bad row: nothing is sent, every row's result is told.
        let csv = "\u{feff}gebruikersnaam;e-mailadres;naam\r\nanna;anna@example.nl;Anna\r\nbob;geen-adres;Bob\r\nanna;anna2@example.nl;Anna Twee\r\n";
        let refused = machine.post_raw(&app, &bulk, "text/csv; charset=utf-8", csv.as_bytes(), &[]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(refused.content_type(), "application/problem+json");
        let rows = refused.body["errors"].as_array().unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0]["result"], "not_sent");
        assert_eq!(rows[1]["problems"][0]["code"], "invalid_email");
        assert_eq!(rows[1]["line"], 3);
        assert_eq!(rows[2]["problems"][0]["code"], "duplicate_in_upload");
        assert_eq!(app.usernames("acme").await, ["jan"]);

        // The same file, fixed: everyone invited, each gets a mail.
        let csv = "\u{feff}gebruikersnaam;e-mailadres;naam\r\nanna;anna@example.nl;Anna\r\nbob;bob@example.nl;\"Vries, Bob de\"\r\n";
        let done = machine.post_raw(&app, &bulk, "text/csv", csv.as_bytes(), &[]).await;
        assert_eq!(done.status, StatusCode::CREATED, "{:?}", done.body);
        assert_eq!(done.body["invited"], 2);
        app.mail_to("anna", 1).await;
        let mail = app.mail_to("bob", 1).await;
        assert!(mail.text.contains("Vries, Bob de"), "{}", mail.text);

        // Whole-request problems: wrong header, too many rows, not JSON, unknown fields,
        // another content type.
        let wrong_header = machine.post_raw(&app, &bulk, "text/csv", b"naam,adres\nx,y\n", &[]).await;
        assert_eq!(wrong_header.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong_header.body["detail"].as_str().unwrap().contains("username"));
        let mut big = String::from("username,email,display_name\n");
        for i in 0..1001 {
            big.push_str(&format!("u{i},u{i}@example.nl,U {i}\n"));
        }
        let too_many = machine.post_raw(&app, &bulk, "text/csv", big.as_bytes(), &[]).await;
        assert_eq!(too_many.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(too_many.body["detail"].as_str().unwrap().contains("1001 rows"));
        let rows: Vec<Value> = (0..1001).map(|i| invite_body(&format!("j{i}"))).collect();
        let too_many = machine.post(&app, &bulk, Value::Array(rows)).await;
        assert_eq!(too_many.status, StatusCode::UNPROCESSABLE_ENTITY);
        let malformed = machine.post_raw(&app, &bulk, "application/json", b"[{\"username\":", &[]).await;
        assert_eq!(malformed.status, StatusCode::BAD_REQUEST, "no JSON at all: 400");
        let unknown = machine
            .post(&app, &bulk, json!([{"username": "x1", "email": "x1@example.nl", "display_name": "X", "role": "admin"}]))
            .await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unknown.body["detail"].as_str().unwrap().contains("unknown field"));
        let xml = machine.post_raw(&app, &bulk, "application/xml", b"<users/>", &[]).await;
        assert_eq!(xml.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.usernames("acme").await, ["anna", "bob", "jan"]);

        // A thousand rows fit in one request.
        let rows: Vec<Value> = (0..1000).map(|i| invite_body(&format!("m{i:04}"))).collect();
        let thousand = machine.post(&app, &bulk, Value::Array(rows)).await;
        assert_eq!(thousand.status, StatusCode::CREATED, "{:?}", thousand.body["detail"]);
        assert_eq!(thousand.body["invited"], 1000);
    }

    async fn users_are_listed_by_status_a_page_at_a_time() {
        let (app, machine) = two_orgs().await;
        for name in ["a1", "a2", "a3", "a4"] {
            app.invite("acme", name).await;
        }
        app.active_user("acme", "actief", GOOD).await;
        app.full_login("actief", GOOD).await;
        app.admin.set_disabled("acme", "a4", true).await.unwrap();
        let mut seen = Vec::new();
        let mut path = format!("{USERS}?limit=2");
        loop {
            let page = machine.get(&app, &path).await;
            assert_eq!(page.status, StatusCode::OK);
            let users = page.body["users"].as_array().unwrap();
            assert!(users.len() <= 2);
            seen.extend(users.iter().map(|u| u["username"].as_str().unwrap().to_owned()));
            match page.body["next_cursor"].as_str() {
                Some(cursor) => path = format!("{USERS}?limit=2&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(seen, ["jan", "a1", "a2", "a3", "a4", "actief"]);
        let statuses = |page: &Value| -> Vec<String> {
            page["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_owned()).collect()
        };
        let invited = machine.get(&app, &format!("{USERS}?status=invited")).await;
        assert_eq!(invited.status, StatusCode::OK, "{:?}", invited.body);
        assert_eq!(statuses(&invited.body), ["jan", "a1", "a2", "a3"]);
        let disabled = machine.get(&app, &format!("{USERS}?status=disabled")).await;
        assert_eq!(statuses(&disabled.body), ["a4"]);
        let active = machine.get(&app, &format!("{USERS}?status=active")).await;
        assert_eq!(statuses(&active.body), ["actief"]);
        let user = machine.get(&app, &format!("{USERS}/actief")).await;
        assert!(user.body["two_step_since"].is_string());
        assert!(user.body["last_login_at"].is_string());
        assert_eq!(user.body["onboarding"], "two_step_set_up");
        app.clock.advance(8 * 24 * 3600);
        let token = app.machine_token(&machine.id, &machine.secret).await;
        let machine = Machine { token, ..machine };
        let expired = machine.get(&app, &format!("{USERS}?status=invitation_expired")).await;
        assert_eq!(statuses(&expired.body), ["jan", "a1", "a2", "a3"]);

        for bad in ["?status=weg", "?limit=0", "?limit=501", "?cursor=abc", "?kleur=rood"] {
            let answer = machine.get(&app, &format!("{USERS}{bad}")).await;
            assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
            assert_eq!(answer.content_type(), "application/problem+json");
        }
    }

    async fn actions_on_a_user_are_done_and_audited_with_who_and_why() {
        let (app, machine) = two_orgs().await;
        app.active_user("acme", "piet", GOOD).await;
        app.full_login("piet", GOOD).await;
        let base = format!("{USERS}/piet");
        let ended = machine.post(&app, &format!("{base}/end-sessions"), json!({})).await;
        assert_eq!(ended.status, StatusCode::OK);
        assert!(ended.body["sessions_ended"].as_u64().unwrap() >= 1);
        let disabled = machine.post(&app, &format!("{base}/disable"), json!({})).await;
        assert_eq!(disabled.body["changed"], true);
        assert_eq!(machine.get(&app, &base).await.body["status"], "disabled");
        let again = machine.post(&app, &format!("{base}/disable"), json!({})).await;
        assert_eq!(again.body["changed"], false);
        machine.post(&app, &format!("{base}/enable"), json!({})).await;
        assert_eq!(machine.get(&app, &base).await.body["status"], "active");

        for _ in 0..3 {
            app.failed_login("piet", "fout").await;
        }
        let unlocked = machine.post(&app, &format!("{base}/unlock"), json!({})).await;
        assert_eq!(unlocked.status, StatusCode::OK);

        let reset = machine
            .post(&app, &format!("{base}/reset-two-step"), json!({"reason": "telefoon verloren, gebeld met HR"}))
            .await;
        assert_eq!(reset.body["changed"], true);
        assert_eq!(machine.get(&app, &base).await.body["status"], "two_step_pending");
        let notice = app.mail_to("piet", 3).await;
        assert!(!notice.subject.is_empty());
        let audit = machine
            .get(&app, "/api/v1/organizations/acme/audit?event=two_step_reset")
            .await;
        assert_eq!(
            audit.body["events"][0]["detail"],
            format!("client {}: telefoon verloren, gebeld met HR", machine.id)
        );

        // Resending to an active user is refused; to an invited one it sends a new link.
        let active = machine.post(&app, &format!("{base}/invitation"), json!({})).await;
        assert_eq!(active.status, StatusCode::CONFLICT);
        let resent = machine.post(&app, &format!("{USERS}/jan/invitation"), json!({})).await;
        assert_eq!(resent.status, StatusCode::CREATED);
        app.mail_to("jan", 2).await;
    }

    async fn the_organization_settings_change_whole_or_not_at_all() {
        let (app, machine) = two_orgs().await;
        let path = "/api/v1/organizations/acme";
        let shown = machine.get(&app, path).await;
        assert_eq!(shown.body["password_policy"]["min_length"], 12);
        assert_eq!(shown.body["self_service"]["password_reset"], true);
        let policy = json!({"min_length": 14, "max_length": 64, "require_lowercase": true,
            "require_uppercase": true, "require_digit": true, "require_symbol": false});
        let changed = machine
            .patch(&app, path, json!({"password_policy": policy, "self_service": {"password_reset": false, "remember_device_days": 7}}))
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
        assert_eq!(changed.body["password_policy"]["min_length"], 14);
        assert_eq!(changed.body["self_service"]["remember_device_days"], 7);
        let org = app.admin.organization("acme").await.unwrap();
        assert_eq!(org.policy.min_length(), 14);
        assert!(!org.self_service.reset);

        // A bad part refuses the whole change.
        let bad_days = machine
            .patch(&app, path, json!({"password_policy": {"min_length": 20, "max_length": 64, "require_lowercase": false,
                "require_uppercase": false, "require_digit": false, "require_symbol": false},
                "self_service": {"password_reset": true, "remember_device_days": 31}}))
            .await;
        assert_eq!(bad_days.status, StatusCode::UNPROCESSABLE_ENTITY);
        let min_above_max = machine
            .patch(&app, path, json!({"password_policy": {"min_length": 70, "max_length": 64, "require_lowercase": false,
                "require_uppercase": false, "require_digit": false, "require_symbol": false}}))
            .await;
        assert_eq!(min_above_max.status, StatusCode::UNPROCESSABLE_ENTITY);
        let unknown = machine.patch(&app, path, json!({"name": "Anders"})).await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.admin.organization("acme").await.unwrap().policy.min_length(), 14);
        let audit = machine.get(&app, "/api/v1/organizations/acme/audit?event=policy_changed").await;
        assert_eq!(audit.body["events"].as_array().unwrap().len(), 2);
    }

    async fn a_body_that_is_no_json_is_a_400_and_json_that_does_not_fit_a_422() {
        let (app, machine) = two_orgs().await;
        for (body, status, kind) in [
            (&b"{\"username\": \"piet\","[..], StatusCode::BAD_REQUEST, "malformed-json"),
            (&b"not json"[..], StatusCode::BAD_REQUEST, "malformed-json"),
            (&b"{\"username\": 7}"[..], StatusCode::UNPROCESSABLE_ENTITY, "invalid-request"),
            (&b"{\"nothing\": true}"[..], StatusCode::UNPROCESSABLE_ENTITY, "invalid-request"),
        ] {
            let answer = app
                .api(Some(&machine.token), reqwest::Method::POST, USERS, Some(("application/json", body.to_vec())), &[])
                .await;
            assert_eq!(answer.status, status, "{}: {:?}", String::from_utf8_lossy(body), answer.body);
            assert_eq!(answer.body["type"], format!("urn:poortwachter:problem:{kind}"));
        }
    }

    async fn the_audit_log_pages_from_the_newest_line() {
        let (app, machine) = two_orgs().await;
        for i in 0..5 {
            machine.post(&app, USERS, invite_body(&format!("p{i}"))).await;
        }
        let mut seen = Vec::new();
        let mut path = "/api/v1/organizations/acme/audit?event=invitation_sent&limit=2".to_owned();
        loop {
            let page = machine.get(&app, &path).await;
            assert_eq!(page.status, StatusCode::OK);
            for e in page.body["events"].as_array().unwrap() {
                seen.push(e["username"].as_str().unwrap().to_owned());
            }
            match page.body["next_cursor"].as_str() {
                Some(c) => path = format!("/api/v1/organizations/acme/audit?event=invitation_sent&limit=2&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen, ["p4", "p3", "p2", "p1", "p0", "jan"]);
        let bad = machine.get(&app, "/api/v1/organizations/acme/audit?event=geen").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn past_the_rate_limit_the_answer_is_429_with_retry_after() {
        let app = spawn_app_with(|s| s.api_requests_per_minute = 3).await;
        app.create_org("acme", Lang::Nl, PasswordPolicy::default()).await;
        let machine = app.machine(&["acme"]).await;
        for _ in 0..3 {
            assert_eq!(machine.get(&app, USERS).await.status, StatusCode::OK);
        }
        let limited = machine.get(&app, USERS).await;
        assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.problem(), "too-many-requests");
        let wait: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        // Another client has its own budget.
        let other = app.machine(&["acme"]).await;
        assert_eq!(other.get(&app, USERS).await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let expected = [
        ("get", "/api/v1/organizations/{org}"),
        ("patch", "/api/v1/organizations/{org}"),
        ("get", "/api/v1/organizations/{org}/users"),
        ("post", "/api/v1/organizations/{org}/users"),
        ("post", "/api/v1/organizations/{org}/users/bulk"),
        ("get", "/api/v1/organizations/{org}/users/{username}"),
        (
            "post",
            "/api/v1/organizations/{org}/users/{username}/invitation",
        ),
        (
            "post",
            "/api/v1/organizations/{org}/users/{username}/disable",
        ),
        (
            "post",
            "/api/v1/organizations/{org}/users/{username}/enable",
        ),
        (
            "post",
            "/api/v1/organizations/{org}/users/{username}/unlock",
        ),
        (
            "post",
            "/api/v1/organizations/{org}/users/{username}/reset-two-step",
        ),
        (
            "post",
            "/api/v1/organizations/{org}/users/{username}/end-sessions",
        ),
        ("get", "/api/v1/organizations/{org}/audit"),
        (
            "put",
            "/api/v1/organizations/{org}/users/{username}/expected-logins/{key}",
        ),
        (
            "delete",
            "/api/v1/organizations/{org}/users/{username}/expected-logins/{key}",
        ),
        (
            "get",
            "/api/v1/organizations/{org}/users/{username}/readiness",
        ),
        ("get", "/api/v1/organizations/{org}/readiness"),
        ("get", "/api/v1/organizations/{org}/audit/export"),
        ("post", "/api/v1/organizations/{org}/webhooks"),
        ("get", "/api/v1/organizations/{org}/webhooks"),
        ("delete", "/api/v1/organizations/{org}/webhooks/{id}"),
        (
            "post",
            "/api/v1/organizations/{org}/webhooks/{id}/rotate-secret",
        ),
        ("post", "/api/v1/organizations/{org}/webhooks/{id}/replay"),
        ("get", "/api/v1/organizations/{org}/look"),
        ("patch", "/api/v1/organizations/{org}/look"),
    ];
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = Vec::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            documented.push((method.clone(), path.clone()));
            assert!(
                operation["responses"]
                    .as_object()
                    .is_some_and(|r| !r.is_empty()),
                "{method} {path}"
            );
            // Each documented operation is served: without a token it is a 401 problem,
            // never the fallback's 404 or a 405.
            let url = path.replace("{org}", "acme").replace("{username}", "jan");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let answer = app.api(None, method.clone(), &url, None, &[]).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{method} {url}");
        }
    }
    // Operation ids are unique (OpenAPI 3.1 §4.8.10; generators name methods after them).
    let mut ids: Vec<&str> = paths
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().expect("an operationId"))
        .collect();
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "unique operation ids");
    documented.sort();
    let mut expected: Vec<(String, String)> = expected
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    expected.sort();
    assert_eq!(documented, expected);
    // Every reference resolves inside the document.
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let target = reference.split('"').next().unwrap();
        let pointer = target.strip_prefix('#').expect("a local reference");
        assert!(doc.pointer(pointer).is_some(), "{target} resolves");
    }
    assert!(
        doc["components"]["securitySchemes"]["client_credentials"]["flows"]["clientCredentials"]
            .is_object()
    );
}
