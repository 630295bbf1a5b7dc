//! Form bodies and query strings, read strictly. `form_urlencoded` (under axum's `Form` and
//! `serde_urlencoded`) decodes invalid UTF-8 lossily, so `%FF`, `%FE` and a real U+FFFD all
//! arrive as the same character: three different inputs would be one password. Here a field
//! that does not decode to valid UTF-8 makes the whole form unreadable instead.

use std::borrow::Cow;

use percent_encoding::percent_decode;
use serde::de::DeserializeOwned;

/// The input was not a form whose every name and value is valid UTF-8 (or it did not fit
/// the expected fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreadable;

/// The name/value pairs of an `application/x-www-form-urlencoded` body or query string.
pub fn pairs(input: &[u8]) -> Result<Vec<(String, String)>, Unreadable> {
    input
        .split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &[][..]),
            };
            Ok((decode(name)?, decode(value)?))
        })
        .collect()
}

/// The form as `T`, after every field was checked to be valid UTF-8.
pub fn deserialize<T: DeserializeOwned>(input: &[u8]) -> Result<T, Unreadable> {
    pairs(input)?;
    serde_urlencoded::from_bytes(input).map_err(|_| Unreadable)
}

/// One percent-encoded part, `+` meaning a space (URL Standard §5.1).
pub fn decode(part: &[u8]) -> Result<String, Unreadable> {
    let spaced: Cow<[u8]> = if part.contains(&b'+') {
        Cow::Owned(
            part.iter()
                .map(|&b| if b == b'+' { b' ' } else { b })
                .collect(),
        )
    } else {
        Cow::Borrowed(part)
    };
    percent_decode(&spaced)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| Unreadable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_forms_decode_like_form_urlencoded() {
        let body = b"username=jan+de+vries&password=caf%C3%A9%21&empty=&flag&&x=%zz";
        let expected: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap();
        assert_eq!(pairs(body).unwrap(), expected);
        assert_eq!(pairs(b"").unwrap(), vec![]);
    }

    #[test]
    fn invalid_utf8_anywhere_makes_the_form_unreadable() {
        for body in [
            &b"password=geheim%FF"[..],
            b"password=geheim%FE",
            b"pass%C3word=x",
            b"password=\xff",
            b"a=1&password=%ED%A0%80",
        ] {
            assert_eq!(pairs(body), Err(Unreadable), "{body:?}");
        }
        // The real character U+FFFD is valid UTF-8; the password rules decide about it.
        assert_eq!(
            pairs(b"password=%EF%BF%BD").unwrap(),
            vec![("password".into(), "\u{FFFD}".into())]
        );
    }

    #[test]
    fn deserialize_checks_before_it_reads() {
        #[derive(serde::Deserialize, Debug)]
        struct Login {
            password: String,
        }
        assert_eq!(
            deserialize::<Login>(b"password=a%FFb").unwrap_err(),
            Unreadable
        );
        assert_eq!(
            deserialize::<Login>(b"password=a+b").unwrap().password,
            "a b"
        );
        assert!(deserialize::<Login>(b"other=1").is_err());
    }
}
