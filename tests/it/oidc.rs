//! Poortwachter as an OpenID Connect provider, driven by an independent relying party: the
//! `openidconnect` crate does discovery, builds the authorization request, exchanges the
//! code, verifies the ID token against the JWKS, calls userinfo, refreshes, revokes and
//! logs out. Every test runs on SQLite and on PostgreSQL.

use crate::common::oidc::*;
use crate::common::*;
use openidconnect::core::CoreErrorResponseType;
use openidconnect::{
    AccessTokenHash, CsrfToken, LogoutRequest, OAuth2TokenResponse, PostLogoutRedirectUrl,
    RequestTokenError, TokenResponse,
};
use poortwachter::domain::audit::AuditEvent;
use reqwest::StatusCode;

const GOOD: &str = "Fiets-Sleutel-2024!";

impl TestApp {
    pub(crate) fn verifier_time(
        &self,
    ) -> impl Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync + use<> {
        let clock = self.clock.clone();
        move || chrono::DateTime::from_timestamp(clock.now(), 0).unwrap()
    }
}

fn invalid_grant<E: std::error::Error>(
    result: Result<
        impl std::fmt::Debug,
        RequestTokenError<E, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
    >,
) -> bool {
    matches!(result, Err(RequestTokenError::ServerResponse(e)) if *e.error() == CoreErrorResponseType::InvalidGrant)
}

store_tests! {
async fn the_whole_flow_with_an_independent_client() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    let (id, secret) = app.verzuimcoach().await;
    let metadata = app.discover().await;
    assert_eq!(metadata.issuer().as_str(), PUBLIC_URL);
    let rp = app.rp(&metadata, &id, secret.as_deref());
    let login = start_login(&rp, &["profile", "email", "organization"]);
    assert!(login.url.as_str().contains("code_challenge_method=S256"));

    let browser = browser();
    let code = app.log_in_at_application(&browser, &login, "jan", GOOD).await;
    let tokens = app.exchange(&rp, &code, login.verifier).await;

    // The ID token, verified by the client against the published JWKS.
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = rp.id_token_verifier().set_time_fn(app.verifier_time());
    let claims = id_token.claims(&verifier, &login.nonce).expect("a valid ID token");
    assert_eq!(claims.issuer().as_str(), PUBLIC_URL);
    assert_eq!(claims.audiences()[0].as_str(), id);
    let subject = claims.subject().as_str().to_owned();
    assert_ne!(subject, "jan", "sub is opaque");
    assert!(!subject.contains("example.nl"));
    assert_eq!(claims.preferred_username().unwrap().as_str(), "jan");
    assert_eq!(claims.email().unwrap().as_str(), "jan@example.nl");
    let amr: Vec<&str> = claims.auth_method_refs().unwrap().iter().map(|a| a.as_str()).collect();
    assert_eq!(amr, ["pwd", "otp", "mfa"]);
    assert_eq!(claims.auth_context_ref().unwrap().as_str(), "https://refeds.org/profile/mfa");
    assert!(claims.auth_time().is_some());
    let at_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&at_hash));
    assert_eq!(tokens.expires_in().unwrap().as_secs(), 300, "access tokens live 5 minutes");

    // The access token is an RFC 9068 JWT; userinfo answers for it.
    let header = tokens.access_token().secret().split('.').next().unwrap().to_owned();
    let header: serde_json::Value = serde_json::from_slice(
        &data_encoding::BASE64URL_NOPAD.decode(header.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(header["typ"], "at+jwt");
    let info: UserInfo = rp
        .user_info(tokens.access_token().clone(), Some(claims.subject().clone()))
        .unwrap()
        .request_async(&app.rp_http())
        .await
        .expect("userinfo");
    assert_eq!(info.email().unwrap().as_str(), "jan@example.nl");
    let organization = info.additional_claims().organization.clone().unwrap();
    assert_eq!(organization["slug"], "acme");

    // Refresh: a new pair, and the old refresh token refused from then on.
    let first_refresh = tokens.refresh_token().unwrap().clone();
    let refreshed = rp
        .exchange_refresh_token(&first_refresh)
        .unwrap()
        .request_async(&app.rp_http())
        .await
        .expect("refreshed");
    let second_refresh = refreshed.refresh_token().unwrap().clone();
    assert_ne!(second_refresh.secret(), first_refresh.secret(), "rotated");

    // Revocation (RFC 7009) of the current refresh token ends the grant. (The crate sends
    // revocation requests only to https URLs; the test server is plain http.)
    let revoked = app
        .post_token_endpoint("/oauth2/revoke", &id, secret.as_deref(), &[("token", second_refresh.secret())])
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let after = rp.exchange_refresh_token(&second_refresh).unwrap().request_async(&app.rp_http()).await;
    assert!(invalid_grant(after), "a revoked refresh token is refused");
    let info = rp
        .user_info(refreshed.access_token().clone(), None)
        .unwrap()
        .request_async::<Organization, _, openidconnect::core::CoreGenderClaim>(&app.rp_http())
        .await;
    assert!(info.is_err(), "the grant's access tokens stop with it");

    // RP-initiated logout with the ID token as hint: logged out at once, sent back.
    let end_session = metadata.additional_metadata().end_session_endpoint.clone().unwrap();
    let logout = LogoutRequest::from(end_session)
        .set_id_token_hint(id_token)
        .set_post_logout_redirect_uri(PostLogoutRedirectUrl::new(AFTER_LOGOUT.into()).unwrap())
        .set_state(CsrfToken::new("bye".into()))
        .http_get_url();
    let response = app.visit(&browser, logout.as_str()).await;
    assert_eq!(location(&response), format!("{AFTER_LOGOUT}?state=bye"));
    let home = app.get_with(&browser, "/").await;
    assert_eq!(location(&home), "/login", "the Poortwachter session ended too");

    let events = app.admin.audit_log(Some("acme"), Some("jan"), None, 1000).await.unwrap();
    for event in [AuditEvent::CodeIssued, AuditEvent::TokensIssued, AuditEvent::TokensRevoked] {
        assert!(events.iter().any(|e| e.event == event), "{event} audited");
    }
}

async fn single_sign_on_prompt_none_login_hint_and_prompt_login() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    let (id, secret) = app.verzuimcoach().await;
    let metadata = app.discover().await;
    let rp = app.rp(&metadata, &id, secret.as_deref());

    // prompt=none without a session: login_required back at the client, with state and iss.
    let browser = browser();
    let login = start_login(&rp, &[]);
    let url = format!("{}&prompt=none", login.url);
    let params = callback(&location(&app.visit(&browser, &url).await));
    assert_eq!(params["error"], "login_required");
    assert_eq!(params["state"], *login.state.secret());
    assert_eq!(params["iss"], PUBLIC_URL);

    // login_hint fills in the username; ui_locales picks the page language.
    let login = start_login(&rp, &[]);
    let url = format!("{}&login_hint=jan&ui_locales=en", login.url);
    let response = app.visit(&browser, &url).await;
    let to_lang = location(&response);
    assert!(to_lang.starts_with("/lang/en?next="), "{to_lang}");
    let to_login = location(&app.visit(&browser, &to_lang).await);
    assert_eq!(to_login, "/login?username=jan");
    let page = app.visit(&browser, &to_login).await.text().await.unwrap();
    assert!(page.contains("value=\"jan\"") && page.contains("Log in"), "prefilled, in English");
    assert!(page.contains("You are logging in to Verzuimcoach."), "names the application");

    let login = start_login(&rp, &[]);
    app.log_in_at_application(&browser, &login, "jan", GOOD).await;
    // Gekoppelde apps names the organization's own application, which needs no consent,
    // instead of saying that no app uses the account.
    let home = app.visit(&browser, "/").await.text().await.unwrap();
    assert!(
        home.contains("own apps use your account without a separate consent: Verzuimcoach.")
            || home.contains("gebruiken je account zonder aparte toestemming: Verzuimcoach."),
        "{home}"
    );

    // With a full session: straight back with a code (single sign-on), also for prompt=none.
    let again = start_login(&rp, &[]);
    let url = format!("{}&prompt=none", again.url);
    let params = callback(&location(&app.visit(&browser, &url).await));
    assert!(params.contains_key("code"));

    // prompt=login: the session ends and the login starts again.
    let fresh = start_login(&rp, &[]);
    let url = format!("{}&prompt=login", fresh.url);
    let response = app.visit(&browser, &url).await;
    assert!(location(&response).starts_with("/login"));
    app.clock.advance(30);
    let next = app.full_login_with(&browser, "jan", GOOD).await;
    let params = callback(&location(&app.visit(&browser, &next).await));
    let tokens = app.exchange(&rp, &params["code"], fresh.verifier).await;
    let verifier = rp.id_token_verifier().set_time_fn(app.verifier_time());
    let claims = tokens.id_token().unwrap().claims(&verifier, &fresh.nonce).unwrap();
    assert!(claims.auth_time().unwrap().timestamp() >= app.clock.now() - 5, "a new login");
}

async fn a_password_only_session_never_yields_a_code() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    let (id, secret) = app.verzuimcoach().await;
    let rp = app.rp(&app.discover().await, &id, secret.as_deref());
    let browser = browser();
    let response = app.login_with(&browser, "jan", GOOD).await;
    assert_eq!(location(&response), "/2fa");
    let login = start_login(&rp, &[]);
    let response = app.visit(&browser, login.url.as_str()).await;
    assert_eq!(location(&response), "/2fa", "on to the second step, no code");
    let url = format!("{}&prompt=none", start_login(&rp, &[]).url);
    let params = callback(&location(&app.visit(&browser, &url).await));
    assert_eq!(params["error"], "login_required");
}

async fn rs256_clients_get_rs256_id_tokens_and_max_age_asks_for_a_new_login() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    let (id, secret) = app
        .register(poortwachter::admin::ClientRegistration {
            name: "Oud Systeem".into(),
            redirect_uris: vec![REDIRECT.into()],
            first_party: true,
            id_token_alg: "RS256".parse().unwrap(),
            ..Default::default()
        })
        .await;
    let rp = app.rp(&app.discover().await, &id, secret.as_deref());
    let browser = browser();
    let login = start_login(&rp, &[]);
    let code = app.log_in_at_application(&browser, &login, "jan", GOOD).await;
    let tokens = app.exchange(&rp, &code, login.verifier).await;
    let id_token = tokens.id_token().unwrap();
    let verifier = rp.id_token_verifier().set_time_fn(app.verifier_time());
    id_token.claims(&verifier, &login.nonce).expect("an RS256 ID token the crate verifies");
    assert_eq!(
        id_token.signing_alg().unwrap(),
        &openidconnect::core::CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256
    );

    // A login older than max_age: the user logs in again before a code is given.
    app.clock.advance(120);
    let fresh = start_login(&rp, &[]);
    let url = format!("{}&max_age=60", fresh.url);
    assert!(location(&app.visit(&browser, &url).await).starts_with("/login"));
    let next = app.full_login_with(&browser, "jan", GOOD).await;
    let params = callback(&location(&app.visit(&browser, &next).await));
    assert!(params.contains_key("code"));
    // Within max_age: straight on.
    let again = format!("{}&max_age=60", start_login(&rp, &[]).url);
    assert!(callback(&location(&app.visit(&browser, &again).await)).contains_key("code"));
}
}
