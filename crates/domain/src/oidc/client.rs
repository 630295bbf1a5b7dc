//! What a client (relying party) may register: redirect URIs, how it signs in, how its ID
//! tokens are signed.

use std::fmt;
use std::str::FromStr;

use url::{Host, Url};

/// How ID tokens for a client are signed. ES256 by default; RS256 where a client registers
/// it (OpenID Connect Core §15.1 requires providers to support RS256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SigningAlg {
    #[default]
    Es256,
    Rs256,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 2] = [SigningAlg::Es256, SigningAlg::Rs256];

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::Es256 => "ES256",
            SigningAlg::Rs256 => "RS256",
        }
    }
}

impl fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SigningAlg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SigningAlg::ALL
            .into_iter()
            .find(|alg| alg.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("{s:?} is not a signing algorithm (ES256 or RS256)"))
    }
}

/// How a client gets its tokens (RFC 6749 §1.3). A client has one kind, never both: an
/// application that logs users in must not also act on its own behalf with the same secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GrantKind {
    /// A user logs in (`authorization_code`, then `refresh_token`).
    #[default]
    AuthorizationCode,
    /// A machine acts for itself with its own credentials (RFC 6749 §4.4): the admin API.
    ClientCredentials,
}

impl GrantKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantKind::AuthorizationCode => "authorization_code",
            GrantKind::ClientCredentials => "client_credentials",
        }
    }
}

impl FromStr for GrantKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.replace('-', "_").to_ascii_lowercase().as_str() {
            "authorization_code" => Ok(GrantKind::AuthorizationCode),
            "client_credentials" => Ok(GrantKind::ClientCredentials),
            _ => Err(format!(
                "{s:?} is not a grant (authorization-code or client-credentials)"
            )),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UriError {
    #[error("{0:?} is not an absolute URL")]
    NotAbsolute(String),
    #[error("{0:?}: only https, or http on a loopback host (localhost, 127.0.0.1, [::1])")]
    Insecure(String),
    #[error("{0:?}: a registered URI has no fragment (#…) and no user name or password")]
    Fragment(String),
}

/// A redirect, post-logout or back-channel logout URI as it may be registered: absolute,
/// https (http only for loopback hosts, for applications on the user's own machine and
/// development: RFC 8252 §8.3, RFC 9700 §2.6), no fragment, no credentials. Registered URIs
/// are later compared with requested ones as exact strings (RFC 9700 §4.1.3): no wildcards.
pub fn parse_registered_uri(text: &str) -> Result<Url, UriError> {
    let url = Url::parse(text).map_err(|_| UriError::NotAbsolute(text.to_owned()))?;
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(UriError::NotAbsolute(text.to_owned()));
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(UriError::Fragment(text.to_owned()));
    }
    let loopback = match url.host() {
        Some(Host::Domain(name)) => name == "localhost",
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(UriError::Insecure(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_only_on_loopback() {
        assert!(parse_registered_uri("https://app.example.nl/callback").is_ok());
        assert!(parse_registered_uri("http://localhost:3000/cb").is_ok());
        assert!(parse_registered_uri("http://127.0.0.1:3000/cb").is_ok());
        assert!(parse_registered_uri("http://[::1]:3000/cb").is_ok());
        assert!(matches!(
            parse_registered_uri("http://app.example.nl/cb"),
            Err(UriError::Insecure(_))
        ));
        assert!(matches!(
            parse_registered_uri("javascript:alert(1)"),
            Err(UriError::NotAbsolute(_))
        ));
        assert!(matches!(
            parse_registered_uri("https://app.example.nl/cb#x"),
            Err(UriError::Fragment(_))
        ));
        assert!(matches!(
            parse_registered_uri("https://user:pw@app.example.nl/cb"),
            Err(UriError::Fragment(_))
        ));
        assert!(parse_registered_uri("/relative").is_err());
    }

    #[test]
    fn grants_parse_with_dashes_or_underscores() {
        assert_eq!(
            "client-credentials".parse::<GrantKind>(),
            Ok(GrantKind::ClientCredentials)
        );
        assert_eq!(
            "authorization_code".parse::<GrantKind>(),
            Ok(GrantKind::AuthorizationCode)
        );
        assert!("password".parse::<GrantKind>().is_err());
    }

    #[test]
    fn signing_algorithms_parse_by_name() {
        assert_eq!("rs256".parse::<SigningAlg>(), Ok(SigningAlg::Rs256));
        assert!("HS256".parse::<SigningAlg>().is_err());
    }
}
