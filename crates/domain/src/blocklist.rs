//! The list of common and breached passwords that no policy accepts.
//!
//! `assets/common-passwords.txt` is the zxcvbn-ts "common" password list (49,233 entries from
//! leaked-password corpora, MIT licence, see `assets/common-passwords.LICENSE.txt`) plus a few
//! Dutch favourites, NFKC-normalised, lower-cased and sorted byte-wise, so a lookup is a binary
//! search over slices of the embedded file: no allocation per entry and no start-up parsing
//! beyond one pass that collects line boundaries.

use std::sync::LazyLock;

static RAW: &str = include_str!("../../../assets/common-passwords.txt");

static SORTED: LazyLock<Vec<&'static str>> = LazyLock::new(|| RAW.lines().collect());

/// Whether `password` (compared case-insensitively) is on the list.
pub fn is_common(password: &str) -> bool {
    let lowered = password.to_lowercase();
    SORTED.binary_search(&lowered.as_str()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_sorted_so_binary_search_is_valid() {
        assert!(SORTED.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn list_has_at_least_the_ten_thousand_most_common() {
        assert!(SORTED.len() >= 10_000, "only {} entries", SORTED.len());
    }

    #[test]
    fn finds_common_passwords_in_any_case() {
        for common in [
            "password",
            "123456",
            "Qwerty",
            "WACHTWOORD",
            "iloveyou",
            "welkom01",
        ] {
            assert!(is_common(common), "{common} should be common");
        }
        assert!(!is_common("correct horse battery staple 42"));
    }
}
