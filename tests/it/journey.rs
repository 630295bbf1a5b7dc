//! Steps A and B of the journey, end to end: invitation over real SMTP → activation page with
//! the organization's policy → OPSLAAN → login → logged-in page → log-out.

use crate::common::*;
use poortwachter::domain::lang::Lang;
use reqwest::StatusCode;

store_tests! {
async fn invitation_to_logged_in_in_dutch() {
    let app = spawn_app().await;
    app.create_org("acme", Lang::Nl, strict_policy()).await;
    let invited = app.invite("acme", "jdevries").await;

    // A1: the invitation arrives over SMTP, in Dutch, with the HIER link in both parts.
    let mail = app.mail_to("jdevries", 1).await;
    assert_eq!(mail.subject, "Activeer je account bij Organisatie acme");
    assert!(
        mail.text.contains("Beste Gebruiker jdevries,"),
        "{}",
        mail.text
    );
    assert!(
        mail.text.contains(&format!("HIER: {}", invited.link)),
        "{}",
        mail.text
    );
    assert!(
        mail.html.contains(&format!("<a href=\"{}\"", invited.link))
            && mail.html.contains(">HIER</a>"),
        "{}",
        mail.html
    );
    assert!(
        mail.text.contains("jdevries"),
        "the username is in the mail"
    );
    let raw = String::from_utf8_lossy(&mail.raw);
    assert!(raw.contains("multipart/alternative"), "plain text and HTML");
    assert!(
        invited.link.starts_with(PUBLIC_URL),
        "built from the public URL"
    );

    // A2/B1: the link opens the activation page, which lists the policy before typing.
    let link = mail.link_path();
    let page = app.get(&link).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains("Welkom, Gebruiker jdevries"));
    for requirement in [
        "minimaal 14 tekens lang zijn",
        "een hoofdletter bevatten",
        "een cijfer bevatten",
        "een leesteken of symbool bevatten",
        "geen veelgebruikt of eerder uitgelekt wachtwoord zijn",
    ] {
        assert!(html.contains(requirement), "policy lists {requirement:?}");
    }
    assert!(html.contains(">OPSLAAN</button>"));

    // B2: a password that breaks rules gets one message per broken rule.
    let refused = app.activate(&link, "kortwachtwoord").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    for message in [
        "Voeg een hoofdletter toe.",
        "Voeg een cijfer toe.",
        "Voeg een leesteken of symbool toe.",
    ] {
        assert!(html.contains(message), "missing {message:?}");
    }
    assert!(
        !html.contains("Te kort"),
        "long enough, so no length message"
    );
    assert!(html.contains("aria-invalid=\"true\""));

    let mismatch = app
        .submit(
            &link,
            &link,
            &[
                ("password", "Fiets-Sleutel-2024!"),
                ("password_repeat", "Fiets-Sleutel-2024?"),
            ],
        )
        .await;
    assert_eq!(mismatch.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        mismatch
            .text()
            .await
            .unwrap()
            .contains("De twee wachtwoorden zijn niet gelijk.")
    );

    // B2/B3: a good password; OPSLAAN leads to the login page.
    let saved = app.activate(&link, "Fiets-Sleutel-2024!").await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&saved), "/login?notice=activated&username=jdevries");
    let login_page = app
        .get(&location(&saved))
        .await
        .text()
        .await
        .unwrap();
    assert!(login_page.contains("Je wachtwoord is opgeslagen."));
    assert!(login_page.contains("value=\"jdevries\""), "the username filled in after activation");
    assert!(login_page.contains(">INLOGGEN</button>"));

    // B3: log in with the password: the second step follows.
    let logged_in = app.login("jdevries", "Fiets-Sleutel-2024!").await;
    assert_eq!(logged_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&logged_in), "/2fa");

    // C1: the 2FA set-up page with the method choice; only half logged in meanwhile.
    let choose = app.get("/2fa").await.text().await.unwrap();
    assert!(choose.contains(">AUTHENTICATOR APP</button>"));
    assert_eq!(location(&app.get("/").await), "/login", "not logged in yet");

    // C2/C3: choosing AUTHENTICATOR APP sends the set-up e-mail automatically.
    let code_page = app.choose_app_with(&app.client).await;
    assert!(code_page.contains("j***@example.nl"), "the masked address");
    assert!(code_page.contains(">Nieuwe code</button>"));
    assert!(code_page.contains(">INLOGGEN</button>"));
    let setup = app.mail_to("jdevries", 2).await;
    assert_eq!(setup.subject, "Je aanvraagcode voor de authenticator app");
    assert!(setup.text.contains("Accountnaam: jdevries"));
    assert!(
        setup.html.contains("Accountnaam"),
        "the HTML part has the text too"
    );
    assert!(setup.html.contains(&setup.text_key()[..4]));
    assert!(setup.html.contains("src=\"cid:"), "QR inline by Content-ID");
    assert!(!setup.html.contains("data:"), "no data: URI");
    assert!(!setup.html.contains("http"), "no remote image");
    assert!(String::from_utf8_lossy(&setup.raw).contains("multipart/related"));

    // C4: the QR code carries the otpauth URI with the same key as the text.
    let uri = setup.qr_uri();
    let key = setup.text_key();
    assert_eq!(key.len(), 32, "160 bits in Base32");
    assert_eq!(
        uri,
        format!("otpauth://totp/Poortwachter:jdevries?secret={key}&issuer=Poortwachter")
    );

    // C5: the app's code, INLOGGEN: logged in.
    let code = app_code(&key, app.clock.now());
    let done = app.send_code_with(&app.client, &code).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    // The set-up ends with the herstelcodes, saved before going on.
    assert_eq!(location(&done), "/account/recovery-codes");
    let next = app.save_recovery_codes_with(&app.client, "jdevries").await;
    assert_eq!(next, "/");
    let home = app.get("/").await;
    assert_eq!(home.status(), StatusCode::OK);
    let html = home.text().await.unwrap();
    assert!(html.contains("Je bent nu succesvol ingelogd."));
    assert!(html.contains("Gebruiker jdevries (jdevries)"));
    assert!(html.contains("Organisatie acme"));

    // Turning 2FA on is announced by e-mail, without the secret.
    let notice = app.mail_to("jdevries", 3).await;
    assert_eq!(notice.subject, "Tweestapsverificatie is ingeschakeld");
    assert!(
        !notice.text.contains(&key[..8])
            && !String::from_utf8_lossy(&notice.raw).contains(&key[..8])
    );

    // Log out: back to the login page, and the page behind the login is closed again.
    let logged_out = app.submit("/", "/logout", &[]).await;
    assert_eq!(logged_out.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&logged_out), "/login?notice=logged_out");
    let home = app.get("/").await;
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&home), "/login");

    // D: every later login is password, AUTHENTICATOR APP, the current code.
    app.clock.advance(30);
    assert_eq!(
        location(&app.login("jdevries", "Fiets-Sleutel-2024!").await),
        "/2fa"
    );
    let code_page = app.choose_app_with(&app.client).await;
    assert!(code_page.contains("Verificatiecode"));
    assert!(
        !code_page.contains("Nieuwe code</button>"),
        "set-up cannot restart"
    );
    let done = app
        .send_code_with(&app.client, &app_code(&key, app.clock.now()))
        .await;
    assert_eq!(location(&done), "/");
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    assert_eq!(
        app.smtp.received().len(),
        3,
        "no new set-up mail on later logins"
    );
}

async fn english_organization_gets_english_mail_and_pages() {
    let app = spawn_app().await;
    app.create_org("globex", Lang::En, strict_policy()).await;
    app.invite("globex", "alice").await;
    let mail = app.mail_to("alice", 1).await;
    assert_eq!(mail.subject, "Activate your account at Organisatie globex");
    assert!(mail.text.contains("HERE: "));
    assert!(mail.html.contains(">HERE</a>"));

    let html = app.get(&mail.link_path()).await.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("be at least 14 characters long"));
    assert!(html.contains(">SAVE</button>"));
    let refused = app
        .activate(&mail.link_path(), "short")
        .await
        .text()
        .await
        .unwrap();
    assert!(refused.contains("Too short: use at least 14 characters."));
}

async fn browser_language_chooses_the_page_language() {
    let app = spawn_app().await;
    let english = app
        .client
        .get(app.url("/login"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(english.contains(">LOG IN</button>"));
    let dutch = app.get("/login").await.text().await.unwrap();
    assert!(dutch.contains(">INLOGGEN</button>"), "Dutch is the default");

    // The footer link switches and remembers the choice, and only redirects within the site.
    let switched = app.get("/lang/en?next=/login").await;
    assert_eq!(location(&switched), "/login");
    assert!(
        app.get("/login")
            .await
            .text()
            .await
            .unwrap()
            .contains(">LOG IN</button>")
    );
    let offsite = app.get("/lang/nl?next=//evil.test/").await;
    assert_eq!(location(&offsite), "/login");
}
}
