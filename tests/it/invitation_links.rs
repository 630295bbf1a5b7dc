//! Invitation links are personal, single-use and expire; every unusable link gets a clear
//! page that says what happened and what to do.

use crate::common::*;
use poortwachter::domain::lang::Lang;
use poortwachter::domain::password::PasswordPolicy;
use reqwest::StatusCode;

const GOOD: &str = "Fiets-Sleutel-2024!";

async fn app_with_invitation(username: &str) -> (TestApp, String) {
    let app = spawn_app().await;
    app.create_org("acme", Lang::Nl, PasswordPolicy::default())
        .await;
    let invited = app.invite("acme", username).await;
    let path = invited.link[PUBLIC_URL.len()..].to_owned();
    (app, path)
}

async fn page(app: &TestApp, path: &str) -> (StatusCode, String) {
    let response = app.get(path).await;
    (response.status(), response.text().await.unwrap())
}

store_tests! {
async fn a_used_link_says_so_and_points_to_login() {
    let (app, link) = app_with_invitation("jan").await;
    assert_eq!(
        app.activate(&link, GOOD).await.status(),
        StatusCode::SEE_OTHER
    );
    let (status, html) = page(&app, &link).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("Deze link is al gebruikt"));
    assert!(html.contains("href=\"/login\""));
    // The account is active: the way back in is "Wachtwoord vergeten?", not a new invitation.
    assert!(html.contains("Kies dan Wachtwoord vergeten? op het inlogscherm"), "{html}");
    assert!(html.contains("<a href=\"/password/forgot\">Wachtwoord vergeten?</a>"), "{html}");
    assert!(!html.contains("nieuwe uitnodiging"), "{html}");
    // A second OPSLAAN with the same link (a valid form, sent again) changes nothing.
    let again = app
        .submit(
            "/login",
            &link,
            &[
                ("password", "Een-Ander-Wachtwoord-1"),
                ("password_repeat", "Een-Ander-Wachtwoord-1"),
            ],
        )
        .await;
    assert_eq!(again.status(), StatusCode::GONE);
    assert_eq!(
        app.login_with(&browser(), "jan", GOOD).await.status(),
        StatusCode::SEE_OTHER
    );
}

async fn a_link_expires_after_the_configured_time() {
    let (app, link) = app_with_invitation("jan").await;
    app.clock.advance(7 * 24 * 3600 - 1);
    assert_eq!(
        page(&app, &link).await.0,
        StatusCode::OK,
        "valid until the last second"
    );
    app.clock.advance(1);
    let (status, html) = page(&app, &link).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("Deze link is verlopen"));
    assert!(html.contains("Vraag je organisatie om een nieuwe uitnodiging"));
    let post = app
        .client
        .post(app.url(&link))
        .form(&[("csrf", "x"), ("password", GOOD), ("password_repeat", GOOD)])
        .send()
        .await
        .unwrap();
    assert_ne!(
        post.status(),
        StatusCode::SEE_OTHER,
        "an expired link cannot activate"
    );
}

async fn altered_cut_short_and_unknown_links_are_refused_without_a_trace() {
    let (app, link) = app_with_invitation("jan").await;
    let token = link.trim_start_matches("/invite/");
    let flipped = if token.ends_with('A') { 'B' } else { 'A' };
    let altered = format!("/invite/{}{}", &token[..token.len() - 1], flipped);
    let cut = format!("/invite/{}", &token[..30]);
    for path in [
        altered.as_str(),
        cut.as_str(),
        "/invite/nonsense",
        "/invite/%00%0a",
    ] {
        let (status, html) = page(&app, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(html.contains("Deze link werkt niet"), "{path}: {html}");
        assert!(!html.to_lowercase().contains("panick"));
    }
    assert_eq!(
        page(&app, &link).await.0,
        StatusCode::OK,
        "the real link still works"
    );
}

async fn a_new_invitation_replaces_the_old_link() {
    let (app, old) = app_with_invitation("jan").await;
    let newer = app.invite("acme", "jan").await;
    let (status, html) = page(&app, &old).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("Er is een nieuwere uitnodiging"));
    let new_path = &newer.link[PUBLIC_URL.len()..];
    assert_eq!(
        app.activate(new_path, GOOD).await.status(),
        StatusCode::SEE_OTHER
    );
}

async fn two_parallel_activations_of_one_link_one_wins() {
    let (app, link) = app_with_invitation("jan").await;
    let first = browser();
    let second = browser();
    let form = |client: &reqwest::Client| {
        let client = client.clone();
        let app_url = app.url(&link);
        async move {
            let html = client
                .get(&app_url)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let csrf = csrf_of(&html);
            (client, app_url, csrf)
        }
    };
    let (c1, url1, csrf1) = form(&first).await;
    let (c2, url2, csrf2) = form(&second).await;
    let post = |client: reqwest::Client, url: String, csrf: String, password: &'static str| async move {
        client
            .post(url)
            .form(&[
                ("csrf", csrf.as_str()),
                ("password", password),
                ("password_repeat", password),
            ])
            .send()
            .await
            .unwrap()
            .status()
    };
    let (a, b) = tokio::join!(
        post(c1, url1, csrf1, "Eerste-Wachtwoord-11"),
        post(c2, url2, csrf2, "Tweede-Wachtwoord-22")
    );
    let mut statuses = [a, b];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::GONE]);
    // Exactly one of the two passwords works.
    let one = app
        .login_with(&browser(), "jan", "Eerste-Wachtwoord-11")
        .await
        .status();
    let two = app
        .login_with(&browser(), "jan", "Tweede-Wachtwoord-22")
        .await
        .status();
    let mut logins = [one, two];
    logins.sort();
    assert_eq!(logins, [StatusCode::SEE_OTHER, StatusCode::UNAUTHORIZED]);
}

async fn links_are_built_from_the_public_url_not_the_host_header() {
    let (app, link) = app_with_invitation("jan").await;
    let response = app
        .client
        .get(app.url(&link))
        .header("host", "evil.test")
        .send()
        .await
        .unwrap();
    let html = response.text().await.unwrap();
    assert!(!html.contains("evil.test"));
    let mail = app.mail_to("jan", 1).await;
    assert!(mail.text.contains(&format!("{PUBLIC_URL}/invite/")));
}

async fn the_database_holds_only_a_hash_of_the_link() {
    let (app, link) = app_with_invitation("jan").await;
    let token = link.trim_start_matches("/invite/");
    let db = app.db().await;
    let rows: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT token_hash FROM invitations")
        .fetch_all(&db)
        .await
        .unwrap();
    let expected = poortwachter::domain::token::Token::parse(token)
        .unwrap()
        .hash();
    assert_eq!(rows, vec![(expected.0.to_vec(),)]);
    // The mail that carries the link leaves the outbox once the SMTP server accepted it.
    app.mail_to("jan", 1).await;
    for _ in 0..50 {
        if app.store.outbox_len().await.unwrap() == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the delivered mail is still in the outbox");
}
}
