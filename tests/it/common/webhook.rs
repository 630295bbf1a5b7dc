//! A webhook receiver for the tests: a real HTTP server on a random port that records every
//! delivery and answers as told (up, down, a redirect, a huge or a slow answer). Signatures
//! are checked here with our own few lines of HMAC-SHA256 after the Standard Webhooks
//! specification, not with the server's code.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};

#[derive(Debug, Clone)]
pub enum Answer {
    Up,
    Down(u16),
    Redirect(String),
    /// 200 with 10 MB of answer.
    Huge,
    /// 200 after this long.
    Slow(Duration),
}

#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
    pub body: String,
    pub json: serde_json::Value,
    /// Whether the receiver answered 2xx.
    pub accepted: bool,
}

#[derive(Default)]
struct Shared {
    answer: Mutex<Option<Answer>>,
    received: Mutex<Vec<Received>>,
}

pub struct Receiver {
    pub url: String,
    shared: Arc<Shared>,
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let answer = shared.answer.lock().unwrap().clone().unwrap_or(Answer::Up);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let text = String::from_utf8_lossy(&body).into_owned();
    let accepted = matches!(answer, Answer::Up | Answer::Huge | Answer::Slow(_));
    shared.received.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp").parse().unwrap_or(0),
        signature: header("webhook-signature"),
        json: serde_json::from_str(&text).unwrap_or_default(),
        body: text,
        accepted,
    });
    match answer {
        Answer::Up => StatusCode::NO_CONTENT.into_response(),
        Answer::Down(code) => StatusCode::from_u16(code).unwrap().into_response(),
        Answer::Redirect(to) => (StatusCode::FOUND, [("location", to)]).into_response(),
        Answer::Huge => (StatusCode::OK, vec![b'x'; 10 * 1024 * 1024]).into_response(),
        Answer::Slow(wait) => {
            tokio::time::sleep(wait).await;
            StatusCode::OK.into_response()
        }
    }
}

impl Receiver {
    pub async fn start() -> Receiver {
        let shared = Arc::new(Shared::default());
        let router = axum::Router::new()
            .route("/hooks", axum::routing::post(receive))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Receiver { url, shared }
    }

    pub fn answer(&self, answer: Answer) {
        *self.shared.answer.lock().unwrap() = Some(answer);
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// The deliveries accepted so far, waiting up to 20 seconds for `count` of them.
    pub async fn accepted(&self, count: usize) -> Vec<Received> {
        self.accepted_within(count, 20).await
    }

    pub async fn accepted_within(&self, count: usize, seconds: u64) -> Vec<Received> {
        for _ in 0..seconds * 20 {
            let accepted: Vec<Received> =
                self.received().into_iter().filter(|r| r.accepted).collect();
            if accepted.len() >= count {
                return accepted;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "fewer than {count} deliveries accepted: {:#?}",
            self.received()
        );
    }

    /// Waits up to 20 seconds until at least `count` deliveries arrived (accepted or not).
    pub async fn attempts(&self, count: usize) -> Vec<Received> {
        for _ in 0..400 {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "fewer than {count} deliveries arrived: {:#?}",
            self.received()
        );
    }
}

/// Whether one of the header's signatures is HMAC-SHA256 with `secret` (`whsec_…`) over
/// `id.timestamp.body`, as the specification defines it.
pub fn signed_with(secret: &str, received: &Received) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", received.id, received.timestamp, received.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    received.signature.split(' ').any(|s| s == expected)
}

/// A development server's settings (a receiver on loopback is allowed) that seal and send
/// quickly.
pub fn quick_dev_webhooks(settings: &mut poortwachter::config::Settings) {
    settings.dev_mode = true;
    settings.audit_seal_ms = 50;
    settings.webhook_poll_ms = 50;
    settings.webhook_timeout_seconds = 1;
}

/// The subscription once `done` holds for it (up to 20 seconds).
pub async fn subscription_when(
    app: &super::TestApp,
    id: &str,
    done: impl Fn(&poortwachter::store::Subscription) -> bool,
) -> poortwachter::store::Subscription {
    for _ in 0..400 {
        let subscription = app.admin.webhook(id).await.unwrap();
        if done(&subscription) {
            return subscription;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{id}: {:?}", app.admin.webhook(id).await.unwrap());
}
