//! The admin API's caller in tests: a machine client registered with the CLI's rules, its
//! token fetched by the `openidconnect` crate's client-credentials request (an independent
//! OAuth 2.0 client), and JSON requests with it.

use openidconnect::{ClientId, ClientSecret, IssuerUrl, OAuth2TokenResponse, Scope};
use poortwachter::admin::ClientRegistration;
use poortwachter::domain::oidc::client::GrantKind;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::oidc::Metadata;
use super::{PUBLIC_URL, TestApp};

/// An answer of the API: status, headers and the JSON body (`Null` when there is none).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The problem's `type` suffix (`urn:poortwachter:problem:<kind>`).
    pub fn problem(&self) -> &str {
        self.body["type"]
            .as_str()
            .and_then(|t| t.strip_prefix("urn:poortwachter:problem:"))
            .unwrap_or("")
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// A machine client and its current token.
pub struct Machine {
    pub id: String,
    pub secret: String,
    pub token: String,
}

impl TestApp {
    /// Registers a client-credentials client for `orgs`.
    pub async fn machine_client(&self, orgs: &[&str]) -> (String, String) {
        let registered = self
            .admin
            .create_client(&ClientRegistration {
                name: "Verzuimcoach koppeling".into(),
                grant: GrantKind::ClientCredentials,
                orgs: orgs.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            })
            .await
            .expect("machine client registered");
        (registered.client.id, registered.secret.expect("a secret"))
    }

    /// A token for the client, through discovery and the client-credentials grant of the
    /// `openidconnect` crate.
    pub async fn machine_token(&self, id: &str, secret: &str) -> String {
        let issuer = IssuerUrl::new(PUBLIC_URL.to_owned()).unwrap();
        let metadata = Metadata::discover_async(issuer, &self.rp_http())
            .await
            .expect("discovery");
        let client = openidconnect::core::CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(id.to_owned()),
            Some(ClientSecret::new(secret.to_owned())),
        );
        let response = client
            .exchange_client_credentials()
            .expect("token endpoint known")
            .add_scope(Scope::new("admin".into()))
            .request_async(&self.rp_http())
            .await
            .expect("client credentials token");
        assert_eq!(response.expires_in().map(|d| d.as_secs()), Some(300));
        assert!(response.refresh_token().is_none(), "never refreshed");
        response.access_token().secret().clone()
    }

    /// A machine client of `orgs` with a token.
    pub async fn machine(&self, orgs: &[&str]) -> Machine {
        let (id, secret) = self.machine_client(orgs).await;
        let token = self.machine_token(&id, &secret).await;
        Machine { id, secret, token }
    }

    /// A request to the API with `token` (none: no Authorization header).
    pub async fn api(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some((content_type, body)) = body {
            request = request.header("content-type", content_type).body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }
}

impl Machine {
    pub async fn get(&self, app: &TestApp, path: &str) -> Answer {
        app.api(Some(&self.token), Method::GET, path, None, &[])
            .await
    }

    pub async fn post(&self, app: &TestApp, path: &str, json: Value) -> Answer {
        let body = serde_json::to_vec(&json).unwrap();
        app.api(
            Some(&self.token),
            Method::POST,
            path,
            Some(("application/json", body)),
            &[],
        )
        .await
    }

    pub async fn patch(&self, app: &TestApp, path: &str, json: Value) -> Answer {
        let body = serde_json::to_vec(&json).unwrap();
        app.api(
            Some(&self.token),
            Method::PATCH,
            path,
            Some(("application/json", body)),
            &[],
        )
        .await
    }

    /// A POST with a raw body and headers of the test's choosing.
    pub async fn post_raw(
        &self,
        app: &TestApp,
        path: &str,
        content_type: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> Answer {
        app.api(
            Some(&self.token),
            Method::POST,
            path,
            Some((content_type, body.to_vec())),
            headers,
        )
        .await
    }
}
