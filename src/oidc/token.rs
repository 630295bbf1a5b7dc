//! The token endpoint (RFC 6749 §3.2, OIDC Core §3.1.3): a code for tokens, a refresh token
//! for new ones. Errors are RFC 6749 §5.2 JSON. Codes are single-use and bound to client,
//! redirect URI and PKCE verifier; refresh tokens are rotated on every use and a reused one
//! revokes its grant (RFC 9700 §4.14.2).

use axum::extract::{RawForm, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::client_auth::{Callers, authenticated_request};
use super::machine;
use super::{json_error, liveness};
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::oidc::claims::{self, Issued, Person, session_id};
use crate::domain::oidc::client::GrantKind;
use crate::domain::oidc::pkce;
use crate::domain::oidc::request::Parameters;
use crate::domain::oidc::scope::Scopes;
use crate::domain::token::Token;
use crate::http::{AppState, ClientAddress, WebError};
use crate::store::{Client, CodeRedemption, Grant, Redemption, Refresh, UserId};

pub async fn token(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> Result<Response, WebError> {
    let request = authenticated_request(&state, &headers, &body, &address, Callers::Any).await?;
    let (params, client) = match request {
        Ok(request) => request,
        Err(refused) => return Ok(refused),
    };
    let machine = client.grant == GrantKind::ClientCredentials;
    match params.get("grant_type") {
        Some("authorization_code") if !machine => redeem(&state, &client, &params, &address).await,
        Some("refresh_token") if !machine => refresh(&state, &client, &params, &address).await,
        Some("client_credentials") if machine => {
            machine::client_credentials(&state, &client, &params, &address).await
        }
        Some("authorization_code" | "refresh_token" | "client_credentials") => Ok(json_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "this client is not registered for that grant_type",
        )),
        Some(_) => Ok(json_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code, refresh_token and client_credentials",
        )),
        None => Ok(invalid_request("grant_type is required")),
    }
}

fn invalid_request(description: &str) -> Response {
    json_error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

fn invalid_grant(description: &str) -> Response {
    json_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

async fn redeem(
    state: &AppState,
    client: &Client,
    params: &Parameters,
    address: &str,
) -> Result<Response, WebError> {
    let (Some(code), Some(redirect_uri), Some(verifier)) = (
        params.get("code"),
        params.get("redirect_uri"),
        params.get("code_verifier"),
    ) else {
        return Ok(invalid_request(
            "code, redirect_uri and code_verifier are required",
        ));
    };
    let Some(code) = Token::parse(code) else {
        return Ok(invalid_grant("the code is not valid"));
    };
    if !pkce::is_valid_verifier(verifier) {
        return Ok(invalid_grant("the code_verifier is malformed"));
    }
    let grant_id = Token::generate(&mut rand::rngs::OsRng);
    let refresh_token = Token::generate(&mut rand::rngs::OsRng);
    let live = liveness(state);
    let audit = AuditRecord::new(live.now, AuditEvent::TokensIssued, Outcome::Success)
        .client(address)
        .detail(format!("{} authorization_code", client.id));
    let challenge = pkce::challenge_of(verifier);
    let redemption = CodeRedemption {
        code_hash: code.hash(),
        client_id: &client.id,
        redirect_uri,
        challenge: &challenge,
        grant_id: grant_id.expose(),
        refresh_hash: refresh_token.hash(),
    };
    let redemption = state.store.redeem_code(&redemption, live, &audit).await?;
    let code = match redemption {
        Redemption::Redeemed(code) => code,
        Redemption::Reused { user_id } => {
            let record = AuditRecord::new(live.now, AuditEvent::TokenReused, Outcome::Replayed)
                .client(address)
                .detail(format!("{} authorization_code", client.id));
            let record = super::about_user(state.store.as_ref(), record, user_id).await?;
            state.store.record_audit(&[record]).await?;
            return Ok(invalid_grant(
                "the code was used before; what it issued is revoked",
            ));
        }
        Redemption::Invalid => {
            return Ok(invalid_grant(
                "the code is unknown, expired, or was issued for another client, redirect_uri or code_verifier",
            ));
        }
    };
    let grant = Grant {
        id: grant_id.expose().to_owned(),
        client_id: client.id.clone(),
        user_id: code.user_id,
        session_hash: code.session_hash,
        scope: code.scope,
        auth_time: code.auth_time,
        method: code.method,
    };
    let Some(person) = person(state, grant.user_id).await? else {
        return Ok(invalid_grant("the account is no longer active"));
    };
    tokens(
        state,
        client,
        &grant,
        code.nonce.as_deref(),
        &refresh_token,
        person,
    )
    .await
}

async fn refresh(
    state: &AppState,
    client: &Client,
    params: &Parameters,
    address: &str,
) -> Result<Response, WebError> {
    let Some(presented) = params.get("refresh_token") else {
        return Ok(invalid_request("refresh_token is required"));
    };
    let Some(presented) = Token::parse(presented) else {
        return Ok(invalid_grant("the refresh token is not valid"));
    };
    // A narrower scope may be asked for (RFC 6749 §6), never a wider one: checked before
    // the token is used, so a refused request does not spend it. Only a live token's scope is
    // checked: a used, revoked or unknown one goes on to the rotation whatever was asked, so
    // that a reuse always revokes its family (RFC 9700 §4.14.2).
    let narrower = match params.get("scope") {
        None => None,
        Some(asked) => {
            let live = liveness(state);
            let grant = state
                .store
                .grant_of_refresh_token(&presented.hash(), &client.id, live)
                .await?;
            match grant {
                None => None,
                Some(grant) => {
                    let granted = Scopes::parse(&grant.scope).unwrap_or_default();
                    match Scopes::parse(asked).filter(|s| s.within(&granted)) {
                        Some(narrower) => Some(narrower.to_string()),
                        None => {
                            return Ok(json_error(
                                StatusCode::BAD_REQUEST,
                                "invalid_scope",
                                "the scope is wider than the one granted",
                            ));
                        }
                    }
                }
            }
        }
    };
    let next = Token::generate(&mut rand::rngs::OsRng);
    let live = liveness(state);
    let audit = AuditRecord::new(live.now, AuditEvent::TokensIssued, Outcome::Success)
        .client(address)
        .detail(format!("{} refresh_token", client.id));
    match state
        .store
        .refresh(&presented.hash(), &client.id, &next.hash(), live, &audit)
        .await?
    {
        Refresh::Rotated(mut grant, person) => {
            if let Some(scope) = narrower {
                grant.scope = scope;
            }
            let Some(person) = person else {
                return Ok(invalid_grant("the account is no longer active"));
            };
            tokens(state, client, &grant, None, &next, person).await
        }
        Refresh::Reused(grant) => {
            let record = AuditRecord::new(live.now, AuditEvent::TokenReused, Outcome::Replayed)
                .client(address)
                .detail(format!("{} refresh_token", client.id));
            let record = super::about_user(state.store.as_ref(), record, grant.user_id).await?;
            state.store.record_audit(&[record]).await?;
            Ok(invalid_grant(
                "the refresh token was used before; its whole grant is revoked",
            ))
        }
        Refresh::Invalid => Ok(invalid_grant(
            "the refresh token is unknown, revoked, or its login session has ended",
        )),
    }
}

/// The user as the tokens describe them, with the stable `sub` made at the first login.
pub(super) async fn person(state: &AppState, user: UserId) -> Result<Option<Person>, WebError> {
    // A read on every later request; the write only at the user's first token.
    if let Some(person) = state.store.person(user).await? {
        return Ok(Some(person));
    }
    let candidate = Token::generate(&mut rand::rngs::OsRng);
    // 128 bits of the random value are plenty for an identifier and keep `sub` short.
    let candidate = &candidate.expose()[..22];
    state.store.subject_of(user, candidate).await?;
    Ok(state.store.person(user).await?)
}

/// The token response (OIDC Core §3.1.3.3): access token (RFC 9068), ID token, the next
/// refresh token.
async fn tokens(
    state: &AppState,
    client: &Client,
    grant: &Grant,
    nonce: Option<&str>,
    refresh_token: &Token,
    person: Person,
) -> Result<Response, WebError> {
    let now = state.clock.now();
    let issuer = state.settings.issuer();
    let sid = session_id(&grant.session_hash);
    let issued = Issued {
        issuer: &issuer,
        client_id: &client.id,
        now,
        lifetime: state.settings.access_token_seconds(),
        auth_time: grant.auth_time,
        sid: &sid,
        method: grant.method,
    };
    let scopes = Scopes::parse(&grant.scope).unwrap_or_default();
    let keys = state.keys.current().await.map_err(anyhow::Error::from)?;
    let access_key = keys
        .signer(Default::default(), now)
        .ok_or_else(|| anyhow::anyhow!("no signing key"))?;
    let id_key = keys
        .signer(client.id_token_alg, now)
        .ok_or_else(|| anyhow::anyhow!("no {} signing key", client.id_token_alg))?;
    let jti = access_token_id(&grant.id);
    let access_token = access_key.sign(
        "at+jwt",
        &claims::access_token(&issued, &person.subject, &scopes, &jti),
    );
    let id_token = id_key.sign(
        "JWT",
        &claims::id_token(&issued, &person, &scopes, nonce, Some(&access_token)),
    );
    let body: Value = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": issued.lifetime,
        "refresh_token": refresh_token.expose(),
        "id_token": id_token,
        "scope": scopes.to_string(),
    });
    Ok((
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
        ],
        axum::Json(body),
    )
        .into_response())
}

/// An access token's `jti`: its grant's id (so the token stops working with the grant) and
/// a random part (so every token's is unique).
fn access_token_id(grant: &str) -> String {
    let unique = Token::generate(&mut rand::rngs::OsRng);
    format!("{grant}.{}", &unique.expose()[..16])
}

/// The grant id inside an access token's `jti`.
pub(super) fn grant_of_jti(jti: &str) -> Option<&str> {
    jti.split_once('.').map(|(grant, _)| grant)
}

/// Checks a bearer access token: our signature, our issuer, not expired, and a grant that
/// still stands with a live session. The grant and the token's claims.
pub(super) async fn check_access_token(
    state: &AppState,
    token: &str,
) -> Result<Option<(Grant, Value)>, WebError> {
    let Some((grant_id, claims)) = access_token_claims(state, token).await? else {
        return Ok(None);
    };
    Ok(state
        .store
        .live_grant(&grant_id, liveness(state))
        .await?
        .map(|grant| (grant, claims)))
}

/// A bearer access token's claims and its grant's id, if the token is ours (signature,
/// issuer) and unexpired; whether the grant still stands is the caller's to ask.
pub(super) async fn access_token_claims(
    state: &AppState,
    token: &str,
) -> Result<Option<(String, Value)>, WebError> {
    let Some(kid) = crate::signing_keys::kid_of(token) else {
        return Ok(None);
    };
    let keys = state.keys.current().await.map_err(anyhow::Error::from)?;
    let Some(claims) = keys
        .by_kid(&kid)
        .and_then(|key| key.verify("at+jwt", token))
    else {
        return Ok(None);
    };
    let now = state.clock.now();
    let expired = claims["exp"].as_i64().is_none_or(|exp| exp <= now);
    if expired || claims["iss"] != state.settings.issuer().as_str() {
        return Ok(None);
    }
    let Some(grant_id) = claims["jti"].as_str().and_then(grant_of_jti) else {
        return Ok(None);
    };
    Ok(Some((grant_id.to_owned(), claims)))
}
