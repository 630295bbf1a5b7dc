//! Webhooks in the console (`/beheer/webhooks`): a beheerder adds one (the secret shown
//! once, and it signs what the receiver gets), sees its state and last answer while the
//! receiver is down, gives it a new secret, replays a day and removes it (after the app's
//! code when the login is old) — and never sees or touches another organization's.

use crate::common::webhook::{
    Answer, Receiver, quick_dev_webhooks, signed_with, subscription_when,
};
use crate::common::{Clock, TestApp, app_code, browser, csrf_of, location, spawn_app_with};
use poortwachter::domain::lang::Lang;
use poortwachter::domain::password::PasswordPolicy;
use reqwest::{Client, StatusCode};

const GOOD: &str = "Fiets-Sleutel-2024!";
const LIST: &str = "/beheer/webhooks";
const NEW: &str = "/beheer/webhooks/nieuw";

/// A development server (a receiver on loopback is allowed) with beheerder "baas" of acme
/// logged in on the returned browser, user "piet" of acme, and globex.
async fn console() -> (TestApp, Client) {
    let app = spawn_app_with(quick_dev_webhooks).await;
    app.create_org("acme", Lang::Nl, PasswordPolicy::default())
        .await;
    app.create_org("globex", Lang::En, PasswordPolicy::default())
        .await;
    app.active_user("acme", "baas", GOOD).await;
    app.active_user("acme", "piet", GOOD).await;
    app.admin.set_beheerder("acme", "baas", true).await.unwrap();
    let baas = browser();
    app.full_login_with(&baas, "baas", GOOD).await;
    (app, baas)
}

/// The `whsec_…` secret a page shows.
fn secret_of(html: &str) -> String {
    let start = html.find("whsec_").expect("a secret on the page");
    let end = start + html[start..].find('<').unwrap();
    html[start..end].to_owned()
}

store_tests! {
    async fn a_beheerder_adds_watches_rotates_replays_and_removes_a_webhook() {
        let receiver = Receiver::start().await;
        receiver.answer(Answer::Down(503));
        let (app, baas) = console().await;
        let (status, html) = app.page_with(&baas, LIST).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Er zijn nog geen webhooks."), "{html}");

        // A wrong form is shown back with what is wrong, the typed address kept.
        let (_, form) = app.page_with(&baas, NEW).await;
        let csrf = csrf_of(&form);
        let wrong = app.post_with(&baas, NEW, &csrf, &[("url", "ftp://hr.example.nl/"), ("which", "all")]).await;
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let wrong = wrong.text().await.unwrap();
        assert!(wrong.contains("Het adres moet beginnen met https://."), "{wrong}");
        assert!(wrong.contains("value=\"ftp://hr.example.nl/\""));
        let none = app.post_with(&baas, NEW, &csrf, &[("url", &receiver.url), ("which", "chosen")]).await;
        assert_eq!(none.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(none.text().await.unwrap().contains("Kies minstens één gebeurtenis."));

        // Added for one event: the secret is shown this once, and it signs the deliveries.
        let fields = [("url", receiver.url.as_str()), ("description", "HR-systeem"), ("which", "chosen"), ("event", "user.disabled")];
        let added = app.post_with(&baas, NEW, &csrf, &fields).await;
        assert_eq!(added.status(), StatusCode::OK);
        assert_eq!(added.headers()["cache-control"], "no-store");
        let added = added.text().await.unwrap();
        assert!(added.contains("De webhook is toegevoegd."), "{added}");
        let secret = secret_of(&added);
        let hooks = app.admin.webhooks(Some("acme")).await.unwrap();
        assert_eq!(hooks.len(), 1);
        let id = hooks[0].public_id.clone();
        assert_eq!(hooks[0].events, "user.disabled");
        assert_eq!(hooks[0].description, "HR-systeem");
        let page = format!("{LIST}/{id}");
        let (_, detail) = app.page_with(&baas, &page).await;
        assert!(detail.contains("account uitgezet"), "the event in words: {detail}");
        assert!(detail.contains("nog niets verstuurd"));
        assert!(!detail.contains("whsec_"), "the secret is never shown again");

        // The receiver is down: the page says so, with its last answer, while it is retried.
        let disabled = app.submit_with(&baas, "/beheer/medewerkers/piet", "/beheer/medewerkers/piet/uitschakelen", &[]).await;
        assert_eq!(location(&disabled), "/beheer/medewerkers/piet?notice=disabled");
        receiver.attempts(1).await;
        let now = app.clock.now();
        subscription_when(&app, &id, |s| s.last_attempt_at == Some(now)).await;
        let (_, list) = app.page_with(&baas, LIST).await;
        assert!(list.contains("lukt nu niet, wordt opnieuw geprobeerd"), "{list}");
        assert!(list.contains("Laatste antwoord: HTTP 503"), "{list}");
        receiver.answer(Answer::Up);
        app.clock.advance(6);
        let accepted = receiver.accepted(1).await;
        assert_eq!(accepted[0].json["type"], "user.disabled");
        assert!(signed_with(&secret, &accepted[0]), "signed with the secret the page showed");
        subscription_when(&app, &id, |s| s.pending == 0 && s.last_answer.as_deref() == Some("HTTP 204")).await;
        let (_, detail) = app.page_with(&baas, &page).await;
        assert!(detail.contains("werkt"), "{detail}");

        // A new secret: shown once, different, and the old one named as signing along.
        let rotated = app.submit_with(&baas, &page, &format!("{page}/geheim"), &[]).await;
        assert_eq!(rotated.status(), StatusCode::OK);
        let rotated = rotated.text().await.unwrap();
        assert!(rotated.contains("Het vorige ondertekent nog 24 uur mee."), "{rotated}");
        let new_secret = secret_of(&rotated);
        assert_ne!(new_secret, secret);
        let (_, detail) = app.page_with(&baas, &page).await;
        assert!(detail.contains("ondertekent mee tot"), "{detail}");

        // Today's events again, with the same webhook-id, signed by both secrets.
        let today = poortwachter::texts::dutch_date(app.clock.now());
        let replayed = app.submit_with(&baas, &page, &format!("{page}/opnieuw"), &[("from", &today), ("to", &today)]).await;
        let back = location(&replayed);
        assert_eq!(back, format!("{page}?notice=replayed&count=1"));
        let (_, detail) = app.page_with(&baas, &back).await;
        assert!(detail.contains("Meldingen die opnieuw worden verstuurd: 1."), "{detail}");
        let again = receiver.accepted(2).await;
        assert_eq!(again[1].id, again[0].id, "the same webhook-id");
        assert!(signed_with(&secret, &again[1]) && signed_with(&new_secret, &again[1]));
        let bad_range = app.submit_with(&baas, &page, &format!("{page}/opnieuw"), &[("from", &today), ("to", "2020-01-01")]).await;
        assert_eq!(bad_range.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad_range.text().await.unwrap().contains("hoogstens 31 dagen"));

        // Eleven minutes later removing asks for the app's code first, then removes.
        app.clock.advance(11 * 60);
        let asked = app.submit_with(&baas, &page, &format!("{page}/verwijderen"), &[]).await;
        let confirm = location(&asked);
        assert!(confirm.starts_with("/beheer/bevestigen?terug="), "{confirm}");
        assert_eq!(app.admin.webhooks(Some("acme")).await.unwrap().len(), 1, "not removed yet");
        let (_, confirm_page) = app.page_with(&baas, &confirm).await;
        let key = app.keys.lock().unwrap()["baas"].clone();
        let code = app_code(&key, app.clock.now());
        let confirmed = app
            .post_with(&baas, "/beheer/bevestigen", &csrf_of(&confirm_page), &[("code", &code), ("terug", &page)])
            .await;
        assert_eq!(location(&confirmed), page);
        let removed = app.submit_with(&baas, &page, &format!("{page}/verwijderen"), &[]).await;
        assert_eq!(location(&removed), format!("{LIST}?notice=removed"));
        assert!(app.admin.webhooks(Some("acme")).await.unwrap().is_empty());
        let (_, list) = app.page_with(&baas, &format!("{LIST}?notice=removed")).await;
        assert!(list.contains("De webhook is verwijderd."));

        // Every step is in the audit log, with the beheerder's name.
        let (_, audit) = app.page_with(&baas, "/beheer/audit").await;
        for words in ["Webhook toegevoegd", "Webhookgeheim vervangen", "Webhookgebeurtenissen opnieuw verstuurd", "Webhook verwijderd"] {
            assert!(audit.contains(words), "{words} in {audit}");
        }
        assert!(audit.contains("beheerder baas"), "{audit}");
    }

    async fn another_organizations_webhook_is_not_seen_or_touched_in_the_console() {
        let (app, baas) = console().await;
        let theirs = app
            .admin
            .add_webhook(Some("globex"), "https://hooks.globex.example/in", "*", "Globex HR")
            .await
            .unwrap();
        let everyone = app
            .admin
            .add_webhook(None, "https://siem.example/in", "*", "operator's SIEM")
            .await
            .unwrap();
        let (_, list) = app.page_with(&baas, LIST).await;
        assert!(list.contains("Er zijn nog geen webhooks."), "{list}");
        assert!(!list.contains("globex.example") && !list.contains("siem.example"));
        for id in [&theirs.subscription.public_id, &everyone.subscription.public_id] {
            let page = format!("{LIST}/{id}");
            assert_eq!(app.page_with(&baas, &page).await.0, StatusCode::NOT_FOUND);
            let (_, mine) = app.page_with(&baas, NEW).await;
            for action in ["geheim", "verwijderen"] {
                let response = app.post_with(&baas, &format!("{page}/{action}"), &csrf_of(&mine), &[]).await;
                assert_eq!(response.status(), StatusCode::NOT_FOUND, "{action} {id}");
            }
        }
        assert_eq!(app.admin.webhooks(None).await.unwrap().len(), 2, "both still there");
        let globex = app.admin.webhook(&theirs.subscription.public_id).await.unwrap();
        assert_eq!(globex.previous, None, "no new secret was made");

        // A user of acme without the beheerder role gets no webhook page at all.
        let piet = browser();
        app.full_login_with(&piet, "piet", GOOD).await;
        assert_eq!(app.page_with(&piet, LIST).await.0, StatusCode::FORBIDDEN);
    }
}
