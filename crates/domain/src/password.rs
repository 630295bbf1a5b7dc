//! Passwords before hashing, and the per-organization policy they must meet.
//!
//! NIST SP 800-63B §5.1.1.2 and OWASP ASVS V2.1 shape these rules: any Unicode is allowed and
//! normalised (NFKC) so the same password typed on another keyboard still matches, nothing is
//! truncated, long passwords are allowed but capped so hashing cannot be abused, and common or
//! breached passwords are refused.
//!
//! What a password may contain (NIST: "all printing ASCII and Unicode characters"): any
//! Unicode character that can be typed. Refused are control characters (C0, DEL, C1: a NUL
//! or a line break is a sign of a broken client, never of a user's choice), noncharacters,
//! and U+FFFD, which only appears where something upstream lost bytes it could not decode.
//! The rule is the same at activation, change and login, so no password can be set that
//! cannot be typed again.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::blocklist;

/// No password longer than this (in characters, after normalisation) is ever hashed.
pub const HARD_MAX_CHARS: usize = 128;
/// A policy may not ask for less than this (NIST SP 800-63B: at least 8).
pub const LOWEST_MIN_LENGTH: u16 = 8;
/// A policy must allow at least this many characters (NIST: at least 64).
pub const LOWEST_MAX_LENGTH: u16 = 64;
/// Parts of a username or e-mail address shorter than this are too short to forbid.
const MIN_PERSONAL_PART: usize = 3;

/// A password as typed, NFKC-normalised, never longer than [`HARD_MAX_CHARS`].
/// The only constructor checks the length first, on the raw bytes, so a megabyte of input
/// costs a comparison and not a normalisation or a hash.
pub struct Password(SecretString);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("password longer than {HARD_MAX_CHARS} characters")]
    TooLong,
    #[error("password contains a character that cannot be typed")]
    Untypable,
}

impl PasswordError {
    /// The requirement a new password that cannot even be read broke, for the form's answer.
    pub fn broken(self, policy: &PasswordPolicy) -> Requirement {
        match self {
            PasswordError::TooLong => Requirement::MaxLength(policy.max_length),
            PasswordError::Untypable => Requirement::Typable,
        }
    }
}

impl Password {
    pub fn parse(raw: &str) -> Result<Password, PasswordError> {
        // A character is at most 4 bytes in UTF-8; anything longer cannot be within the cap.
        if raw.len() > HARD_MAX_CHARS * 4 {
            return Err(PasswordError::TooLong);
        }
        if !raw.chars().all(is_typable) {
            return Err(PasswordError::Untypable);
        }
        let normalized: String = raw.nfkc().collect();
        if normalized.chars().count() > HARD_MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        Ok(Password(SecretString::from(normalized)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// See the module's documentation. NFKC never turns a typable character into one of these,
/// so checking before normalising is enough.
fn is_typable(c: char) -> bool {
    let noncharacter = matches!(c as u32, 0xFDD0..=0xFDEF) || (c as u32 & 0xFFFE) == 0xFFFE;
    !c.is_control() && !noncharacter && c != char::REPLACEMENT_CHARACTER
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// One organization's rules. Built only through [`PasswordPolicy::new`], so every policy in
/// the system is a sane one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    min_length: u16,
    max_length: u16,
    require_lowercase: bool,
    require_uppercase: bool,
    require_digit: bool,
    require_symbol: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 12,
            max_length: LOWEST_MAX_LENGTH,
            require_lowercase: false,
            require_uppercase: false,
            require_digit: false,
            require_symbol: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("min-length must be at least {LOWEST_MIN_LENGTH}")]
    MinTooLow,
    #[error("max-length must be between {LOWEST_MAX_LENGTH} and {HARD_MAX_CHARS}")]
    MaxOutOfRange,
    #[error("min-length must not be greater than max-length")]
    MinAboveMax,
}

/// Which characters a policy can demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CharacterClasses {
    pub lowercase: bool,
    pub uppercase: bool,
    pub digit: bool,
    pub symbol: bool,
}

/// A rule a password must meet. The policy lists them before the user types, and a refused
/// password is answered with exactly the ones it broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    MinLength(u16),
    MaxLength(u16),
    Lowercase,
    Uppercase,
    Digit,
    Symbol,
    NotPersonal,
    NotCommon,
    /// Only characters that can be typed (never listed: only typed passwords break it).
    Typable,
}

impl PasswordPolicy {
    pub fn new(
        min_length: u16,
        max_length: u16,
        classes: CharacterClasses,
    ) -> Result<Self, PolicyError> {
        if min_length < LOWEST_MIN_LENGTH {
            return Err(PolicyError::MinTooLow);
        }
        if !(LOWEST_MAX_LENGTH..=HARD_MAX_CHARS as u16).contains(&max_length) {
            return Err(PolicyError::MaxOutOfRange);
        }
        if min_length > max_length {
            return Err(PolicyError::MinAboveMax);
        }
        Ok(PasswordPolicy {
            min_length,
            max_length,
            require_lowercase: classes.lowercase,
            require_uppercase: classes.uppercase,
            require_digit: classes.digit,
            require_symbol: classes.symbol,
        })
    }

    pub fn min_length(&self) -> u16 {
        self.min_length
    }

    pub fn max_length(&self) -> u16 {
        self.max_length
    }

    pub fn classes(&self) -> CharacterClasses {
        CharacterClasses {
            lowercase: self.require_lowercase,
            uppercase: self.require_uppercase,
            digit: self.require_digit,
            symbol: self.require_symbol,
        }
    }

    /// Every requirement of this policy, in the order the page lists them.
    pub fn requirements(&self) -> Vec<Requirement> {
        let mut list = vec![
            Requirement::MinLength(self.min_length),
            Requirement::MaxLength(self.max_length),
        ];
        let classes = [
            (self.require_lowercase, Requirement::Lowercase),
            (self.require_uppercase, Requirement::Uppercase),
            (self.require_digit, Requirement::Digit),
            (self.require_symbol, Requirement::Symbol),
        ];
        list.extend(classes.into_iter().filter(|(on, _)| *on).map(|(_, r)| r));
        list.push(Requirement::NotPersonal);
        list.push(Requirement::NotCommon);
        list
    }

    /// The requirements `password` breaks; empty when it is acceptable. `personal` are the
    /// user's own words (username, the e-mail address's local part) that it must not contain.
    pub fn broken_by(&self, password: &Password, personal: &[&str]) -> Vec<Requirement> {
        let text = password.expose();
        let length = text.chars().count();
        let lowered = text.to_lowercase();
        self.requirements()
            .into_iter()
            .filter(|requirement| match *requirement {
                Requirement::MinLength(min) => length < usize::from(min),
                Requirement::MaxLength(max) => length > usize::from(max),
                Requirement::Lowercase => !text.chars().any(char::is_lowercase),
                Requirement::Uppercase => !text.chars().any(char::is_uppercase),
                Requirement::Digit => !text.chars().any(char::is_numeric),
                Requirement::Symbol => !text.chars().any(is_symbol),
                Requirement::NotPersonal => personal.iter().any(|word| {
                    let word = word.trim().to_lowercase();
                    word.chars().count() >= MIN_PERSONAL_PART && lowered.contains(&word)
                }),
                Requirement::NotCommon => blocklist::is_common(text),
                Requirement::Typable => false,
            })
            .collect()
    }
}

/// What is wrong with a new password typed twice (activation, change, reset).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewPasswordProblems {
    /// The requirements it breaks, in the policy's order.
    pub broken: Vec<Requirement>,
    /// The two fields differ.
    pub mismatch: bool,
}

impl PasswordPolicy {
    /// A new password as the user typed it in both fields: accepted under this policy, or
    /// every problem at once (so the page can name them all). `personal`: see [`Self::broken_by`].
    pub fn check_new(
        &self,
        typed: &str,
        repeated: &str,
        personal: &[&str],
    ) -> Result<Password, NewPasswordProblems> {
        let (password, broken) = match Password::parse(typed) {
            Ok(password) => {
                let broken = self.broken_by(&password, personal);
                (Some(password), broken)
            }
            Err(unreadable) => (None, vec![unreadable.broken(self)]),
        };
        let mismatch = typed != repeated;
        match password {
            Some(password) if broken.is_empty() && !mismatch => Ok(password),
            _ => Err(NewPasswordProblems { broken, mismatch }),
        }
    }
}

/// The user's own words a password must not contain: the username and the local part of
/// the e-mail address.
pub fn personal_words<'a>(username: &'a str, email: &'a str) -> [&'a str; 2] {
    [username, email.split('@').next().unwrap_or("")]
}

fn is_symbol(c: char) -> bool {
    !c.is_alphanumeric() && !c.is_whitespace()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_password_is_checked_with_its_repeat_and_every_problem_named() {
        let policy = PasswordPolicy::default();
        let personal = personal_words("jdevries", "jan.devries@example.nl");
        assert!(
            policy
                .check_new("Fiets-Sleutel-2024!", "Fiets-Sleutel-2024!", &personal)
                .is_ok()
        );
        let problems = policy.check_new("kort", "anders", &personal).unwrap_err();
        assert_eq!(problems.broken, vec![Requirement::MinLength(12)]);
        assert!(problems.mismatch);
        let personal_one = policy
            .check_new("jdevries-fiets-99", "jdevries-fiets-99", &personal)
            .unwrap_err();
        assert_eq!(personal_one.broken, vec![Requirement::NotPersonal]);
        assert!(!personal_one.mismatch);
        let untypable = policy.check_new("a\u{0}bcdefghijklm", "a\u{0}bcdefghijklm", &personal);
        assert_eq!(untypable.unwrap_err().broken, vec![Requirement::Typable]);
    }

    fn pw(s: &str) -> Password {
        Password::parse(s).unwrap()
    }

    fn strict() -> PasswordPolicy {
        let all = CharacterClasses {
            lowercase: true,
            uppercase: true,
            digit: true,
            symbol: true,
        };
        PasswordPolicy::new(14, 64, all).unwrap()
    }

    #[test]
    fn default_policy_needs_twelve_characters() {
        let policy = PasswordPolicy::default();
        assert_eq!(
            policy.broken_by(&pw("kort wachtw"), &[]),
            vec![Requirement::MinLength(12)]
        );
        assert!(
            policy
                .broken_by(&pw("lange zin met woorden"), &[])
                .is_empty()
        );
    }

    #[test]
    fn each_missing_class_is_reported_separately() {
        let broken = strict().broken_by(&pw("alleenkleineletters"), &[]);
        assert_eq!(
            broken,
            vec![
                Requirement::Uppercase,
                Requirement::Digit,
                Requirement::Symbol
            ]
        );
        assert!(strict().broken_by(&pw("Fiets-Sleutel-42x"), &[]).is_empty());
    }

    #[test]
    fn classes_count_unicode_letters_and_digits() {
        let broken = strict().broken_by(&pw("ÉÉNàtwee-drieën٣xyz"), &[]);
        assert!(broken.is_empty(), "{broken:?}");
    }

    #[test]
    fn refuses_username_and_email_local_part_in_any_case() {
        let policy = PasswordPolicy::default();
        let personal = ["jdevries", "jan.devries"];
        assert_eq!(
            policy.broken_by(&pw("mijn-JDEVRIES-wachtwoord"), &personal),
            vec![Requirement::NotPersonal]
        );
        assert_eq!(
            policy.broken_by(&pw("Jan.deVries@thuis2024"), &personal),
            vec![Requirement::NotPersonal]
        );
        // Two-letter words are too short to forbid: they are in every sentence.
        assert!(
            policy
                .broken_by(&pw("een lange zin van jd"), &["jd"])
                .is_empty()
        );
    }

    #[test]
    fn refuses_common_passwords() {
        let policy = PasswordPolicy::new(8, 64, PasswordPolicy::default().classes()).unwrap();
        assert_eq!(
            policy.broken_by(&pw("Password1"), &[]),
            vec![Requirement::NotCommon]
        );
        assert_eq!(
            policy.broken_by(&pw("wachtwoord123"), &[]),
            vec![Requirement::NotCommon]
        );
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let policy = PasswordPolicy::default();
        // 12 characters, 24 bytes.
        assert!(policy.broken_by(&pw("ééééééééééé1"), &[]).is_empty());
        assert_eq!(
            policy.broken_by(&pw("ééééééééééé"), &[]),
            vec![Requirement::MinLength(12)]
        );
    }

    #[test]
    fn policy_maximum_is_enforced_below_the_hard_cap() {
        let policy = PasswordPolicy::default();
        let long = "a".repeat(65) + "Z";
        assert_eq!(
            policy.broken_by(&pw(&long), &[]),
            vec![Requirement::MaxLength(64)]
        );
    }

    #[test]
    fn passwords_are_nfkc_normalised_and_never_truncated() {
        // U+FB01 LATIN SMALL LIGATURE FI becomes "fi"; a full-width A becomes "A".
        assert_eq!(pw("\u{FB01}ets\u{FF21}").expose(), "fietsA");
        // Composed and decomposed forms of é are the same password.
        assert_eq!(pw("caf\u{00E9}").expose(), pw("cafe\u{0301}").expose());
        let exactly_max = "x".repeat(HARD_MAX_CHARS);
        assert_eq!(pw(&exactly_max).expose().chars().count(), HARD_MAX_CHARS);
    }

    #[test]
    fn passwords_over_the_hard_cap_are_refused_before_anything_else() {
        assert_eq!(
            Password::parse(&"x".repeat(HARD_MAX_CHARS + 1)).unwrap_err(),
            PasswordError::TooLong
        );
        assert!(Password::parse(&"x".repeat(1_000_000)).is_err());
        // 128 four-byte characters are allowed; one more is not.
        assert!(Password::parse(&"😀".repeat(HARD_MAX_CHARS)).is_ok());
        assert!(Password::parse(&"😀".repeat(HARD_MAX_CHARS + 1)).is_err());
    }

    #[test]
    fn only_typable_characters_are_accepted() {
        for untypable in [
            "geheim\0wachtwoord",
            "geheim\nwachtwoord",
            "geheim\twachtwoord",
            "geheim\u{7F}wachtwoord",
            "geheim\u{85}wachtwoord",
            "geheim\u{FFFD}wachtwoord",
            "geheim\u{FDD0}wachtwoord",
            "geheim\u{1FFFF}wachtwoord",
        ] {
            assert_eq!(
                Password::parse(untypable).unwrap_err(),
                PasswordError::Untypable,
                "{untypable:?}"
            );
        }
        // Spaces, accents, other scripts, emoji (with joiners) and private-use are typable.
        for typable in [
            "een zin met spaties",
            "ĳsje-café-ß",
            "пароль-密码-كلمة",
            "👩\u{200D}💻 en 🇳🇱",
            "\u{E000}\u{00A0}x",
        ] {
            assert!(Password::parse(typable).is_ok(), "{typable:?}");
        }
        assert_eq!(
            PasswordError::Untypable.broken(&PasswordPolicy::default()),
            Requirement::Typable
        );
    }

    #[test]
    fn policies_are_validated() {
        let none = PasswordPolicy::default().classes();
        assert_eq!(
            PasswordPolicy::new(6, 64, none),
            Err(PolicyError::MinTooLow)
        );
        assert_eq!(
            PasswordPolicy::new(12, 32, none),
            Err(PolicyError::MaxOutOfRange)
        );
        assert_eq!(
            PasswordPolicy::new(12, 200, none),
            Err(PolicyError::MaxOutOfRange)
        );
        assert_eq!(
            PasswordPolicy::new(100, 64, none),
            Err(PolicyError::MinAboveMax)
        );
        assert!(PasswordPolicy::new(8, 128, none).is_ok());
    }

    #[test]
    fn debug_never_shows_the_password() {
        assert_eq!(format!("{:?}", pw("geheim-geheim")), "Password([redacted])");
    }
}
