//! The `Authorization` header's credentials for one scheme. Auth schemes are case-insensitive
//! (RFC 9110 §11.1): `Bearer`, `bearer` and `BEARER` are one scheme, for userinfo, the admin
//! API and client authentication alike.

use axum::http::{HeaderMap, header};

/// The credentials after `scheme` and its space, trimmed; `None` for another scheme, no
/// header, or a header that is not text.
pub fn credentials<'a>(headers: &'a HeaderMap, scheme: &str) -> Option<&'a str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (given, rest) = value.trim_start().split_once(' ')?;
    given
        .eq_ignore_ascii_case(scheme)
        .then(|| rest.trim())
        .filter(|rest| !rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[test]
    fn the_scheme_matches_in_any_case_and_nothing_else_does() {
        for value in ["Bearer abc", "bearer abc", "BEARER  abc ", " Bearer abc"] {
            assert_eq!(
                credentials(&headers(value), "Bearer"),
                Some("abc"),
                "{value}"
            );
        }
        for value in ["Basic abc", "Bearerabc", "Bearer", "Bearer  ", "Bear abc"] {
            assert_eq!(credentials(&headers(value), "Bearer"), None, "{value}");
        }
        assert_eq!(credentials(&HeaderMap::new(), "Bearer"), None);
        assert_eq!(credentials(&headers("bAsIc eA=="), "Basic"), Some("eA=="));
    }
}
