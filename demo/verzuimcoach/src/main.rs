//! Verzuimcoach, the demo: a small web application that logs its users in with Poortwachter
//! over OpenID Connect, as a real relying party would, with the `openidconnect` crate
//! (authorization code + PKCE, ID token verified against the JWKS, RP-initiated logout, and
//! a back-channel logout endpoint that ends its own session).
//!
//! Register it once, then run it beside Poortwachter:
//!
//! ```sh
//! cargo run --release -- client create --name Verzuimcoach --first-party \
//!   --redirect-uri http://localhost:3000/callback \
//!   --post-logout-redirect-uri http://localhost:3000/ \
//!   --backchannel-logout-uri http://localhost:3000/backchannel-logout
//! VERZUIMCOACH_CLIENT_ID=… VERZUIMCOACH_CLIENT_SECRET=… cargo run --release -p verzuimcoach
//! ```
//!
//! Settings (environment): `VERZUIMCOACH_ISSUER` (default `http://localhost:8080`),
//! `VERZUIMCOACH_URL` (default `http://localhost:3000`), `VERZUIMCOACH_BIND` (default
//! `127.0.0.1:3000`), `VERZUIMCOACH_CLIENT_ID`, `VERZUIMCOACH_CLIENT_SECRET`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreTokenResponse,
};
use openidconnect::http::{HeaderValue, Request as HttpRequest, Response as HttpResponse};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, JsonWebKey, LogoutRequest, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope, TokenResponse,
};

type Rp = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct HttpError(String);

type HttpFuture = Pin<Box<dyn Future<Output = Result<HttpResponse<Vec<u8>>, HttpError>> + Send>>;

/// The `openidconnect` crate's HTTP, over reqwest.
fn http_client() -> impl Fn(HttpRequest<Vec<u8>>) -> HttpFuture + Send + Sync + Clone {
    // rustls with ring, as Poortwachter itself uses: installed once per process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client");
    move |request: HttpRequest<Vec<u8>>| {
        let http = http.clone();
        Box::pin(async move {
            let mut builder = http.request(request.method().clone(), request.uri().to_string());
            for (name, value) in request.headers() {
                builder = builder.header(name, value);
            }
            let sent = builder
                .body(request.body().clone())
                .send()
                .await
                .map_err(|e| HttpError(e.to_string()))?;
            let mut response = HttpResponse::builder().status(sent.status());
            for (name, value) in sent.headers() {
                response = response.header(
                    name,
                    HeaderValue::from_bytes(value.as_bytes()).expect("header"),
                );
            }
            let body = sent.bytes().await.map_err(|e| HttpError(e.to_string()))?;
            Ok(response.body(body.to_vec()).expect("response"))
        })
    }
}

/// A user logged in here.
#[derive(Clone)]
struct Visitor {
    name: String,
    organization: String,
    id_token: String,
    sid: String,
}

/// A login on its way: what the callback must check.
struct Pending {
    nonce: Nonce,
    verifier: PkceCodeVerifier,
}

struct Demo {
    rp: Rp,
    metadata: ProviderMetadataWithLogout,
    issuer: String,
    url: String,
    sessions: Mutex<HashMap<String, Visitor>>,
    pending: Mutex<HashMap<String, Pending>>,
}

type Shared = State<Arc<Demo>>;

const COOKIE: &str = "vc_session";

fn setting(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let issuer = setting("VERZUIMCOACH_ISSUER", "http://localhost:8080");
    let url = setting("VERZUIMCOACH_URL", "http://localhost:3000");
    let bind = setting("VERZUIMCOACH_BIND", "127.0.0.1:3000");
    let id = std::env::var("VERZUIMCOACH_CLIENT_ID")
        .map_err(|_| "set VERZUIMCOACH_CLIENT_ID (from `poortwachter client create`)")?;
    let secret = std::env::var("VERZUIMCOACH_CLIENT_SECRET")
        .ok()
        .filter(|s| !s.is_empty());
    let metadata =
        ProviderMetadataWithLogout::discover_async(IssuerUrl::new(issuer.clone())?, &http_client())
            .await?;
    let rp = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new(id),
        secret.map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(format!("{url}/callback"))?);
    let demo = Arc::new(Demo {
        rp,
        metadata,
        issuer,
        url,
        sessions: Default::default(),
        pending: Default::default(),
    });
    let app = axum::Router::new()
        .route("/", get(home))
        .route("/login", post(login))
        .route("/callback", get(callback))
        .route("/logout", post(logout))
        .route("/backchannel-logout", post(backchannel_logout))
        .with_state(demo.clone());
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    eprintln!(
        "Verzuimcoach demo on {} (logging in at {})",
        demo.url, demo.issuer
    );
    axum::serve(listener, app).await?;
    Ok(())
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"nl\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title} · Verzuimcoach</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1b2a38}}\
         button{{font:inherit;font-weight:700;padding:.7rem 1.3rem;border:0;border-radius:.45rem;background:#0b5cad;color:#fff;cursor:pointer}}</style>\
         </head><body><header><strong>Verzuimcoach</strong></header><main>{body}</main></body></html>"
    ))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn visitor(demo: &Demo, headers: &HeaderMap) -> Option<(String, Visitor)> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    let id = cookies
        .split(';')
        .find_map(|c| c.trim().strip_prefix(&format!("{COOKIE}=")))?;
    let sessions = demo.sessions.lock().unwrap();
    sessions.get(id).map(|v| (id.to_owned(), v.clone()))
}

async fn home(State(demo): Shared, headers: HeaderMap) -> Html<String> {
    match visitor(&demo, &headers) {
        Some((_, v)) => page(
            "Ingelogd",
            &format!(
                "<h1>Je bent nu succesvol ingelogd in Verzuimcoach</h1>\
                 <p>Welkom, <strong id=\"name\">{}</strong>.</p><p>Organisatie: <strong id=\"organization\">{}</strong></p>\
                 <form method=\"post\" action=\"/logout\"><button type=\"submit\">Uitloggen</button></form>",
                escape(&v.name),
                escape(&v.organization)
            ),
        ),
        None => page(
            "Welkom",
            "<h1>Welkom bij Verzuimcoach</h1><p>Log in met je account van je werkgever.</p>\
             <form method=\"post\" action=\"/login\"><button type=\"submit\">Inloggen</button></form>",
        ),
    }
}

async fn login(State(demo): Shared) -> Redirect {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = demo
        .rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("organization".into()))
        .set_pkce_challenge(challenge)
        .url();
    demo.pending
        .lock()
        .unwrap()
        .insert(state.secret().clone(), Pending { nonce, verifier });
    Redirect::to(url.as_str())
}

async fn callback(State(demo): Shared, Query(query): Query<HashMap<String, String>>) -> Response {
    let refused = |why: &str| {
        (
            StatusCode::BAD_REQUEST,
            page(
                "Niet ingelogd",
                &format!(
                    "<h1>Niet ingelogd</h1><p>{}</p><p><a href=\"/\">Opnieuw</a></p>",
                    escape(why)
                ),
            ),
        )
            .into_response()
    };
    let Some(pending) = query
        .get("state")
        .and_then(|s| demo.pending.lock().unwrap().remove(s))
    else {
        return refused("Onbekende of verlopen inlogpoging.");
    };
    // RFC 9207: the answer must come from the provider the request went to.
    if query.get("iss") != Some(&demo.issuer) {
        return refused("Het antwoord kwam niet van de verwachte inlogdienst.");
    }
    if let Some(error) = query.get("error") {
        return refused(&format!("De inlogdienst meldt: {error}"));
    }
    let Some(code) = query.get("code") else {
        return refused("Geen code ontvangen.");
    };
    let http = http_client();
    let request = match demo.rp.exchange_code(AuthorizationCode::new(code.clone())) {
        Ok(request) => request,
        Err(e) => return refused(&e.to_string()),
    };
    let tokens: CoreTokenResponse = match request
        .set_pkce_verifier(pending.verifier)
        .request_async(&http)
        .await
    {
        Ok(tokens) => tokens,
        Err(e) => return refused(&format!("Tokens niet ontvangen: {e}")),
    };
    let Some(id_token) = tokens.id_token() else {
        return refused("Geen ID-token.");
    };
    let claims = match id_token.claims(&demo.rp.id_token_verifier(), &pending.nonce) {
        Ok(claims) => claims,
        Err(e) => return refused(&format!("Ongeldig ID-token: {e}")),
    };
    // Verified above; the provider's own claims (`organization`, `sid`) are read from it.
    let payload = payload_of(&id_token.to_string()).unwrap_or_default();
    let name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.as_str().to_owned())
        .unwrap_or_default();
    let visitor = Visitor {
        name,
        organization: payload["organization"]["name"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
        id_token: id_token.to_string(),
        sid: payload["sid"].as_str().unwrap_or("").to_owned(),
    };
    let session = CsrfToken::new_random().secret().clone();
    demo.sessions
        .lock()
        .unwrap()
        .insert(session.clone(), visitor);
    let cookie = format!("{COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

fn payload_of(jwt: &str) -> Option<serde_json::Value> {
    use base64::Engine;
    let payload = jwt.split('.').nth(1)?;
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .ok()?,
    )
    .ok()
}

/// Uitloggen: the local session ends, and Poortwachter's through RP-initiated logout.
async fn logout(State(demo): Shared, headers: HeaderMap) -> Response {
    let Some((id, visitor)) = visitor(&demo, &headers) else {
        return Redirect::to("/").into_response();
    };
    demo.sessions.lock().unwrap().remove(&id);
    let Some(end_session) = demo
        .metadata
        .additional_metadata()
        .end_session_endpoint
        .clone()
    else {
        return Redirect::to("/").into_response();
    };
    let id_token = visitor
        .id_token
        .parse::<openidconnect::core::CoreIdToken>()
        .ok();
    let mut request = LogoutRequest::from(end_session).set_post_logout_redirect_uri(
        PostLogoutRedirectUrl::new(format!("{}/", demo.url)).expect("URL"),
    );
    if let Some(token) = &id_token {
        request = request.set_id_token_hint(token);
    }
    let clear = format!("{COOKIE}=; Path=/; Max-Age=0");
    (
        [(header::SET_COOKIE, clear)],
        Redirect::to(request.http_get_url().as_str()),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct LogoutToken {
    logout_token: String,
}

/// OpenID Connect Back-Channel Logout 1.0 §2.6: check the logout token (signature against
/// the provider's JWKS, issuer, audience, the logout event, no nonce), then end every local
/// session of that `sid`.
async fn backchannel_logout(State(demo): Shared, Form(form): Form<LogoutToken>) -> StatusCode {
    let Some(claims) = verified(&demo, &form.logout_token) else {
        return StatusCode::BAD_REQUEST;
    };
    let events = &claims["events"]["http://schemas.openid.net/event/backchannel-logout"];
    if claims["iss"] != demo.issuer.as_str()
        || claims["aud"] != demo.rp.client_id().as_str()
        || !events.is_object()
        || claims.get("nonce").is_some()
    {
        return StatusCode::BAD_REQUEST;
    }
    let Some(sid) = claims["sid"].as_str() else {
        return StatusCode::BAD_REQUEST;
    };
    demo.sessions.lock().unwrap().retain(|_, v| v.sid != sid);
    StatusCode::OK
}

fn verified(demo: &Demo, token: &str) -> Option<serde_json::Value> {
    use base64::Engine;
    let decode = |part: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .ok()
    };
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return None;
    };
    let header: serde_json::Value = serde_json::from_slice(&decode(header)?).ok()?;
    let alg = match header["alg"].as_str()? {
        "ES256" => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        "RS256" => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        _ => return None,
    };
    let key = demo
        .metadata
        .jwks()
        .keys()
        .iter()
        .find(|k| k.key_id().map(|id| id.as_str()) == header["kid"].as_str())?;
    key.verify_signature(
        &alg,
        format!("{header_part}.{payload}", header_part = parts[0]).as_bytes(),
        &decode(signature)?,
    )
    .ok()?;
    serde_json::from_slice(&decode(payload)?).ok()
}
