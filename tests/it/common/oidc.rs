//! The relying party of the tests: the `openidconnect` crate (an independent, certified-style
//! client), talking to the test server through an HTTP client that sends requests for the
//! public URL to the server's real address.

use std::future::Future;
use std::pin::Pin;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreIdTokenClaims, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreTokenResponse,
};
use openidconnect::http::{HeaderValue, Request, Response};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    ProviderMetadataWithLogout, RedirectUrl, RevocationUrl, Scope,
};
use poortwachter::admin::ClientRegistration;
use reqwest::{Client, StatusCode};

use super::{PUBLIC_URL, TestApp, location};

pub const REDIRECT: &str = "http://127.0.0.1:9/callback";
pub const AFTER_LOGOUT: &str = "http://127.0.0.1:9/logged-out";

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

pub type Metadata = ProviderMetadataWithLogout;

type HttpFuture = Pin<Box<dyn Future<Output = Result<Response<Vec<u8>>, HttpError>> + Send>>;

/// The RP's client, as `from_provider_metadata` types it, with a revocation URL.
pub type Rp = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Claims this provider adds (the `organization` scope), so nothing is lost in parsing.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Organization {
    pub organization: Option<serde_json::Value>,
}
impl AdditionalClaims for Organization {}

pub type IdClaims = openidconnect::IdTokenClaims<Organization, CoreGenderClaim>;
pub type UserInfo = openidconnect::UserInfoClaims<Organization, CoreGenderClaim>;

#[allow(dead_code)]
type Unused = (
    CoreIdTokenClaims,
    CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm,
);

impl TestApp {
    /// What the `openidconnect` crate uses to talk HTTP: reqwest, pointed at this server.
    pub fn rp_http(&self) -> impl Fn(Request<Vec<u8>>) -> HttpFuture + Send + Sync {
        let address = self.address.clone();
        poortwachter::tls::install_provider();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        move |request: Request<Vec<u8>>| {
            let http = http.clone();
            let url = request.uri().to_string().replacen(PUBLIC_URL, &address, 1);
            Box::pin(async move {
                let mut builder = http.request(request.method().clone(), &url);
                for (name, value) in request.headers() {
                    builder = builder.header(name, value);
                }
                let sent = builder
                    .body(request.body().clone())
                    .send()
                    .await
                    .map_err(|e| HttpError(e.to_string()))?;
                let mut response = Response::builder().status(sent.status());
                for (name, value) in sent.headers() {
                    response =
                        response.header(name, HeaderValue::from_bytes(value.as_bytes()).unwrap());
                }
                let body = sent.bytes().await.map_err(|e| HttpError(e.to_string()))?;
                Ok(response.body(body.to_vec()).unwrap())
            })
        }
    }

    pub async fn discover(&self) -> Metadata {
        let issuer = IssuerUrl::new(PUBLIC_URL.to_owned()).unwrap();
        Metadata::discover_async(issuer, &self.rp_http())
            .await
            .expect("discovery and JWKS")
    }

    /// Registers an application; its id and secret (none for a public one).
    pub async fn register(&self, registration: ClientRegistration) -> (String, Option<String>) {
        let registered = self
            .admin
            .create_client(&registration)
            .await
            .expect("client registered");
        (registered.client.id, registered.secret)
    }

    /// A first-party confidential application of `org`-less kind (serves all), Verzuimcoach.
    pub async fn verzuimcoach(&self) -> (String, Option<String>) {
        self.register(ClientRegistration {
            name: "Verzuimcoach".into(),
            redirect_uris: vec![REDIRECT.into()],
            post_logout_redirect_uris: vec![AFTER_LOGOUT.into()],
            first_party: true,
            ..Default::default()
        })
        .await
    }

    pub fn rp(&self, metadata: &Metadata, id: &str, secret: Option<&str>) -> Rp {
        CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(id.to_owned()),
            secret.map(|s| ClientSecret::new(s.to_owned())),
        )
        .set_redirect_uri(RedirectUrl::new(REDIRECT.to_owned()).unwrap())
        .set_revocation_url(RevocationUrl::new(format!("{PUBLIC_URL}/oauth2/revoke")).unwrap())
    }

    /// A client's POST to one of the token endpoints (token, revoke, introspect), with
    /// `client_secret_basic` when it has a secret.
    pub async fn post_token_endpoint(
        &self,
        path: &str,
        id: &str,
        secret: Option<&str>,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url(path));
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        match secret {
            Some(secret) => request = request.basic_auth(id, Some(secret)),
            None => fields.push(("client_id", id)),
        }
        request.form(&fields).send().await.unwrap()
    }

    /// GETs a URL of the public address from this server, as the browser would.
    pub async fn visit(&self, browser: &Client, url: &str) -> reqwest::Response {
        let url = url.replacen(PUBLIC_URL, &self.address, 1);
        let url = if url.starts_with('/') {
            format!("{}{url}", self.address)
        } else {
            url
        };
        browser.get(url).send().await.unwrap()
    }
}

/// One login at an application: the authorization request it made and what it must keep.
pub struct Login {
    pub url: url::Url,
    pub state: CsrfToken,
    pub nonce: Nonce,
    pub verifier: PkceCodeVerifier,
}

pub fn start_login(rp: &Rp, scopes: &[&str]) -> Login {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in scopes {
        request = request.add_scope(Scope::new((*scope).to_owned()));
    }
    let (url, state, nonce) = request.url();
    Login {
        url,
        state,
        nonce,
        verifier,
    }
}

/// The parameters of the redirect back to the application.
pub fn callback(location: &str) -> std::collections::HashMap<String, String> {
    assert!(
        location.starts_with(REDIRECT),
        "back at the application: {location}"
    );
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

impl TestApp {
    /// The browser follows the application's authorization request through the whole login
    /// (password, AUTHENTICATOR APP, code) and back; the code it brings to the application.
    pub async fn log_in_at_application(
        &self,
        browser: &Client,
        login: &Login,
        username: &str,
        password: &str,
    ) -> String {
        let response = self.visit(browser, login.url.as_str()).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "to the login");
        let mut next = location(&response);
        if next.starts_with("/login") {
            next = self.full_login_with(browser, username, password).await;
            assert!(
                next.starts_with("/authorize?"),
                "back to the authorization: {next}"
            );
            let response = self.visit(browser, &next).await;
            next = location(&response);
        }
        let params = callback(&next);
        assert_eq!(
            params.get("state").map(String::as_str),
            Some(login.state.secret().as_str())
        );
        assert_eq!(
            params.get("iss").map(String::as_str),
            Some(PUBLIC_URL),
            "RFC 9207 iss"
        );
        params.get("code").expect("a code").clone()
    }

    pub async fn exchange(
        &self,
        rp: &Rp,
        code: &str,
        verifier: PkceCodeVerifier,
    ) -> CoreTokenResponse {
        rp.exchange_code(AuthorizationCode::new(code.to_owned()))
            .expect("token endpoint")
            .set_pkce_verifier(verifier)
            .request_async(&self.rp_http())
            .await
            .expect("tokens")
    }
}

/// An application's back-channel logout endpoint: records every logout token it receives;
/// the first `failures` requests are answered 500 (an application that is down).
pub struct LogoutReceiver {
    pub uri: String,
    tokens: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl LogoutReceiver {
    pub async fn start(failures: usize) -> LogoutReceiver {
        use axum::extract::State;
        type Shared = (
            std::sync::Arc<std::sync::Mutex<Vec<String>>>,
            std::sync::Arc<std::sync::atomic::AtomicUsize>,
        );
        let tokens = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let left = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(failures));
        let receive =
            |State((tokens, left)): State<Shared>,
             axum::Form(form): axum::Form<std::collections::HashMap<String, String>>| async move {
                use std::sync::atomic::Ordering;
                if left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
                {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                tokens
                    .lock()
                    .unwrap()
                    .push(form.get("logout_token").cloned().unwrap_or_default());
                StatusCode::OK
            };
        let router = axum::Router::new()
            .route("/backchannel", axum::routing::post(receive))
            .with_state((tokens.clone(), left));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let uri = format!("http://{}/backchannel", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        LogoutReceiver { uri, tokens }
    }

    /// The logout tokens received so far, waiting up to 15 seconds for `count` of them (a
    /// loaded machine: CI runs tests in parallel).
    pub async fn tokens(&self, count: usize) -> Vec<String> {
        for _ in 0..300 {
            if self.tokens.lock().unwrap().len() >= count {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.tokens.lock().unwrap().clone()
    }
}

/// The claims of a logout token, after checking its signature against the provider's JWKS
/// with the `openidconnect` crate's key implementation (not the provider's own code).
pub fn verified_logout_claims(metadata: &Metadata, token: &str) -> serde_json::Value {
    use openidconnect::JsonWebKey;
    use openidconnect::core::CoreJwsSigningAlgorithm;
    let decode = |part: &str| {
        data_encoding::BASE64URL_NOPAD
            .decode(part.as_bytes())
            .unwrap()
    };
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: serde_json::Value = serde_json::from_slice(&decode(parts[0])).unwrap();
    assert_eq!(header["typ"], "logout+jwt");
    let kid = header["kid"].as_str().unwrap();
    let key = metadata
        .jwks()
        .keys()
        .iter()
        .find(|k| k.key_id().map(|id| id.as_str()) == Some(kid))
        .expect("the signing key is published");
    let alg = match header["alg"].as_str().unwrap() {
        "ES256" => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        "RS256" => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        other => panic!("unexpected alg {other}"),
    };
    let message = format!("{}.{}", parts[0], parts[1]);
    key.verify_signature(&alg, message.as_bytes(), &decode(parts[2]))
        .expect("a valid signature");
    serde_json::from_slice(&decode(parts[1])).unwrap()
}

/// The claims of a JWT, read without checking it (the tests that check signatures use the
/// `openidconnect` crate's verifier).
pub fn jwt_claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    let json = data_encoding::BASE64URL_NOPAD
        .decode(payload.as_bytes())
        .expect("base64url");
    serde_json::from_slice(&json).expect("JSON claims")
}
