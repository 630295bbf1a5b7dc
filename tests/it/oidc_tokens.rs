//! The token, introspection and revocation endpoints: codes bound and single-use, refresh
//! tokens rotated with reuse detection, client authentication and its throttle, RFC 6749
//! §5.2 errors. Every test runs on SQLite and on PostgreSQL.

use crate::common::oidc::*;
use crate::common::*;
use openidconnect::OAuth2TokenResponse;
use poortwachter::admin::ClientRegistration;
use poortwachter::domain::audit::{AuditEvent, Outcome};
use reqwest::StatusCode;
use serde_json::Value;

const GOOD: &str = "Fiets-Sleutel-2024!";

/// A logged-in user at a first-party application: the app, its client and a fresh code.
async fn with_code() -> (TestApp, String, Option<String>, Login, String) {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    let (id, secret) = app.verzuimcoach().await;
    let rp = app.rp(&app.discover().await, &id, secret.as_deref());
    let login = start_login(&rp, &[]);
    let code = app
        .log_in_at_application(&app.client, &login, "jan", GOOD)
        .await;
    (app, id, secret, login, code)
}

async fn json(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (
        status,
        serde_json::from_str(&response.text().await.unwrap()).unwrap(),
    )
}

fn code_form<'a>(code: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ]
}

store_tests! {
async fn a_code_is_bound_to_its_verifier_and_redirect_and_works_once() {
    let (app, id, secret, login, code) = with_code().await;
    let secret = secret.as_deref();
    let verifier = login.verifier.secret().clone();

    // A wrong verifier or redirect URI: invalid_grant, and the code is not spent by it.
    let wrong = "x".repeat(43);
    let (status, body) = json(app.post_token_endpoint("/oauth2/token", &id, secret, &code_form(&code, &wrong)).await).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    let mut other_redirect = code_form(&code, &verifier);
    other_redirect[2].1 = "http://127.0.0.1:9/other";
    let (_, body) = json(app.post_token_endpoint("/oauth2/token", &id, secret, &other_redirect).await).await;
    assert_eq!(body["error"], "invalid_grant");

    let (status, first) = json(app.post_token_endpoint("/oauth2/token", &id, secret, &code_form(&code, &verifier)).await).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["token_type"], "Bearer");

    // The second use: invalid_grant, and what the first use issued is revoked.
    let (_, body) = json(app.post_token_endpoint("/oauth2/token", &id, secret, &code_form(&code, &verifier)).await).await;
    assert_eq!(body["error"], "invalid_grant");
    let refresh = first["refresh_token"].as_str().unwrap();
    let (_, body) = json(app.post_token_endpoint("/oauth2/token", &id, secret, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await).await;
    assert_eq!(body["error"], "invalid_grant", "the first use's refresh token is revoked");
    let userinfo = app
        .client
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(first["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), StatusCode::UNAUTHORIZED);
    assert!(userinfo.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    let events = app.admin.audit_log(Some("acme"), None, None, 1000).await.unwrap();
    assert!(events.iter().any(|e| e.event == AuditEvent::TokenReused && e.outcome == Outcome::Replayed));
}

async fn a_code_expires_after_a_minute_and_belongs_to_its_client() {
    let (app, id, secret, login, code) = with_code().await;
    let verifier = login.verifier.secret().clone();
    let (other, other_secret) = app
        .register(ClientRegistration { name: "Ander".into(), redirect_uris: vec![REDIRECT.into()], first_party: true, ..Default::default() })
        .await;
    let (_, body) = json(app.post_token_endpoint("/oauth2/token", &other, other_secret.as_deref(), &code_form(&code, &verifier)).await).await;
    assert_eq!(body["error"], "invalid_grant", "another client's code");
    app.clock.advance(61);
    let (_, body) = json(app.post_token_endpoint("/oauth2/token", &id, secret.as_deref(), &code_form(&code, &verifier)).await).await;
    assert_eq!(body["error"], "invalid_grant", "expired");
}

async fn a_reused_refresh_token_revokes_its_whole_family() {
    let (app, id, secret, login, code) = with_code().await;
    let secret = secret.as_deref();
    let (_, first) = json(app.post_token_endpoint("/oauth2/token", &id, secret, &code_form(&code, login.verifier.secret())).await).await;
    let old = first["refresh_token"].as_str().unwrap();
    let refresh = |token: String| {
        let app = &app;
        let id = id.clone();
        async move {
            json(app.post_token_endpoint("/oauth2/token", &id, secret, &[("grant_type", "refresh_token"), ("refresh_token", &token)]).await).await
        }
    };
    let (status, second) = refresh(old.to_owned()).await;
    assert_eq!(status, StatusCode::OK);
    let new = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    // A narrower scope may be asked for, a wider one not.
    let (_, wider) = json(app.post_token_endpoint("/oauth2/token", &id, secret, &[("grant_type", "refresh_token"), ("refresh_token", &new), ("scope", "openid email")]).await).await;
    assert_eq!(wider["error"], "invalid_scope");
    // The old one again (a thief, or a lost response): refused, and the new one dies too.
    let (_, body) = refresh(old.to_owned()).await;
    assert_eq!(body["error"], "invalid_grant", "{body}");
    assert!(body["error_description"].as_str().unwrap().contains("used before"), "{body}");
    let (_, body) = refresh(new).await;
    assert_eq!(body["error"], "invalid_grant", "the whole family is revoked");
    let events = app.admin.audit_log(Some("acme"), Some("jan"), None, 1000).await.unwrap();
    assert!(events.iter().any(|e| e.event == AuditEvent::TokensIssued && e.detail.as_deref().unwrap_or("").ends_with("authorization_code")));
    assert!(
        events.iter().any(|e| e.event == AuditEvent::TokenReused && e.detail.as_deref().unwrap_or("").ends_with("refresh_token")),
        "{events:?}"
    );
}

/// A rotation is whole (SQLite runs it as one multi-statement query, PostgreSQL step by
/// step): the next token works, one audit line about the user says so, the login session is
/// kept alive, and a rotation refused for an ended session writes none of it.
async fn a_rotation_writes_its_token_audit_line_and_session_together() {
    let (app, id, secret, login, code) = with_code().await;
    let secret = secret.as_deref();
    let (_, first) = json(app.post_token_endpoint("/oauth2/token", &id, secret, &code_form(&code, login.verifier.secret())).await).await;
    let refresh = |token: String| {
        let app = &app;
        let id = id.clone();
        async move {
            json(app.post_token_endpoint("/oauth2/token", &id, secret, &[("grant_type", "refresh_token"), ("refresh_token", &token)]).await).await
        }
    };
    let rotations = || {
        let admin = &app.admin;
        async move {
            admin.audit_log(Some("acme"), Some("jan"), None, 1000).await.unwrap().into_iter()
                .filter(|e| e.event == AuditEvent::TokensIssued && e.detail.as_deref().unwrap_or("").ends_with(" refresh_token"))
                .count()
        }
    };
    let db = app.db().await;
    let seen = || async {
        sqlx::query_scalar::<_, i64>("SELECT MAX(last_seen_at) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'jan'")
            .fetch_one(&db).await.unwrap()
    };
    app.clock.advance(120);
    let (status, second) = refresh(first["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(rotations().await, 1);
    assert_eq!(seen().await, app.clock.now(), "the session is kept alive");
    let (status, third) = refresh(second["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, StatusCode::OK, "{third}");
    assert_eq!(rotations().await, 2);

    // The session ends: the next rotation is refused and leaves no trace of a rotation.
    sqlx::query("DELETE FROM sessions").execute(&db).await.unwrap();
    let (_, refused) = refresh(third["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(refused["error"], "invalid_grant");
    assert_eq!(rotations().await, 2);
    let tokens: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oidc_refresh_tokens").fetch_one(&db).await.unwrap();
    assert_eq!(tokens, 3, "no next token for a refused rotation");
}

/// A rotation that fails half-way (here its audit line is refused by a trigger, after the old
/// token was marked used and the next one written) leaves nothing behind: the answer is a
/// server error, the old token still rotates once the fault is gone, and writes go on.
async fn a_rotation_that_fails_half_way_leaves_nothing_behind() {
    let (app, id, secret, login, code) = with_code().await;
    let secret = secret.as_deref();
    let (_, first) = json(app.post_token_endpoint("/oauth2/token", &id, secret, &code_form(&code, login.verifier.secret())).await).await;
    let old = first["refresh_token"].as_str().unwrap().to_owned();
    let form = [("grant_type", "refresh_token"), ("refresh_token", old.as_str())];
    let db = app.db().await;
    let postgres = app.settings.database_url().starts_with("postgres");
    if postgres {
        sqlx::query("CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql")
            .execute(&db).await.unwrap();
        sqlx::query("CREATE TRIGGER no_audit BEFORE INSERT ON audit_log FOR EACH ROW WHEN (NEW.event = 'tokens_issued') EXECUTE FUNCTION refuse_audit()")
            .execute(&db).await.unwrap();
    } else {
        sqlx::query("CREATE TRIGGER no_audit BEFORE INSERT ON audit_log WHEN NEW.event = 'tokens_issued' BEGIN SELECT RAISE(ABORT, 'refused'); END")
            .execute(&db).await.unwrap();
    }
    let failed = app.post_token_endpoint("/oauth2/token", &id, secret, &form).await;
    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let tokens: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oidc_refresh_tokens WHERE used_at IS NULL").fetch_one(&db).await.unwrap();
    assert_eq!(tokens, 1, "the old token is unused and no next one was kept");
    sqlx::query("DROP TRIGGER no_audit ON audit_log").execute(&db).await.ok();
    sqlx::query("DROP TRIGGER IF EXISTS no_audit").execute(&db).await.ok();
    let (status, body) = json(app.post_token_endpoint("/oauth2/token", &id, secret, &form).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = json(app.post_token_endpoint("/oauth2/token", &id, secret, &[("grant_type", "refresh_token"), ("refresh_token", body["refresh_token"].as_str().unwrap())]).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn rotations_waiting_together_each_get_their_own_tokens_and_a_token_sent_twice_is_a_reuse() {
    // Rotations that wait for the writer together are committed together on SQLite
    // (group_commit.rs). The database's write lock is held from outside while they arrive,
    // so that they pile up: then each must still get the tokens of its own user, and a token
    // presented twice at once is one rotation and one reuse.
    let app = spawn_app().await;
    let (id, secret) = app.verzuimcoach().await;
    let secret = secret.as_deref();
    let discovered = app.discover().await;
    let mut chains = Vec::new();
    for n in 0..6 {
        let username = format!("medewerker{n}");
        app.active_user("acme", &username, GOOD).await;
        let rp = app.rp(&discovered, &id, secret);
        let login = start_login(&rp, &["profile"]);
        let code = app.log_in_at_application(&browser(), &login, &username, GOOD).await;
        let (_, tokens) = json(app.post_token_endpoint("/oauth2/token", &id, secret, &code_form(&code, login.verifier.secret())).await).await;
        chains.push((username, tokens["refresh_token"].as_str().unwrap().to_owned()));
    }
    let twice = chains[0].1.clone();
    let refresh = |token: String| {
        let (app, id) = (&app, id.clone());
        async move {
            json(app.post_token_endpoint("/oauth2/token", &id, secret, &[("grant_type", "refresh_token"), ("refresh_token", &token)]).await).await
        }
    };
    let postgres = app.settings.database_url().starts_with("postgres");
    let lock_sql = if postgres { "LOCK TABLE oidc_refresh_tokens IN EXCLUSIVE MODE" } else { "SELECT 1" };
    let db = app.db().await;
    let mut holder = db.begin().await.unwrap();
    if !postgres {
        // BEGIN IMMEDIATE from outside: SQLite's write lock, taken by a write.
        sqlx::query("DELETE FROM audit_log WHERE id < 0").execute(&mut *holder).await.unwrap();
    }
    sqlx::query(lock_sql).execute(&mut *holder).await.unwrap();
    let all = futures::future::join_all(
        chains.iter().map(|(_, token)| refresh(token.clone())).chain([refresh(twice.clone())]),
    );
    let release = async {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        holder.commit().await.unwrap();
    };
    let (answers, ()) = tokio::join!(all, release);

    let (chain_answers, twice_answer) = answers.split_at(chains.len());
    // Of the first user's two presentations, one rotated and one was a reuse (either order);
    // the reuse revoked the family, so the rotated one's next token is refused too.
    let first_user = [&chain_answers[0], &twice_answer[0]];
    let rotated: Vec<_> = first_user.iter().filter(|(status, _)| *status == StatusCode::OK).collect();
    assert_eq!(rotated.len(), 1, "{first_user:?}");
    assert!(first_user.iter().any(|(_, body)| body["error"] == "invalid_grant"));
    let (_, body) = refresh(rotated[0].1["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(body["error"], "invalid_grant", "the family is revoked: {body}");
    // Everyone else: their own user in their tokens, and a next token that works.
    for ((username, _), (status, tokens)) in chains.iter().zip(chain_answers).skip(1) {
        assert_eq!(*status, StatusCode::OK, "{username}: {tokens}");
        let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
        assert_eq!(claims["preferred_username"], username.as_str(), "{claims}");
        let (status, next) = refresh(tokens["refresh_token"].as_str().unwrap().to_owned()).await;
        assert_eq!(status, StatusCode::OK, "{username}: {next}");
        assert_eq!(jwt_claims(next["id_token"].as_str().unwrap())["preferred_username"], username.as_str());
    }
    let events = app.admin.audit_log(Some("acme"), None, None, 1000).await.unwrap();
    for (username, _) in chains.iter().skip(1) {
        let issued = events.iter().filter(|e| e.event == AuditEvent::TokensIssued && e.username.as_deref() == Some(username.as_str())).count();
        assert_eq!(issued, 3, "{username}: the code's and two rotations' audit lines");
    }
}

async fn a_used_refresh_token_revokes_its_family_whatever_else_is_asked() {
    // RFC 9700 §4.14.2: any presentation of a used refresh token, with a scope (wider,
    // narrower, unreadable) or not, revokes the family; the scope check must not come first.
    for scope in ["openid email", "openid", "%%%"] {
        let (app, id, secret, login, code) = with_code().await;
        let secret = secret.as_deref();
        let (_, first) = json(app.post_token_endpoint("/oauth2/token", &id, secret, &code_form(&code, login.verifier.secret())).await).await;
        let old = first["refresh_token"].as_str().unwrap().to_owned();
        let form = |token: &str| vec![("grant_type", "refresh_token".to_owned()), ("refresh_token", token.to_owned())];
        let post = |form: Vec<(&'static str, String)>| {
            let (app, id) = (&app, id.clone());
            async move {
                let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                json(app.post_token_endpoint("/oauth2/token", &id, secret, &form).await).await
            }
        };
        let (status, second) = post(form(&old)).await;
        assert_eq!(status, StatusCode::OK);
        let new = second["refresh_token"].as_str().unwrap().to_owned();
        let mut reuse = form(&old);
        reuse.push(("scope", scope.to_owned()));
        let (_, body) = post(reuse).await;
        assert_eq!(body["error"], "invalid_grant", "scope {scope}: {body}");
        let (_, body) = post(form(&new)).await;
        assert_eq!(body["error"], "invalid_grant", "scope {scope}: the family is revoked: {body}");
        let events = app.admin.audit_log(Some("acme"), Some("jan"), None, 1000).await.unwrap();
        assert!(events.iter().any(|e| e.event == AuditEvent::TokenReused), "scope {scope}");
    }
}

async fn json_endpoints_answer_every_error_as_oauth_json_and_read_the_scheme_in_any_case() {
    let (app, id, secret, login, code) = with_code().await;
    let secret = secret.as_deref().expect("a confidential client");
    // What no handler wrote: a wrong content type (415) and a body over the limit (413).
    for (content_type, body, status) in [
        ("application/json", "{}".to_owned(), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("application/x-www-form-urlencoded", format!("grant_type=refresh_token&x={}", "a".repeat(20_000)), StatusCode::PAYLOAD_TOO_LARGE),
    ] {
        for path in ["/oauth2/token", "/oauth2/revoke", "/oauth2/introspect"] {
            let response = app.client.post(app.url(path)).basic_auth(&id, Some(secret))
                .header("content-type", content_type).body(body.clone()).send().await.unwrap();
            assert_eq!(response.headers()["content-type"], "application/json", "{path} {status}");
            let (got, answer) = json(response).await;
            assert_eq!(got, status, "{path}");
            assert_eq!(answer["error"], "invalid_request", "{path}: {answer}");
            assert!(answer["error_description"].is_string());
        }
    }
    // Auth schemes are case-insensitive (RFC 9110 §11.1): `basic` at the token endpoint,
    // `bearer` at userinfo.
    let basic = data_encoding::BASE64.encode(format!("{id}:{secret}").as_bytes());
    let form = code_form(&code, login.verifier.secret());
    let response = app.client.post(app.url("/oauth2/token")).header("authorization", format!("basic {basic}"))
        .form(&form).send().await.unwrap();
    let (status, tokens) = json(response).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let userinfo = app.client.get(app.url("/oauth2/userinfo"))
            .header("authorization", format!("{scheme} {access}")).send().await.unwrap();
        assert_eq!(userinfo.status(), StatusCode::OK, "{scheme}");
    }
}

async fn refresh_tokens_end_with_the_login_session() {
    let (app, id, secret, login, code) = with_code().await;
    let secret = secret.as_deref();
    let (_, first) = json(app.post_token_endpoint("/oauth2/token", &id, secret, &code_form(&code, login.verifier.secret())).await).await;
    let home = app.get("/").await.text().await.unwrap();
    let out = app.post_with(&app.client, "/logout/everywhere", &csrf_of(&home), &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let refresh = first["refresh_token"].as_str().unwrap();
    let (_, body) = json(app.post_token_endpoint("/oauth2/token", &id, secret, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await).await;
    assert_eq!(body["error"], "invalid_grant");
}

async fn clients_authenticate_by_basic_or_post_and_failures_are_throttled() {
    let app = spawn_app_with(|s| s.address_lockout_failures = 6).await;
    app.active_user("acme", "jan", GOOD).await;
    let (id, secret) = app.verzuimcoach().await;
    let secret = secret.unwrap();
    let token = |form: Vec<(&'static str, String)>, basic: Option<(String, String)>| {
        let mut request = app.client.post(app.url("/oauth2/token")).form(&form);
        if let Some((user, password)) = basic {
            request = request.basic_auth(user, Some(password));
        }
        request.send()
    };
    let grant = || vec![("grant_type", "refresh_token".to_owned()), ("refresh_token", "A".repeat(43))];

    // Right secret by POST: authenticated (the grant itself is then refused).
    let mut post = grant();
    post.push(("client_id", id.clone()));
    post.push(("client_secret", secret.clone()));
    let (_, body) = json(token(post.clone(), None).await.unwrap()).await;
    assert_eq!(body["error"], "invalid_grant");
    // Both methods at once: invalid_request.
    let (status, body) = json(token(post, Some((id.clone(), secret.clone()))).await.unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
    // Unsupported grant types.
    let (_, body) = json(token(vec![("grant_type", "password".into())], Some((id.clone(), secret.clone()))).await.unwrap()).await;
    assert_eq!(body["error"], "unsupported_grant_type");
    // A repeated parameter.
    let mut repeated = grant();
    repeated.push(("grant_type", "refresh_token".into()));
    let (_, body) = json(token(repeated, Some((id.clone(), secret.clone()))).await.unwrap()).await;
    assert_eq!(body["error"], "invalid_request");

    // Wrong secrets: 401 invalid_client, counted for the address; after the free half, even
    // the right secret waits.
    for _ in 0..4 {
        let response = token(grant(), Some((id.clone(), "wrong".repeat(9)))).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
        assert_eq!(json(response).await.1["error"], "invalid_client");
    }
    let waiting = token(grant(), Some((id.clone(), secret.clone()))).await.unwrap();
    assert_eq!(waiting.status(), StatusCode::UNAUTHORIZED);
    assert!(waiting.headers().get("retry-after").is_some());
    app.clock.advance(3600);
    let (_, body) = json(token(grant(), Some((id.clone(), secret.clone()))).await.unwrap()).await;
    assert_eq!(body["error"], "invalid_grant", "authenticated again after the wait");
    let events = app.admin.audit_log(None, None, None, 1000).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.event == AuditEvent::ClientAuthentication).count(), 4);
}

async fn public_clients_use_pkce_alone_and_cannot_introspect() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    let (public, none) = app
        .register(ClientRegistration { name: "App".into(), redirect_uris: vec![REDIRECT.into()], public: true, first_party: true, ..Default::default() })
        .await;
    assert!(none.is_none(), "a public client has no secret");
    let rp = app.rp(&app.discover().await, &public, None);
    let login = start_login(&rp, &[]);
    let code = app.log_in_at_application(&app.client, &login, "jan", GOOD).await;
    let tokens = app.exchange(&rp, &code, login.verifier).await;
    let access = tokens.access_token().secret().clone();

    let (status, body) = json(app.post_token_endpoint("/oauth2/introspect", &public, None, &[("token", &access)]).await).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));

    // A confidential client (an API) introspects the access token (RFC 7662).
    let (api, api_secret) = app
        .register(ClientRegistration { name: "API".into(), redirect_uris: vec![REDIRECT.into()], ..Default::default() })
        .await;
    let (status, body) = json(app.post_token_endpoint("/oauth2/introspect", &api, api_secret.as_deref(), &[("token", &access)]).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["active"], true);
    assert_eq!(body["client_id"], public.as_str());
    assert_eq!(body["scope"], "openid");
    // Revoked by its own client: inactive for everyone.
    let revoked = app.post_token_endpoint("/oauth2/revoke", &public, None, &[("token", &access)]).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let (_, body) = json(app.post_token_endpoint("/oauth2/introspect", &api, api_secret.as_deref(), &[("token", &access)]).await).await;
    assert_eq!(body, serde_json::json!({ "active": false }));
    // Unknown tokens: revocation says OK anyway (RFC 7009 §2.2).
    let unknown = app.post_token_endpoint("/oauth2/revoke", &public, None, &[("token", "nonsense")]).await;
    assert_eq!(unknown.status(), StatusCode::OK);
}

async fn rotated_keys_are_published_before_they_sign_and_kept_after() {
    let (app, id, secret, login, code) = with_code().await;
    let kid_of = |token: &str| {
        let header = token.split('.').next().unwrap();
        let header: Value = serde_json::from_slice(&data_encoding::BASE64URL_NOPAD.decode(header.as_bytes()).unwrap()).unwrap();
        header["kid"].as_str().unwrap().to_owned()
    };
    let published = |app: &TestApp| {
        let url = app.url("/oauth2/jwks");
        async move {
            let jwks: Value = serde_json::from_str(&reqwest::get(url).await.unwrap().text().await.unwrap()).unwrap();
            jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    let (_, first) = json(app.post_token_endpoint("/oauth2/token", &id, secret.as_deref(), &code_form(&code, login.verifier.secret())).await).await;
    let old_kid = kid_of(first["id_token"].as_str().unwrap());
    assert_eq!(published(&app).await.len(), 2, "an ES256 and an RS256 key");

    let rotated = app.admin.rotate_signing_keys(1).await.unwrap();
    app.signing_keys.reload().await.unwrap();
    let keys = published(&app).await;
    assert_eq!(keys.len(), 4, "the next keys are published at once");
    let refresh = |token: String| {
        let app = &app;
        let (id, secret) = (id.clone(), secret.clone());
        async move {
            json(app.post_token_endpoint("/oauth2/token", &id, secret.as_deref(), &[("grant_type", "refresh_token"), ("refresh_token", &token)]).await).await.1
        }
    };
    let second = refresh(first["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(kid_of(second["id_token"].as_str().unwrap()), old_kid, "…but do not sign yet");

    // An hour on (the session kept alive by the application's refreshes).
    let mut latest = second;
    for _ in 0..3 {
        app.clock.advance(1201);
        latest = refresh(latest["refresh_token"].as_str().unwrap().to_owned()).await;
    }
    let third = latest;
    let new_kid = kid_of(third["id_token"].as_str().unwrap());
    assert!(rotated.iter().any(|k| k.kid == new_kid), "the new key signs after the overlap");
    assert!(published(&app).await.contains(&old_kid), "the old key stays while its tokens live");
    app.clock.advance(301);
    assert!(!published(&app).await.contains(&old_kid), "and goes when they have expired");
}
}
