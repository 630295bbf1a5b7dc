//! The console for an organization's administrators (`/beheer`): only beheerders, only
//! their own organization, destructive actions confirmed with the app's code, CSV uploads
//! previewed before anything is sent, and the onboarding overview.

use std::time::Duration;

use crate::common::{Clock, TestApp, app_code, browser, csrf_of, location, spawn_app};
use poortwachter::domain::lang::Lang;
use poortwachter::domain::password::PasswordPolicy;
use reqwest::multipart::{Form, Part};
use reqwest::{Client, StatusCode};

const GOOD: &str = "Fiets-Sleutel-2024!";

/// acme with beheerder "baas" (logged in, on the returned browser) and user "piet";
/// globex with "gina".
async fn console() -> (TestApp, Client) {
    let app = spawn_app().await;
    app.create_org("globex", Lang::En, PasswordPolicy::default())
        .await;
    app.active_user("acme", "baas", GOOD).await;
    app.active_user("acme", "piet", GOOD).await;
    app.invite("globex", "gina").await;
    app.admin.set_beheerder("acme", "baas", true).await.unwrap();
    let baas = browser();
    app.full_login_with(&baas, "baas", GOOD).await;
    (app, baas)
}

/// Posts a console action button of `page`.
async fn press(app: &TestApp, client: &Client, page: &str, action: &str) -> reqwest::Response {
    app.submit_with(client, page, action, &[]).await
}

async fn upload(app: &TestApp, client: &Client, csv: &[u8]) -> (StatusCode, String) {
    let (_, page) = app.page_with(client, "/beheer/upload").await;
    let form = Form::new().text("csrf", csrf_of(&page)).part(
        "csv",
        Part::bytes(csv.to_vec())
            .file_name("medewerkers.csv")
            .mime_str("text/csv")
            .unwrap(),
    );
    let response = client
        .post(app.url("/beheer/upload"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The value of the hidden `file` field of a preview page.
fn carried_file(html: &str) -> String {
    let start = html.find("name=\"file\" value=\"").expect("a confirm form") + 19;
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

store_tests! {
    async fn only_a_beheerder_gets_in_and_only_to_their_own_organization() {
        let (app, baas) = console().await;
        // Not logged in, or only the password: to the login.
        assert_eq!(location(&app.get_with(&browser(), "/beheer").await), "/login");
        let half = browser();
        app.login_with(&half, "baas", GOOD).await;
        assert_eq!(location(&app.get_with(&half, "/beheer").await), "/login");
        // Logged in without the role: 403 on every page and action.
        let piet = browser();
        app.full_login_with(&piet, "piet", GOOD).await;
        for page in ["/beheer", "/beheer/uitnodigen", "/beheer/upload", "/beheer/onboarding", "/beheer/beleid",
            "/beheer/audit", "/beheer/medewerkers/baas", "/beheer/medewerkers/baas/reset-2fa", "/beheer/bevestigen"] {
            let (status, html) = app.page_with(&piet, page).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
            assert!(html.contains("Geen toegang"), "{page}");
        }
        let (_, home) = app.page_with(&piet, "/").await;
        for action in ["uitschakelen", "uitloggen", "beheerder", "uitnodiging"] {
            let response = app
                .post_with(&piet, &format!("/beheer/medewerkers/baas/{action}"), &csrf_of(&home), &[])
                .await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{action}");
        }
        assert!(!home.contains("/beheer\""), "no console link without the role");

        // The beheerder sees acme's users, never globex's.
        let (_, home) = app.page_with(&baas, "/").await;
        assert!(home.contains("href=\"/beheer\""), "Mijn account links to the console");
        let (status, html) = app.page_with(&baas, "/beheer").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("piet") && !html.contains("gina"));
        let (_, html) = app.page_with(&baas, "/beheer?q=gina").await;
        assert!(!html.contains("gina@example.nl"));
        let (_, html) = app.page_with(&baas, "/beheer/uitnodigen").await;
        let (status, _) = app.page_with(&baas, "/beheer/medewerkers/gina").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = app.page_with(&baas, "/beheer/medewerkers/gina/reset-2fa").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        for action in ["uitnodiging", "ontgrendelen", "inschakelen", "uitschakelen", "uitloggen", "beheerder", "beheerder-intrekken"] {
            let response = app
                .post_with(&baas, &format!("/beheer/medewerkers/gina/{action}"), &csrf_of(&html), &[])
                .await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{action}");
        }
        let (_, audit) = app.page_with(&baas, "/beheer/audit?username=gina").await;
        assert!(!audit.contains("<td>gina</td>"));
        let (_, audit) = app.page_with(&baas, "/beheer/audit").await;
        assert!(audit.contains("<td>piet</td>") && !audit.contains("<td>gina</td>"));
        // Inviting globex's username is refused with the reason.
        let response = app
            .submit_with(&baas, "/beheer/uitnodigen", "/beheer/uitnodigen", &[("username", "gina"), ("email", "x@example.nl"), ("name", "X")])
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(response.text().await.unwrap().contains("andere organisatie"));
        assert_eq!(app.usernames("globex").await, ["gina"]);
        // A cross-site form post is refused.
        let response = baas
            .post(app.url("/beheer/medewerkers/piet/uitloggen"))
            .header("sec-fetch-site", "cross-site")
            .form(&[("csrf", csrf_of(&html))])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }

    async fn a_csv_upload_is_previewed_row_by_row_and_sent_only_when_all_are_right() {
        let (app, baas) = console().await;
        // Dutch Excel: BOM, semicolons; one bad address, a duplicate, globex's username.
        let csv = "\u{feff}gebruikersnaam;e-mailadres;naam\r\nanna;anna@example.nl;Anna\r\nbob;geen-adres;Bob\r\nanna;anna2@example.nl;Anna Twee\r\ngina;gina2@example.nl;Gina\r\n";
        let (status, html) = upload(&app, &baas, csv.as_bytes()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("3 regels hebben een probleem"), "{html}");
        assert!(html.contains("geen geldig e-mailadres"));
        assert!(html.contains("staat al op regel 2"));
        assert!(html.contains("andere organisatie"));
        assert!(!html.contains("UITNODIGINGEN VERSTUREN"), "no way to send a bad file");
        assert_eq!(app.usernames("acme").await, ["baas", "piet"]);

        // Whole-file problems: no file, a wrong header, 1,001 rows.
        let (status, html) = upload(&app, &baas, b"").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("Kies een CSV-bestand"));
        let (status, html) = upload(&app, &baas, b"naam,adres\nx,y\n").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("username"), "the header is explained");
        let mut big = String::from("username,email,display_name\n");
        for i in 0..1001 {
            big.push_str(&format!("u{i},u{i}@example.nl,U {i}\n"));
        }
        let (status, html) = upload(&app, &baas, big.as_bytes()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("1001 rows"), "{html}");

        // A good file: the preview sends nothing; the confirmation sends all.
        let csv = "\u{feff}gebruikersnaam;e-mailadres;naam\r\nanna;anna@example.nl;Anna\r\nbob;bob@example.nl;\"Vries, Bob de\"\r\n";
        let (status, html) = upload(&app, &baas, csv.as_bytes()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Alle regels zijn in orde"));
        assert!(html.contains("2 UITNODIGINGEN VERSTUREN"));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(app.usernames("acme").await, ["baas", "piet"], "the preview sent nothing");
        let sent = app
            .post_with(&baas, "/beheer/upload/versturen", &csrf_of(&html), &[("file", &carried_file(&html))])
            .await;
        assert_eq!(location(&sent), "/beheer/upload?sent=2");
        app.mail_to("anna", 1).await;
        let mail = app.mail_to("bob", 1).await;
        assert!(mail.text.contains("Vries, Bob de"));
        assert_eq!(app.usernames("acme").await, ["anna", "baas", "bob", "piet"]);
        let (_, audit) = app.page_with(&baas, "/beheer/audit?event=invitation_sent&username=bob").await;
        assert!(audit.contains("beheerder baas"), "the audit line names who invited");

        // A tampered carried file is checked again: nothing half-done.
        let tampered = data_encoding::BASE64.encode(b"username,email,display_name\ncees,cees@example.nl,Cees\ngina,g@example.nl,G\n");
        let refused = app
            .post_with(&baas, "/beheer/upload/versturen", &csrf_of(&html), &[("file", &tampered)])
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!app.usernames("acme").await.contains(&"cees".to_owned()));
    }

    async fn the_onboarding_overview_shows_where_each_invitee_is_and_resends_to_the_stuck() {
        let (app, baas) = console().await;
        app.invite("acme", "klaar").await;
        let link = app.invite("acme", "halfweg").await.link;
        app.mail_to("halfweg", 1).await;
        app.activate(&link[crate::common::PUBLIC_URL.len()..], GOOD).await;
        app.invite("acme", "oud").await;
        app.mail_to("oud", 1).await;
        // A mail server that refuses: the overview shows its answer.
        app.smtp.set_refusing(true);
        app.invite("acme", "kwijt").await;
        let mut html = String::new();
        for _ in 0..300 {
            html = app.page_with(&baas, "/beheer/onboarding").await.1;
            if html.contains("komt niet aan") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if !html.contains("komt niet aan") {
            let db = app.db().await;
            let rows: Vec<(i64, i64, Option<String>)> = sqlx::query_as("SELECT id, attempts, last_error FROM outbox").fetch_all(&db).await.unwrap();
            let inv: Vec<(i64, Option<i64>, Option<String>)> = sqlx::query_as("SELECT user_id, mail_id, mail_error FROM invitations").fetch_all(&db).await.unwrap();
            panic!("no failing mail shown; outbox {rows:?}, invitations {inv:?}");
        }
        assert!(html.contains("wachtwoord ingesteld, app nog niet"));
        assert!(html.contains("klaar: wachtwoord en app ingesteld"), "baas is done");
        assert!(html.contains("uitnodiging verstuurd, nog niet geopend"));
        app.smtp.set_refusing(false);

        // A week later the untouched links have expired: one click sends a new one.
        app.clock.advance(8 * 24 * 3600);
        let baas2 = browser();
        app.full_login_with(&baas2, "baas", GOOD).await;
        let (_, html) = app.page_with(&baas2, "/beheer/onboarding").await;
        assert!(html.contains("link verlopen"));
        assert!(html.contains("vastgelopen"));
        let resent = app
            .submit_with(&baas2, "/beheer/onboarding", "/beheer/medewerkers/oud/uitnodiging", &[("terug", "onboarding")])
            .await;
        assert_eq!(location(&resent), "/beheer/onboarding?notice=resent");
        let mail = app.mail_to("oud", 2).await;
        assert!(mail.subject.starts_with("Activeer je account"));
    }

    async fn resetting_two_step_needs_a_reason_and_a_fresh_code_after_ten_minutes() {
        let (app, baas) = console().await;
        app.full_login("piet", GOOD).await;
        let page = "/beheer/medewerkers/piet/reset-2fa";
        // Within ten minutes of the login: the form at once; a reason is required.
        let (status, html) = app.page_with(&baas, page).await;
        assert_eq!(status, StatusCode::OK);
        let missing = app.post_with(&baas, page, &csrf_of(&html), &[("reason", "  ")]).await;
        assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(missing.text().await.unwrap().contains("Vul een reden in"));

        // Eleven minutes later: the app's code first, then back to the form.
        app.clock.advance(11 * 60);
        let response = app.get_with(&baas, page).await;
        let confirm = location(&response);
        assert!(confirm.starts_with("/beheer/bevestigen?terug="), "{confirm}");
        let (_, confirm_page) = app.page_with(&baas, &confirm).await;
        let wrong = app
            .post_with(&baas, "/beheer/bevestigen", &csrf_of(&confirm_page), &[("code", "000000"), ("terug", page)])
            .await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        let key = app.keys.lock().unwrap()["baas"].clone();
        let code = app_code(&key, app.clock.now());
        let confirmed = app
            .post_with(&baas, "/beheer/bevestigen", &csrf_of(&confirm_page), &[("code", &code), ("terug", page)])
            .await;
        assert_eq!(location(&confirmed), page);
        let (_, account) = app.page_with(&baas, "/").await;
        assert!(account.contains("Bevestigd met je app voor een beheeractie"), "in the user's own events");
        // The same code again is refused (no replay); an outside address is never the way back.
        let replayed = app
            .post_with(&baas, "/beheer/bevestigen", &csrf_of(&confirm_page), &[("code", &code), ("terug", "https://evil.test/")])
            .await;
        assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
        assert!(!replayed.text().await.unwrap().contains("evil.test"));

        let (status, html) = app.page_with(&baas, page).await;
        assert_eq!(status, StatusCode::OK);
        let done = app
            .post_with(&baas, page, &csrf_of(&html), &[("reason", "telefoon kwijt, gebeld op maandag")])
            .await;
        assert_eq!(location(&done), "/beheer/medewerkers/piet?notice=reset");
        let (_, audit) = app.page_with(&baas, "/beheer/audit?event=two_step_reset").await;
        assert!(audit.contains("beheerder baas: telefoon kwijt, gebeld op maandag"), "{audit}");
        let (_, user) = app.page_with(&baas, "/beheer/medewerkers/piet").await;
        assert!(user.contains("app nog niet ingesteld"));

        // Other destructive actions within the confirmed ten minutes go straight on.
        let out = press(&app, &baas, "/beheer/medewerkers/piet", "/beheer/medewerkers/piet/uitschakelen").await;
        assert_eq!(location(&out), "/beheer/medewerkers/piet?notice=disabled");
        app.clock.advance(11 * 60);
        let later = press(&app, &baas, "/beheer/medewerkers/piet", "/beheer/medewerkers/piet/inschakelen").await;
        assert_eq!(location(&later), "/beheer/medewerkers/piet?notice=enabled", "enabling takes nothing away");
        let ended = press(&app, &baas, "/beheer/medewerkers/piet", "/beheer/medewerkers/piet/uitloggen").await;
        assert!(location(&ended).starts_with("/beheer/bevestigen"), "ending sessions asks again");
    }

    async fn the_role_is_granted_in_the_console_and_a_beheerder_cannot_lock_themselves_out() {
        let (app, baas) = console().await;
        let granted = press(&app, &baas, "/beheer/medewerkers/piet", "/beheer/medewerkers/piet/beheerder").await;
        assert_eq!(location(&granted), "/beheer/medewerkers/piet?notice=granted");
        let piet = browser();
        app.full_login_with(&piet, "piet", GOOD).await;
        assert_eq!(app.get_with(&piet, "/beheer").await.status(), StatusCode::OK);
        let (_, account) = app.page_with(&piet, "/").await;
        assert!(account.contains("Je bent beheerder van je organisatie geworden"));
        let own = press(&app, &baas, "/beheer/medewerkers/baas", "/beheer/medewerkers/baas/beheerder-intrekken").await;
        assert_eq!(own.status(), StatusCode::CONFLICT);
        assert!(own.text().await.unwrap().contains("eigen account"));
        let own = press(&app, &baas, "/beheer/medewerkers/baas", "/beheer/medewerkers/baas/uitschakelen").await;
        assert_eq!(own.status(), StatusCode::CONFLICT);
        let revoked = press(&app, &baas, "/beheer/medewerkers/piet", "/beheer/medewerkers/piet/beheerder-intrekken").await;
        assert_eq!(location(&revoked), "/beheer/medewerkers/piet?notice=revoked");
        assert_eq!(app.get_with(&piet, "/beheer").await.status(), StatusCode::FORBIDDEN);
        let (_, audit) = app.page_with(&baas, "/beheer/audit?event=role_granted").await;
        assert!(audit.contains("beheerder baas: beheerder"));
    }

    async fn the_audit_log_speaks_words_and_names_applications() {
        let (app, baas) = console().await;
        let (id, secret) = app.verzuimcoach().await;
        let rp = app.rp(&app.discover().await, &id, secret.as_deref());
        let login = crate::common::oidc::start_login(&rp, &[]);
        app.log_in_at_application(&browser(), &login, "piet", GOOD).await;
        let (_, audit) = app.page_with(&baas, "/beheer/audit").await;
        let table = &audit[audit.find("<table").expect("lines")..];
        for words in ["Inloggen: code van de app", "Ingelogd bij app", "gelukt", "Verzuimcoach"] {
            assert!(table.contains(words), "{words}: {table}");
        }
        for code in ["login_code", "code_issued", ">success<", id.as_str()] {
            assert!(!table.contains(code), "{code} shown: {table}");
        }
        // The filter offers the words, and filters by the code.
        assert!(audit.contains("<option value=\"login_code\">Inloggen: code van de app</option>"));
        let (_, filtered) = app.page_with(&baas, "/beheer/audit?event=code_issued").await;
        let lines = &filtered[filtered.find("<table").expect("lines")..];
        assert!(lines.contains("Ingelogd bij app") && !lines.contains("Inloggen: wachtwoord"), "{lines}");
    }

    async fn the_policy_form_previews_without_saving_and_saves_whole() {
        let (app, baas) = console().await;
        let (_, html) = app.page_with(&baas, "/beheer/beleid").await;
        assert!(html.contains("minimaal 12 tekens lang zijn"));
        let fields = |min: &'static str, days: &'static str| {
            vec![("min_length", min), ("max_length", "64"), ("lowercase", "on"), ("digit", "on"), ("reset", "on"), ("remember_days", days)]
        };
        let mut preview = fields("16", "0");
        preview.push(("preview", "1"));
        let shown = app.post_with(&baas, "/beheer/beleid", &csrf_of(&html), &preview).await;
        let shown = shown.text().await.unwrap();
        assert!(shown.contains("minimaal 16 tekens lang zijn") && shown.contains("een cijfer bevatten"));
        assert_eq!(app.admin.organization("acme").await.unwrap().policy.min_length(), 12, "a preview saves nothing");
        let bad = app.post_with(&baas, "/beheer/beleid", &csrf_of(&html), &fields("16", "31")).await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let bad = app.post_with(&baas, "/beheer/beleid", &csrf_of(&html), &fields("zestien", "0")).await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.admin.organization("acme").await.unwrap().policy.min_length(), 12);
        let saved = app.post_with(&baas, "/beheer/beleid", &csrf_of(&html), &fields("16", "7")).await;
        assert_eq!(location(&saved), "/beheer/beleid?saved=1");
        let org = app.admin.organization("acme").await.unwrap();
        assert_eq!(org.policy.min_length(), 16);
        assert!(!org.policy.classes().uppercase);
        assert_eq!(org.self_service.remember_device_days, 7);
        // Employees read the new requirements when they set a password.
        let link = app.invite("acme", "nieuw").await.link;
        let (_, activate) = app.page_with(&app.client, &link[crate::common::PUBLIC_URL.len()..]).await;
        assert!(activate.contains("minimaal 16 tekens lang zijn"));
    }
}
