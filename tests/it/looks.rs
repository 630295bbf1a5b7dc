//! An organization's own look: the accent colour (refused when white text on it is hard to
//! read), the logo served under its hash, the mails' sender name "… via Poortwachter" — on
//! the pages of that organization's users after login, never on the login page and never
//! for another organization; and from the command line.

use std::process::Command;

use crate::common::{TestApp, browser, csrf_of, location, spawn_app};
use mail_parser::MessageParser;
use poortwachter::admin::{AdminError, LookRequest};
use poortwachter::domain::lang::Lang;
use poortwachter::domain::look::LookError;
use poortwachter::domain::password::PasswordPolicy;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

const GOOD: &str = "Fiets-Sleutel-2024!";

/// The header of a 200 × 60 PNG (all `domain::look` reads of it), and a few bytes more.
fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(13u32.to_be_bytes());
    bytes.extend(b"IHDR");
    bytes.extend(200u32.to_be_bytes());
    bytes.extend(60u32.to_be_bytes());
    bytes.extend([8, 6, 0, 0, 0, 0x12, 0x34, 0x56, 0x78]);
    bytes
}

fn from_name(raw: &[u8]) -> String {
    let message = MessageParser::default().parse(raw).unwrap();
    let from = message.from().unwrap().first().unwrap();
    format!(
        "{} <{}>",
        from.name().unwrap_or(""),
        from.address().unwrap_or("")
    )
}

async fn branded() -> TestApp {
    let app = spawn_app().await;
    app.create_org("acme", Lang::Nl, PasswordPolicy::default())
        .await;
    app.create_org("globex", Lang::En, PasswordPolicy::default())
        .await;
    let look = app
        .admin
        .set_look(
            "acme",
            LookRequest {
                accent: Some("#7A1F5C".into()),
                sender_name: Some("Acme Zorg B.V.".into()),
                logo: Some(Some(png())),
                ..LookRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(look.accent.as_deref(), Some("#7a1f5c"));
    app
}

/// Posts the Huisstijl form with `fields` and, if given, a logo file.
async fn post_look(
    app: &TestApp,
    client: &reqwest::Client,
    fields: &[(&str, &str)],
    logo: Option<Vec<u8>>,
) -> reqwest::Response {
    let (_, page) = app.page_with(client, "/beheer/huisstijl").await;
    let mut form = Form::new().text("csrf", csrf_of(&page));
    if !fields.iter().any(|(name, _)| *name == "display_name") {
        form = form.text("display_name", "Organisatie acme");
    }
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    if let Some(bytes) = logo {
        form = form.part(
            "logo",
            Part::bytes(bytes)
                .file_name("logo.png")
                .mime_str("image/png")
                .unwrap(),
        );
    }
    client
        .post(app.url("/beheer/huisstijl"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

store_tests! {
    async fn the_admin_api_reads_and_changes_the_look_of_its_own_organization_only() {
        let app = spawn_app().await;
        app.create_org("acme", Lang::Nl, PasswordPolicy::default()).await;
        app.create_org("globex", Lang::En, PasswordPolicy::default()).await;
        let machine = app.machine(&["acme"]).await;
        let path = "/api/v1/organizations/acme/look";
        let empty = machine.get(&app, path).await;
        assert_eq!(empty.status, StatusCode::OK);
        assert_eq!(empty.body["accent"], serde_json::Value::Null);
        assert_eq!(empty.body["mail_from"], "Poortwachter <noreply@localhost>");

        let light = machine.patch(&app, path, serde_json::json!({ "accent": "#ffcc00" })).await;
        assert_eq!(light.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(light.headers["content-type"], "application/problem+json");
        assert!(light.body["detail"].as_str().unwrap().contains("1.51:1"), "{}", light.body);

        use base64::Engine;
        let logo = base64::engine::general_purpose::STANDARD.encode(png());
        let set = machine
            .patch(&app, path, serde_json::json!({ "accent": "#0B5CAD", "sender_name": "Acme B.V.", "logo_png": logo }))
            .await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.body);
        assert_eq!(set.body["accent"], "#0b5cad");
        assert!((set.body["accent_contrast"].as_f64().unwrap() - 6.67).abs() < 0.01);
        // A display name with a dot is quoted (RFC 5322).
        assert_eq!(set.body["mail_from"], "\"Acme B.V. via Poortwachter\" <noreply@localhost>");
        let url = set.body["logo_url"].as_str().unwrap().to_owned();
        let hash = app.admin.look("acme").await.unwrap().logo_hash.unwrap();
        assert!(url.ends_with(&format!("/look/{hash}.png")), "{url}");
        assert_eq!(set.body["display_name"], "Organisatie acme");
        let renamed = machine.patch(&app, path, serde_json::json!({ "display_name": "Acme B.V." })).await;
        assert_eq!(renamed.body["display_name"], "Acme B.V.");
        let emptied = machine.patch(&app, path, serde_json::json!({ "display_name": "" })).await;
        assert_eq!(emptied.status, StatusCode::UNPROCESSABLE_ENTITY);
        let removed = machine.patch(&app, path, serde_json::json!({ "logo_png": "" })).await;
        assert_eq!(removed.body["logo_url"], serde_json::Value::Null);
        assert_eq!(removed.body["sender_name"], "Acme B.V.", "the parts not named stay");
        let unknown = machine.patch(&app, path, serde_json::json!({ "font": "Comic Sans" })).await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);

        let theirs = machine.patch(&app, "/api/v1/organizations/globex/look", serde_json::json!({ "accent": "#0b5cad" })).await;
        assert_eq!(theirs.status, StatusCode::FORBIDDEN);
        assert!(app.admin.look("globex").await.unwrap().is_empty());
    }

    async fn a_beheerder_sets_the_look_in_the_console_and_a_refusal_is_said_in_words() {
        let app = spawn_app().await;
        app.active_user("acme", "baas", GOOD).await;
        app.admin.set_beheerder("acme", "baas", true).await.unwrap();
        let baas = browser();
        app.full_login_with(&baas, "baas", GOOD).await;
        let (status, page) = app.page_with(&baas, "/beheer/huisstijl").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("De e-mails komen van: Poortwachter &#60;noreply@localhost&#62;"), "{page}");

        let light = post_look(&app, &baas, &[("accent", "#ffcc00"), ("sender_name", "Acme Zorg")], Some(png())).await;
        assert_eq!(light.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let light = light.text().await.unwrap();
        assert!(light.contains("Witte tekst op #ffcc00 is slecht te lezen: het contrast is 1.51:1"), "{light}");
        assert!(light.contains("value=\"#ffcc00\""), "what was typed is kept");
        assert!(app.admin.look("acme").await.unwrap().is_empty(), "nothing saved");

        let saved = post_look(&app, &baas, &[("accent", "#7a1f5c"), ("sender_name", "Acme Zorg")], Some(png())).await;
        assert_eq!(location(&saved), "/beheer/huisstijl?saved=1");
        let look = app.admin.look("acme").await.unwrap();
        let hash = look.logo_hash.clone().unwrap();
        let (_, page) = app.page_with(&baas, "/beheer/huisstijl?saved=1").await;
        assert!(page.contains("De huisstijl is opgeslagen."));
        assert!(page.contains("href=\"/look/accent-7a1f5c.css\""), "the console itself wears it");
        assert!(page.contains(&format!("src=\"/look/{hash}.png\"")));
        assert!(page.contains("De e-mails komen van: Acme Zorg via Poortwachter"), "{page}");

        // Saving without a new file keeps the logo; the box takes it away.
        post_look(&app, &baas, &[("accent", "#7a1f5c"), ("sender_name", "Acme Zorg")], None).await;
        assert_eq!(app.admin.look("acme").await.unwrap().logo_hash.as_deref(), Some(hash.as_str()));
        post_look(&app, &baas, &[("accent", ""), ("sender_name", "Acme Zorg"), ("remove_logo", "on")], None).await;
        let look = app.admin.look("acme").await.unwrap();
        assert_eq!((look.accent, look.logo_hash), (None, None));

        // The name as employees read it: changed here, never emptied.
        let empty = post_look(&app, &baas, &[("display_name", "  "), ("accent", ""), ("sender_name", "")], None).await;
        assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.text().await.unwrap().contains("Vul de naam van de organisatie in."));
        let renamed = post_look(&app, &baas, &[("display_name", "Acme Zorg Noord"), ("accent", ""), ("sender_name", "Acme Zorg")], None).await;
        assert_eq!(location(&renamed), "/beheer/huisstijl?saved=1");
        assert_eq!(app.admin.organization("acme").await.unwrap().name, "Acme Zorg Noord");
        let (_, console) = app.page_with(&baas, "/beheer/huisstijl").await;
        assert!(console.contains("Beheer · Acme Zorg Noord"), "{console}");

        // Not a PNG: refused with its words.
        let svg = post_look(&app, &baas, &[("accent", ""), ("sender_name", "")], Some(b"<svg/>".to_vec())).await;
        assert_eq!(svg.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(svg.text().await.unwrap().contains("Het logo moet een PNG-bestand zijn."));
        // Without the beheerder role: no page.
        app.active_user("acme", "piet", GOOD).await;
        let piet = browser();
        app.full_login_with(&piet, "piet", GOOD).await;
        assert_eq!(app.page_with(&piet, "/beheer/huisstijl").await.0, StatusCode::FORBIDDEN);
    }

    async fn a_colour_too_light_for_white_text_is_refused_and_changes_nothing() {
        let app = spawn_app().await;
        app.create_org("acme", Lang::Nl, PasswordPolicy::default())
            .await;
        let refused = app
            .admin
            .set_look(
                "acme",
                LookRequest {
                    accent: Some("#ffcc00".into()),
                    sender_name: Some("Acme".into()),
                    ..LookRequest::default()
                },
            )
            .await;
        match refused {
            Err(AdminError::Look(LookError::TooLight { ratio, .. })) => assert!(ratio < 4.5),
            other => panic!("{other:?}"),
        }
        assert!(app.admin.look("acme").await.unwrap().is_empty(), "nothing of it was stored");
        let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec();
        let not_png = app
            .admin
            .set_look("acme", LookRequest { logo: Some(Some(svg)), ..LookRequest::default() })
            .await;
        assert!(matches!(not_png, Err(AdminError::Look(LookError::NotPng))), "{not_png:?}");
        let posing = app
            .admin
            .set_look("acme", LookRequest { sender_name: Some("IT <it@acme.nl>".into()), ..LookRequest::default() })
            .await;
        assert!(matches!(posing, Err(AdminError::Look(LookError::SenderName))), "{posing:?}");
    }

    async fn the_logo_and_accent_are_served_for_good_and_nothing_else_is() {
        let app = branded().await;
        let look = app.admin.look("acme").await.unwrap();
        let hash = look.logo_hash.clone().unwrap();
        let logo = app.get(&format!("/look/{hash}.png")).await;
        assert_eq!(logo.status(), StatusCode::OK);
        assert_eq!(logo.headers()["content-type"], "image/png");
        assert_eq!(logo.headers()["cache-control"], "public, max-age=31536000, immutable");
        assert_eq!(logo.headers()["x-content-type-options"], "nosniff");
        assert_eq!(logo.bytes().await.unwrap().to_vec(), png());
        for missing in ["/look/0000000000000000.png", "/look/../../etc.png", "/look/x.svg", "/look/accent-ffcc00.css", "/look/accent-zzzzzz.css"] {
            assert_eq!(app.get(missing).await.status(), StatusCode::NOT_FOUND, "{missing}");
        }
        let css = app.get("/look/accent-7a1f5c.css").await;
        assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
        assert_eq!(css.text().await.unwrap(), ":root { --accent: #7a1f5c; --accent-ink: #ffffff; }\n");

        // A new logo is a new address; taking it away serves nothing.
        let mut other = png();
        other.push(0);
        let changed = app.admin.set_look("acme", LookRequest { logo: Some(Some(other)), ..LookRequest::default() }).await.unwrap();
        assert_ne!(changed.logo_hash.as_deref(), Some(hash.as_str()));
        assert_eq!(changed.accent.as_deref(), Some("#7a1f5c"), "the parts not named stay");
        assert_eq!(app.get(&format!("/look/{hash}.png")).await.status(), StatusCode::NOT_FOUND);
        let plain = app.admin.set_look("acme", LookRequest { accent: Some(String::new()), logo: Some(None), ..LookRequest::default() }).await.unwrap();
        assert_eq!((plain.accent, plain.logo_hash), (None, None));
        assert_eq!(plain.sender_name.as_deref(), Some("Acme Zorg B.V."));
    }

    async fn the_organizations_pages_and_mails_carry_its_look_and_no_others_do() {
        let app = branded().await;
        let hash = app.admin.look("acme").await.unwrap().logo_hash.unwrap();
        // Before the user is known: the neutral look.
        let login = app.get("/login").await.text().await.unwrap();
        assert!(!login.contains("/look/"), "{login}");

        // The invitation and the set-up mail come from "Acme Zorg B.V. via Poortwachter".
        app.active_user("acme", "jan", GOOD).await;
        let invitation = app.mail_to("jan", 1).await;
        assert_eq!(from_name(&invitation.raw), "Acme Zorg B.V. via Poortwachter <noreply@localhost>");
        // The mail shows the logo (linked at its hashed address, the same for everyone) and
        // the accent on its link.
        let logo = format!("<img src=\"{}/look/{hash}.png\" alt=\"Organisatie acme\"", crate::common::PUBLIC_URL);
        assert!(invitation.html.contains(&logo), "{}", invitation.html);
        assert!(invitation.html.contains("color: #7a1f5c"));
        assert!(!invitation.html.contains("#0b5cad"));

        // After login: the logo (named for the organization) and the accent, beside Poortwachter.
        let jan = browser();
        app.full_login_with(&jan, "jan", GOOD).await;
        let setup = app.setup_mail_after("jan", 1).await;
        assert_eq!(from_name(&setup.raw), "Acme Zorg B.V. via Poortwachter <noreply@localhost>");
        let account = app.get_with(&jan, "/").await.text().await.unwrap();
        assert!(account.contains(&format!("<img src=\"/look/{hash}.png\" alt=\"Organisatie acme\"")), "{account}");
        assert!(account.contains("href=\"/look/accent-7a1f5c.css\""));
        assert!(account.contains("<span class=\"brand\">Poortwachter</span>"), "the service's name stays");

        // Another organization's user sees none of it, and gets mail from the service itself.
        app.active_user("globex", "gina", GOOD).await;
        let invitation = app.mail_to("gina", 1).await;
        assert!(!from_name(&invitation.raw).contains("Acme"));
        assert!(!invitation.html.contains("/look/") && invitation.html.contains("color: #0b5cad"));
        let gina = browser();
        app.full_login_with(&gina, "gina", GOOD).await;
        let account = app.get_with(&gina, "/").await.text().await.unwrap();
        assert!(!account.contains("/look/"), "{account}");

        // The change is in the audit log, with what changed.
        let db = app.db().await;
        let detail: String = sqlx::query_scalar("SELECT detail FROM audit_log WHERE event = 'look_changed'")
            .fetch_one(&db)
            .await
            .unwrap();
        assert!(detail.contains("accent #7a1f5c") && detail.contains("sender name Acme Zorg B.V.") && detail.contains(&hash), "{detail}");
    }
}

#[test]
fn the_command_line_sets_and_shows_a_look_and_names_a_bad_colour() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_poortwachter"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .env("POORTWACHTER_PUBLIC_URL", "https://login.example.nl")
            .output()
            .unwrap()
    };
    let init = run(&["init"]);
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let created = run(&["org", "create", "--slug", "acme", "--name", "Acme"]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let light = run(&["org", "look", "set", "--org", "acme", "--accent", "#ffcc00"]);
    assert!(!light.status.success());
    let message = String::from_utf8_lossy(&light.stderr);
    assert!(
        message.contains("1.51:1") && message.contains("4.5:1"),
        "{message}"
    );
    std::fs::write(dir.path().join("logo.png"), png()).unwrap();
    let set = run(&[
        "org",
        "look",
        "set",
        "--org",
        "acme",
        "--display-name",
        "Acme Zorg B.V.",
        "--accent",
        "#0b5cad",
        "--sender-name",
        "Acme B.V.",
        "--logo",
        "logo.png",
    ]);
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let shown = String::from_utf8(run(&["org", "look", "show", "--org", "acme"]).stdout).unwrap();
    assert!(shown.contains("name:        Acme Zorg B.V."), "{shown}");
    assert!(
        shown.contains("accent:      #0b5cad (white text: 6.67:1)"),
        "{shown}"
    );
    assert!(shown.contains("sender name: Acme B.V."));
    assert!(shown.contains("logo:        /look/"));
}
