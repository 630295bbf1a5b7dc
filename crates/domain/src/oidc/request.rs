//! The authorization request (OpenID Connect Core §3.1.2.1), checked in two steps: first
//! the client and redirect URI, which decide whether an error may be sent back to the client
//! at all (RFC 6749 §4.1.2.1: never to an unregistered URI), then everything else, whose
//! errors go back to the client with `error`, `error_description`, `state` and `iss`.

use std::collections::HashMap;

use super::pkce;
use super::scope::Scopes;
use crate::lang::Lang;

/// Longest value kept of any parameter: a state or nonce longer than this is no honest one.
pub const MAX_PARAMETER_LENGTH: usize = 1024;

/// The request's parameters, each at most once (RFC 6749 §3.1).
pub struct Parameters(HashMap<String, String>);

/// Why the request cannot even be answered at the client: shown as a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageError {
    /// No (or a repeated) `client_id`, or no client with that id.
    UnknownClient,
    /// No (or a repeated) `redirect_uri`, or one the client did not register.
    UnregisteredRedirect,
}

/// An error for the client, at its redirect URI (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientError {
    pub error: &'static str,
    pub description: &'static str,
}

pub const fn client_error(error: &'static str, description: &'static str) -> ClientError {
    ClientError { error, description }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prompt {
    #[default]
    Default,
    /// No page may be shown: a session and consent must already be there.
    None,
    /// Log in again, whatever session there is.
    Login,
    /// Ask for consent again.
    Consent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Scopes,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub ui_locale: Option<Lang>,
}

impl Parameters {
    /// The pairs of a query string or form; `None` when one appears twice or is too long,
    /// which leaves nothing that can be trusted, not even the redirect URI.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Option<Parameters> {
        let mut map = HashMap::with_capacity(pairs.len());
        for (name, value) in pairs {
            if value.len() > MAX_PARAMETER_LENGTH || map.insert(name, value).is_some() {
                return None;
            }
        }
        Some(Parameters(map))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The client and redirect URI the request names (checked against the registration by
    /// the caller before anything is sent back).
    pub fn target(&self) -> Result<(&str, &str), PageError> {
        let client = self.get("client_id").ok_or(PageError::UnknownClient)?;
        let redirect = self
            .get("redirect_uri")
            .ok_or(PageError::UnregisteredRedirect)?;
        Ok((client, redirect))
    }

    /// The rest of the request, once the target is known to be registered.
    pub fn authorization_request(&self) -> Result<AuthorizationRequest, ClientError> {
        let (client_id, redirect_uri) = self.target().map_err(|_| {
            client_error("invalid_request", "client_id and redirect_uri are required")
        })?;
        if self.get("request").is_some() {
            return Err(client_error(
                "request_not_supported",
                "request objects are not supported",
            ));
        }
        if self.get("request_uri").is_some() {
            return Err(client_error(
                "request_uri_not_supported",
                "request_uri is not supported",
            ));
        }
        match self.get("response_type") {
            Some("code") => {}
            None => return Err(client_error("invalid_request", "response_type is required")),
            // Implicit and hybrid flows put tokens in the URL (RFC 9700 §2.1.2).
            Some(_) => {
                return Err(client_error(
                    "unsupported_response_type",
                    "only the authorization code flow (response_type=code) is supported",
                ));
            }
        }
        if !matches!(self.get("response_mode"), None | Some("query")) {
            return Err(client_error(
                "invalid_request",
                "only response_mode=query is supported",
            ));
        }
        let scopes = Scopes::parse(self.get("scope").unwrap_or("")).ok_or(client_error(
            "invalid_scope",
            "the openid scope is required",
        ))?;
        let code_challenge = match (
            self.get("code_challenge"),
            self.get("code_challenge_method"),
        ) {
            (Some(challenge), Some("S256")) if pkce::is_valid_challenge(challenge) => challenge,
            (Some(_), Some("S256")) => {
                return Err(client_error(
                    "invalid_request",
                    "code_challenge is not an S256 challenge",
                ));
            }
            (None, _) => {
                return Err(client_error(
                    "invalid_request",
                    "PKCE is required: code_challenge with code_challenge_method=S256",
                ));
            }
            // A missing method means `plain` (RFC 7636 §4.3).
            (Some(_), _) => {
                return Err(client_error(
                    "invalid_request",
                    "code_challenge_method must be S256",
                ));
            }
        };
        let prompt = parse_prompt(self.get("prompt"))?;
        let max_age = match self.get("max_age") {
            None => None,
            Some(text) => match text.parse::<i64>() {
                Ok(seconds) if seconds >= 0 => Some(seconds),
                _ => {
                    return Err(client_error(
                        "invalid_request",
                        "max_age must be a number of seconds",
                    ));
                }
            },
        };
        let ui_locale = self
            .get("ui_locales")
            .and_then(|list| list.split(' ').find_map(Lang::from_accept_language));
        Ok(AuthorizationRequest {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            scopes,
            state: self.get("state").map(str::to_owned),
            nonce: self.get("nonce").map(str::to_owned),
            code_challenge: code_challenge.to_owned(),
            prompt,
            max_age,
            login_hint: self.get("login_hint").map(|h| h.trim().to_owned()),
            ui_locale,
        })
    }
}

fn parse_prompt(value: Option<&str>) -> Result<Prompt, ClientError> {
    let Some(value) = value else {
        return Ok(Prompt::Default);
    };
    let words: Vec<&str> = value.split(' ').filter(|w| !w.is_empty()).collect();
    if words.contains(&"none") && words.len() > 1 {
        // OIDC Core §3.1.2.1: `none` with any other value is an error.
        return Err(client_error(
            "invalid_request",
            "prompt=none cannot be combined",
        ));
    }
    let mut prompt = Prompt::Default;
    for word in words {
        prompt = match word {
            "none" => Prompt::None,
            "login" => Prompt::Login,
            "consent" if prompt != Prompt::Login => Prompt::Consent,
            "consent" | "select_account" => prompt,
            _ => return Err(client_error("invalid_request", "unknown prompt value")),
        };
    }
    Ok(prompt)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn params(extra: &[(&str, &str)]) -> Parameters {
        let mut pairs: Vec<(String, String)> = [
            ("client_id", "app"),
            ("redirect_uri", "https://app.example.nl/cb"),
            ("response_type", "code"),
            ("scope", "openid email"),
            ("state", "s1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (name, value) in extra {
            pairs.retain(|(k, _)| k != name);
            if !value.is_empty() {
                pairs.push((name.to_string(), value.to_string()));
            }
        }
        Parameters::from_pairs(pairs).unwrap()
    }

    fn error_of(extra: &[(&str, &str)]) -> &'static str {
        params(extra).authorization_request().unwrap_err().error
    }

    #[test]
    fn a_complete_request_is_accepted() {
        let request = params(&[
            ("prompt", "login"),
            ("max_age", "60"),
            ("ui_locales", "en-GB nl"),
        ])
        .authorization_request()
        .unwrap();
        assert_eq!(request.scopes.to_string(), "openid email");
        assert_eq!(request.prompt, Prompt::Login);
        assert_eq!(request.max_age, Some(60));
        assert_eq!(request.ui_locale, Some(Lang::En));
        assert_eq!(request.state.as_deref(), Some("s1"));
    }

    #[test]
    fn implicit_hybrid_and_missing_pkce_are_refused() {
        assert_eq!(
            error_of(&[("response_type", "token")]),
            "unsupported_response_type"
        );
        assert_eq!(
            error_of(&[("response_type", "code id_token")]),
            "unsupported_response_type"
        );
        assert_eq!(error_of(&[("code_challenge", "")]), "invalid_request");
        assert_eq!(
            error_of(&[("code_challenge_method", "")]),
            "invalid_request"
        );
        assert_eq!(
            error_of(&[("code_challenge_method", "plain")]),
            "invalid_request"
        );
        assert_eq!(error_of(&[("scope", "email")]), "invalid_scope");
        assert_eq!(error_of(&[("prompt", "none login")]), "invalid_request");
        assert_eq!(error_of(&[("max_age", "-1")]), "invalid_request");
        assert_eq!(error_of(&[("request", "eyJ")]), "request_not_supported");
    }

    #[test]
    fn repeated_or_oversized_parameters_leave_nothing_to_trust() {
        let repeated = vec![
            ("client_id".to_string(), "a".to_string()),
            ("client_id".to_string(), "b".to_string()),
        ];
        assert!(Parameters::from_pairs(repeated).is_none());
        let long = vec![("state".to_string(), "x".repeat(MAX_PARAMETER_LENGTH + 1))];
        assert!(Parameters::from_pairs(long).is_none());
        let missing = Parameters::from_pairs(vec![]).unwrap();
        assert_eq!(missing.target(), Err(PageError::UnknownClient));
    }
}
