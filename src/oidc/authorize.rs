//! The authorization endpoint (OpenID Connect Core §3.1.2): the journey of the guide in
//! between. Without a complete login the user goes through it (password, AUTHENTICATOR APP,
//! code) and comes back here; with one, straight on to the application (single sign-on).
//! A half-logged-in session (password only) never yields a code.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::{CODE_SECONDS, to_client};
use crate::domain::account::LoginStage;
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::oidc::request::{AuthorizationRequest, PageError, Parameters, Prompt};
use crate::domain::oidc::scope::Scopes;
use crate::domain::token::Token;
use crate::http::continuation::{self as pending, MAX_QUERY_BYTES, Pending};
use crate::http::csrf::{ProtectedForm, token_for_page};
use crate::http::lang::{Preferred, chrome};
use crate::http::session::{self, CurrentSession};
use crate::http::{AppState, ClientAddress, PageChrome, WebError, form, with_form_action};
use crate::store::{Client, NewCode, Session};
use crate::texts::Texts;

pub use super::apps::withdraw_router;

#[derive(Template)]
#[template(path = "oidc/message.html")]
pub(super) struct MessagePage {
    pub t: &'static Texts,
    pub page: PageChrome,
    pub title: &'static str,
    pub body: String,
    pub back: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "oidc/consent.html")]
struct ConsentPage<'a> {
    t: &'static Texts,
    page: PageChrome,
    csrf: String,
    client_name: &'a str,
    scope_lines: Vec<&'static str>,
    request: &'a str,
}

/// A page for a request that cannot be answered at the client (RFC 6749 §4.1.2.1).
fn request_page(
    state: &AppState,
    t: &'static Texts,
    body: &'static str,
) -> Result<Response, WebError> {
    let page = MessagePage {
        t,
        page: chrome(state, t, "/"),
        title: t.oidc.request_title,
        body: body.to_owned(),
        back: None,
    };
    Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response())
}

pub async fn authorize_get(
    State(state): State<AppState>,
    lang: Preferred,
    current: CurrentSession,
    ClientAddress(address): ClientAddress,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let query = query.unwrap_or_default();
    authorize(&state, &lang, current.0, &address, jar, &query, None).await
}

/// A POSTed request (Core §3.1.2.1 allows both) continues as a GET with the same
/// parameters: one code path, and the session cookie (SameSite=Lax) comes along on a GET.
/// The query is written anew from the parsed pairs, never copied from the body, so the
/// `Location` header is always valid; a body that is no form (control bytes, broken
/// escapes, too long) gets the error page.
pub async fn authorize_post(
    State(state): State<AppState>,
    lang: Preferred,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let t = lang.texts();
    let readable = body.len() <= MAX_QUERY_BYTES && !body.iter().any(u8::is_ascii_control);
    let Some(pairs) = readable.then(|| form::pairs(&body).ok()).flatten() else {
        return request_page(&state, t, t.oidc.unreadable_request);
    };
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    Ok(Redirect::to(&format!("/authorize?{query}")).into_response())
}

#[derive(Deserialize)]
pub struct ConsentForm {
    request: String,
    decision: String,
}

pub async fn consent(
    State(state): State<AppState>,
    lang: Preferred,
    current: CurrentSession,
    ClientAddress(address): ClientAddress,
    jar: CookieJar,
    ProtectedForm(form): ProtectedForm<ConsentForm>,
) -> Result<Response, WebError> {
    let decision = Some(form.decision == "allow");
    authorize(
        &state,
        &lang,
        current.0,
        &address,
        jar,
        &form.request,
        decision,
    )
    .await
}

/// The whole decision. `consented` is the user's answer on the consent page, if this is it.
async fn authorize(
    state: &AppState,
    lang: &Preferred,
    session: Option<Session>,
    address: &str,
    jar: CookieJar,
    query: &str,
    consented: Option<bool>,
) -> Result<Response, WebError> {
    let (client, request) = match checked_request(state, lang.texts(), query).await? {
        Ok(checked) => checked,
        Err(answer) => return Ok(answer),
    };
    let now = state.clock.now();
    let (complete, jar) = match logged_in(state, session, address, jar, query, &request).await? {
        Ok(logged_in) => logged_in,
        Err(answer) => return Ok(answer),
    };
    let user = &complete.user;
    let audit = AuditRecord::new(now, AuditEvent::CodeIssued, Outcome::Success)
        .user(complete.org.id, user.id, &user.username)
        .client(address)
        .detail(client.id.clone());
    if !client.serves(complete.org.id) {
        let refused = AuditRecord {
            outcome: Outcome::Failure,
            ..audit
        };
        state.store.record_audit(&[refused]).await?;
        // prompt=none never shows a page (Core §3.1.2.1): a silent renew gets its answer.
        if request.prompt == Prompt::None {
            let description = "the user's organization has no access to this application";
            return refusal(state, &request, "access_denied", description);
        }
        return denied_page(state, lang.or_org(complete.org.lang), &client, &request);
    }
    if !client.first_party {
        let t = lang.or_org(complete.org.lang);
        let asked = Asked {
            client: &client,
            request: &request,
            query,
        };
        if let Some(answer) =
            consent_step(state, t, &jar, asked, &complete, consented, &audit).await?
        {
            return Ok(answer);
        }
    }
    issue_code(state, jar, &client, &request, &complete, &audit).await
}

/// An authorization request that may be answered at its client: readable, from a known
/// client, to one of its registered redirect URIs (else an error page), and valid (else an
/// error at the redirect URI).
async fn checked_request(
    state: &AppState,
    t: &'static Texts,
    query: &str,
) -> Result<Result<(Client, AuthorizationRequest), Response>, WebError> {
    let params = form::pairs(query.as_bytes())
        .ok()
        .filter(|_| query.len() <= MAX_QUERY_BYTES)
        .and_then(Parameters::from_pairs);
    let Some(params) = params else {
        return request_page(state, t, t.oidc.unreadable_request).map(Err);
    };
    let (client_id, redirect_uri) = match params.target() {
        Ok(target) => target,
        Err(PageError::UnknownClient) => {
            return request_page(state, t, t.oidc.unknown_client).map(Err);
        }
        Err(PageError::UnregisteredRedirect) => {
            return request_page(state, t, t.oidc.unregistered_redirect).map(Err);
        }
    };
    let Some(client) = state.store.client(client_id).await? else {
        return request_page(state, t, t.oidc.unknown_client).map(Err);
    };
    // Exact string comparison, no patterns (RFC 9700 §4.1.3).
    if !client.redirect_uris.iter().any(|u| u == redirect_uri) {
        return request_page(state, t, t.oidc.unregistered_redirect).map(Err);
    }
    match params.authorization_request() {
        Ok(request) => Ok(Ok((client, request))),
        Err(e) => {
            let mut answer = vec![("error", e.error), ("error_description", e.description)];
            answer.extend(params.get("state").map(|s| ("state", s)));
            to_client(state, redirect_uri, &answer).map(Err)
        }
    }
}

/// An error for the application at its redirect URI, with the request's `state`.
fn refusal(
    state: &AppState,
    request: &AuthorizationRequest,
    error: &'static str,
    description: &'static str,
) -> Result<Response, WebError> {
    let mut answer = vec![("error", error), ("error_description", description)];
    answer.extend(request.state.as_deref().map(|s| ("state", s)));
    to_client(state, &request.redirect_uri, &answer)
}

/// The complete login the request may be answered with, or the way to one: the login page
/// (or the second step of a half-finished login), with the request kept for afterwards.
async fn logged_in(
    state: &AppState,
    session: Option<Session>,
    address: &str,
    jar: CookieJar,
    query: &str,
    request: &AuthorizationRequest,
) -> Result<Result<(Session, CookieJar), Response>, WebError> {
    let now = state.clock.now();
    let waiting = pending::read(state, &jar).filter(|p| p.query == query);
    let logged_in_after = waiting.as_ref().map_or(0, |p| p.login_after);
    let previous = waiting.as_ref().and_then(|p| p.previous);
    let Some(complete) = session.as_ref().filter(|s| s.stage == LoginStage::Complete) else {
        if request.prompt == Prompt::None {
            return refusal(
                state,
                request,
                "login_required",
                "the user is not logged in",
            )
            .map(Err);
        }
        let keep = Pending {
            login_after: logged_in_after,
            query: query.to_owned(),
            previous,
        };
        let jar = pending::keep(state, jar, &keep);
        // A password-only session goes on with its second step; otherwise the login page.
        let next = match session {
            Some(_) => "/2fa".to_owned(),
            None => login_url(request),
        };
        return Ok(Err((jar, Redirect::to(&next)).into_response()));
    };
    // prompt=login and max_age ask for a login after the request: satisfied once the user
    // logged in after it was first seen (the sealed continuation's time).
    let fresh = waiting.as_ref().is_some_and(|p| p.answered_by(complete));
    let too_old = request
        .max_age
        .is_some_and(|max| now - complete.created_at > max);
    if fresh || (request.prompt != Prompt::Login && !too_old) {
        if let Some(previous) = previous.filter(|p| fresh && *p != complete.id_hash) {
            hand_over(state, &previous, complete, address).await?;
        }
        return Ok(Ok((complete.clone(), jar)));
    }
    if request.prompt == Prompt::None {
        let description = "the login is older than max_age";
        return refusal(state, request, "login_required", description).map(Err);
    }
    // A new login is asked for. Anyone can send a browser here (a public client id and its
    // redirect URI are no secret), so nothing ends now: the session, its applications'
    // tokens and their logout wait until the new login has succeeded (`hand_over`).
    let keep = Pending {
        login_after: now,
        query: query.to_owned(),
        previous: Some(complete.id_hash),
    };
    let jar = pending::keep(state, jar, &keep);
    Ok(Err((jar, Redirect::to(&login_url(request))).into_response()))
}

/// The new login that answered `prompt=login` or `max_age` replaces the browser's previous
/// session: the same user's applications keep their grants (moved to the new session), and
/// the previous one ends with an audit line.
async fn hand_over(
    state: &AppState,
    previous: &crate::domain::token::TokenHash,
    complete: &Session,
    address: &str,
) -> Result<(), WebError> {
    if state
        .store
        .hand_over_session(previous, &complete.id_hash)
        .await?
    {
        session::record_end(state, complete, address, "reauthenticated").await?;
    }
    Ok(())
}

/// What an application asked: the client, its request, and the request as it came.
struct Asked<'a> {
    client: &'a Client,
    request: &'a AuthorizationRequest,
    query: &'a str,
}

/// A third-party application needs the user's consent for its scopes: given before (and
/// covering them), given or refused now on the consent page, or asked for. `None` when the
/// request may go on to its code.
async fn consent_step(
    state: &AppState,
    t: &'static Texts,
    jar: &CookieJar,
    asked: Asked<'_>,
    complete: &Session,
    consented: Option<bool>,
    audit: &AuditRecord,
) -> Result<Option<Response>, WebError> {
    let Asked {
        client,
        request,
        query,
    } = asked;
    let user = &complete.user;
    let remembered = state.store.consent(user.id, &client.id).await?;
    let remembered = remembered.as_deref().and_then(Scopes::parse);
    let covered = remembered.is_some_and(|given| request.scopes.within(&given))
        && request.prompt != Prompt::Consent;
    match consented {
        Some(false) => {
            let jar = pending::clear(state, jar.clone());
            let refused = refusal(
                state,
                request,
                "access_denied",
                "the user did not allow access",
            )?;
            Ok(Some((jar, refused).into_response()))
        }
        Some(true) => {
            let scope = remembered
                .unwrap_or_default()
                .union(&request.scopes)
                .to_string();
            let record = AuditRecord {
                event: AuditEvent::ConsentGiven,
                ..audit.clone()
            };
            let now = state.clock.now();
            state
                .store
                .give_consent(user.id, &client.id, &scope, now, &record)
                .await?;
            Ok(None)
        }
        None if covered => Ok(None),
        None if request.prompt == Prompt::None => {
            let description = "the user has not allowed this application yet";
            refusal(state, request, "consent_required", description).map(Some)
        }
        None => consent_page(state, t, jar.clone(), client, request, query).map(Some),
    }
}

/// The authorization code for the application, bound to the session, its redirect URI,
/// nonce and PKCE challenge.
async fn issue_code(
    state: &AppState,
    jar: CookieJar,
    client: &Client,
    request: &AuthorizationRequest,
    complete: &Session,
    audit: &AuditRecord,
) -> Result<Response, WebError> {
    let now = state.clock.now();
    let code = Token::generate(&mut rand::rngs::OsRng);
    let scope = request.scopes.to_string();
    let new_code = NewCode {
        code_hash: code.hash(),
        client_id: &client.id,
        user_id: complete.user.id,
        session_hash: complete.id_hash,
        redirect_uri: &request.redirect_uri,
        scope,
        nonce: request.nonce.as_deref(),
        code_challenge: &request.code_challenge,
        auth_time: complete.created_at,
        expires_at: now + CODE_SECONDS,
    };
    state.store.insert_code(&new_code, audit).await?;
    let mut answer = vec![("code", code.expose())];
    answer.extend(request.state.as_deref().map(|s| ("state", s)));
    let jar = pending::clear(state, jar);
    Ok((jar, to_client(state, &request.redirect_uri, &answer)?).into_response())
}

/// The login page, with the username the application suggested, in the language it asked.
fn login_url(request: &AuthorizationRequest) -> String {
    let mut login = String::from("/login");
    if let Some(hint) = &request.login_hint {
        login.push_str("?username=");
        login.extend(url::form_urlencoded::byte_serialize(hint.as_bytes()));
    }
    match request.ui_locale {
        Some(lang) => format!(
            "/lang/{}?next={}",
            lang.code(),
            url::form_urlencoded::byte_serialize(login.as_bytes()).collect::<String>()
        ),
        None => login,
    }
}

fn consent_page(
    state: &AppState,
    t: &'static Texts,
    jar: CookieJar,
    client: &Client,
    request: &AuthorizationRequest,
    query: &str,
) -> Result<Response, WebError> {
    let (jar, csrf) = token_for_page(state, jar);
    let mut scope_lines = Vec::new();
    for name in request.scopes.extra() {
        scope_lines.push(match name {
            "profile" => t.oidc.scope_profile,
            "email" => t.oidc.scope_email,
            _ => t.oidc.scope_organization,
        });
    }
    let page = ConsentPage {
        t,
        page: chrome(state, t, "/"),
        csrf,
        client_name: &client.name,
        scope_lines,
        request: query,
    };
    let origin = url::Url::parse(&request.redirect_uri)
        .ok()
        .map(|u| u.origin().ascii_serialization());
    Ok(with_form_action(
        (jar, Html(page.render()?)),
        origin.as_deref(),
    ))
}

/// A client limited to other organizations: a page for the user, `access_denied` for the
/// application behind its button.
fn denied_page(
    state: &AppState,
    t: &'static Texts,
    client: &Client,
    request: &AuthorizationRequest,
) -> Result<Response, WebError> {
    let mut answer = vec![
        ("error", "access_denied"),
        (
            "error_description",
            "the user's organization has no access to this application",
        ),
    ];
    answer.extend(request.state.as_deref().map(|s| ("state", s)));
    let back = to_client(state, &request.redirect_uri, &answer)?;
    let href = back
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .unwrap_or("/")
        .to_owned();
    let page = MessagePage {
        t,
        page: chrome(state, t, "/"),
        title: t.oidc.denied_title,
        body: t.fill(t.oidc.denied_body, &client.name),
        back: Some((href, t.fill(t.oidc.back_to_app, &client.name))),
    };
    Ok((StatusCode::FORBIDDEN, Html(page.render()?)).into_response())
}
