//! Helpers for self-service recovery: the herstelcodes shown at the end of the set-up, and
//! the pages that use them.

use reqwest::{Client, StatusCode};

use super::{TestApp, location};

/// The codes on a herstelcodes page, as shown ("1234-5678-…").
pub fn codes_on(html: &str) -> Vec<String> {
    html.split("<li><code>")
        .skip(1)
        .map(|part| part.split("</code>").next().unwrap().to_owned())
        .collect()
}

impl TestApp {
    /// On the page after the set-up: reads the herstelcodes, keeps them for `username`,
    /// confirms they are saved (VERDER) and returns where the login goes on to.
    pub async fn save_recovery_codes_with(&self, client: &Client, username: &str) -> String {
        let page = self.get_with(client, "/account/recovery-codes").await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        let codes = codes_on(&html);
        assert_eq!(codes.len(), 10, "ten herstelcodes shown");
        self.recovery_codes
            .lock()
            .unwrap()
            .insert(username.to_owned(), codes);
        let saved = self
            .post_with(
                client,
                "/account/recovery-codes/saved",
                &super::csrf_of(&html),
                &[("saved", "yes")],
            )
            .await;
        assert_eq!(saved.status(), StatusCode::SEE_OTHER, "codes confirmed");
        location(&saved)
    }

    /// One of the user's unused herstelcodes (taken from the kept list).
    pub fn take_recovery_code(&self, username: &str) -> String {
        self.recovery_codes
            .lock()
            .unwrap()
            .get_mut(username)
            .expect("codes were saved")
            .pop()
            .expect("a code left")
    }
}

impl TestApp {
    /// "Wachtwoord vergeten?" with `login` typed, from a fresh browser.
    pub async fn request_reset(&self, login: &str) -> reqwest::Response {
        self.submit_with(
            &super::browser(),
            "/password/forgot",
            "/password/forgot",
            &[("login", login)],
        )
        .await
    }

    /// Waits until the background work of a reset request left `count` `reset_requested`
    /// lines for `username` (the page answers before it is done).
    pub async fn wait_for_reset_requests(&self, username: &str, count: usize) {
        for _ in 0..200 {
            let lines = self
                .admin
                .audit_log(None, None, None, 10_000)
                .await
                .unwrap()
                .into_iter()
                .filter(|e| {
                    e.event == poortwachter::domain::audit::AuditEvent::ResetRequested
                        && e.username.as_deref() == Some(username)
                })
                .count();
            if lines >= count {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("no reset request of {username} was processed");
    }
}
