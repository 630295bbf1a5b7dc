//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): an application sends the
//! user here to log out of Poortwachter too. With an `id_token_hint` of this browser's
//! session the logout happens at once; without one the user is asked first, so that a link
//! on another site cannot log anyone out. Only a registered `post_logout_redirect_uri` is
//! followed. Every application that got tokens in the session then hears of it through
//! back-channel logout.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::authorize::MessagePage;
use crate::domain::oidc::claims::session_id;
use crate::domain::oidc::request::Parameters;
use crate::http::csrf::{ProtectedForm, token_for_page};
use crate::http::lang::{Preferred, chrome};
use crate::http::session::{self, CurrentSession};
use crate::http::with_form_action;
use crate::http::{AppState, ClientAddress, PageChrome, WebError, form};
use crate::signing_keys::kid_of;
use crate::store::Client;
use crate::texts::Texts;

#[derive(Template)]
#[template(path = "oidc/logout.html")]
struct ConfirmPage<'a> {
    t: &'static Texts,
    page: PageChrome,
    csrf: String,
    client_name: Option<&'a str>,
    request: &'a str,
}

/// A checked logout request.
struct LogoutRequest {
    client: Option<Client>,
    /// The `sid` of the ID token hint, when one was given and is ours.
    hinted_sid: Option<String>,
    /// Where to go afterwards, with `state` (registered URIs only).
    then: Option<String>,
}

fn page_error(
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

async fn check(
    state: &AppState,
    query: &str,
) -> Result<Result<LogoutRequest, &'static str>, WebError> {
    let pairs = form::pairs(query.as_bytes()).ok();
    let Some(params) = pairs.and_then(Parameters::from_pairs) else {
        return Ok(Err("unreadable"));
    };
    // The hint is checked for our signature only: an expired ID token still names its
    // session (RP-Initiated Logout §2).
    let hint = match params.get("id_token_hint") {
        Some(token) => {
            let keys = state.keys.current().await.map_err(anyhow::Error::from)?;
            let claims = kid_of(token)
                .and_then(|kid| keys.by_kid(&kid).and_then(|k| k.verify("JWT", token)));
            match claims {
                Some(claims) if claims["iss"] == state.settings.issuer().as_str() => Some(claims),
                _ => return Ok(Err("unreadable")),
            }
        }
        None => None,
    };
    let hinted_client = hint
        .as_ref()
        .and_then(|c| c["aud"].as_str().map(str::to_owned));
    let client_id = match (hinted_client, params.get("client_id")) {
        (Some(hinted), Some(given)) if hinted != given => return Ok(Err("unreadable")),
        (Some(hinted), _) => Some(hinted),
        (None, given) => given.map(str::to_owned),
    };
    let client = match &client_id {
        Some(id) => match state.store.client(id).await? {
            Some(client) => Some(client),
            None => return Ok(Err("unknown_client")),
        },
        None => None,
    };
    let then = match (params.get("post_logout_redirect_uri"), &client) {
        (None, _) => None,
        (Some(uri), Some(client)) if client.post_logout_redirect_uris.iter().any(|u| u == uri) => {
            let mut url =
                url::Url::parse(uri).map_err(|e| anyhow::anyhow!("registered URI: {e}"))?;
            if let Some(value) = params.get("state") {
                url.query_pairs_mut().append_pair("state", value);
            }
            Some(url.to_string())
        }
        (Some(_), _) => return Ok(Err("unregistered_redirect")),
    };
    Ok(Ok(LogoutRequest {
        client,
        hinted_sid: hint.and_then(|c| c["sid"].as_str().map(str::to_owned)),
        then,
    }))
}

pub async fn end_session(
    State(state): State<AppState>,
    lang: Preferred,
    current: CurrentSession,
    ClientAddress(address): ClientAddress,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let t = lang.texts();
    let query = query.unwrap_or_default();
    let request = match check(&state, &query).await? {
        Ok(request) => request,
        Err(reason) => return page_error(&state, t, reason_text(t, reason)),
    };
    let this_sid = current.0.as_ref().map(|s| session_id(&s.id_hash));
    match (&current.0, &request.hinted_sid) {
        // Nothing to end: go on.
        (None, _) => finish(&state, jar, &request).await,
        (Some(session), Some(sid)) if this_sid.as_ref() == Some(sid) => {
            session::record_end(&state, session, &address, "application").await?;
            let jar = session::end(&state, jar).await?;
            finish(&state, jar, &request).await
        }
        (Some(_), _) => {
            let (jar, csrf) = token_for_page(&state, jar);
            let page = ConfirmPage {
                t,
                page: chrome(&state, t, "/"),
                csrf,
                client_name: request.client.as_ref().map(|c| c.name.as_str()),
                request: &query,
            };
            let origin = request
                .then
                .as_deref()
                .and_then(|u| url::Url::parse(u).ok())
                .map(|u| u.origin().ascii_serialization());
            Ok(with_form_action(
                (jar, Html(page.render()?)),
                origin.as_deref(),
            ))
        }
    }
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    request: String,
}

pub async fn end_session_confirmed(
    State(state): State<AppState>,
    lang: Preferred,
    current: CurrentSession,
    ClientAddress(address): ClientAddress,
    jar: CookieJar,
    ProtectedForm(form): ProtectedForm<ConfirmForm>,
) -> Result<Response, WebError> {
    let request = match check(&state, &form.request).await? {
        Ok(request) => request,
        Err(reason) => {
            let t = lang.texts();
            return page_error(&state, t, reason_text(t, reason));
        }
    };
    if let Some(session) = &current.0 {
        session::record_end(&state, session, &address, "application").await?;
    }
    let jar = session::end(&state, jar).await?;
    finish(&state, jar, &request).await
}

async fn finish(
    state: &AppState,
    jar: CookieJar,
    request: &LogoutRequest,
) -> Result<Response, WebError> {
    state.logout_wake.notify_one();
    let target = request
        .then
        .clone()
        .unwrap_or_else(|| "/login?notice=logged_out".to_owned());
    Ok((jar, Redirect::to(&target)).into_response())
}

fn reason_text(t: &'static Texts, reason: &str) -> &'static str {
    match reason {
        "unknown_client" => t.oidc.unknown_client,
        "unregistered_redirect" => t.oidc.unregistered_redirect,
        _ => t.oidc.unreadable_request,
    }
}
