//! Self-service recovery rules: herstelcodes (recovery codes, ASVS 2.6 look-up secrets),
//! password reset links, and remembered devices. No I/O: randomness and time come in.

use rand::{CryptoRng, Rng, RngCore};
use sha2::{Digest, Sha256};

use super::account::{AccountState, InvitationRecord, InvitationStatus};
use super::second_factor::RateWindow;
use super::token::TokenHash;

/// How many herstelcodes a set has.
pub const CODES_PER_SET: usize = 10;
/// With fewer unused codes than this, the user sees a banner and gets an e-mail.
pub const FEW_CODES_LEFT: i64 = 3;
/// Digits only: the easiest to read aloud, type on a phone and print. 20 digits are 66 bits,
/// above ASVS 2.6.2's 64 (more than a password needs: a code skips the authenticator app).
const CODE_DIGITS: usize = 20;
const GROUP: usize = 4;

/// One herstelcode as the user holds it: 20 digits. Not `Debug`/`Display`, like [`Token`].
///
/// [`Token`]: super::token::Token
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl RecoveryCode {
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> RecoveryCode {
        RecoveryCode(
            (0..CODE_DIGITS)
                .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
                .collect(),
        )
    }

    /// A code as typed: spaces and dashes (as printed, or added by the user) are ignored.
    pub fn parse(typed: &str) -> Option<RecoveryCode> {
        if typed.len() > 64 {
            return None;
        }
        let digits: String = typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        (digits.len() == CODE_DIGITS && digits.chars().all(|c| c.is_ascii_digit()))
            .then_some(RecoveryCode(digits))
    }

    /// "1234-5678-9012-3456-7890": groups of four, as shown, printed and downloaded.
    pub fn grouped(&self) -> String {
        self.0
            .as_bytes()
            .chunks(GROUP)
            .map(|chunk| std::str::from_utf8(chunk).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// What the database keeps: SHA-256 over the user's id and the code. A fast hash is
    /// enough for 66 random bits (no dictionary to try), and the user id as salt means one
    /// guess tests one account's codes, never everyone's at once.
    pub fn digest(&self, user_id: i64) -> TokenHash {
        let mut hasher = Sha256::new();
        hasher.update(b"poortwachter/recovery-code/v1/");
        hasher.update(user_id.to_be_bytes());
        hasher.update(self.0.as_bytes());
        TokenHash(hasher.finalize().into())
    }
}

/// A new set of [`CODES_PER_SET`] distinct codes.
pub fn new_set(rng: &mut (impl RngCore + CryptoRng)) -> Vec<RecoveryCode> {
    let mut codes: Vec<RecoveryCode> = Vec::with_capacity(CODES_PER_SET);
    while codes.len() < CODES_PER_SET {
        let code = RecoveryCode::generate(rng);
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes
}

/// A set as one text, for sealing until the user has saved it: one code per line.
pub fn join_set(codes: &[RecoveryCode]) -> String {
    codes
        .iter()
        .map(|c| c.0.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The inverse of [`join_set`]; `None` if the text is not a set we made.
pub fn split_set(text: &str) -> Option<Vec<RecoveryCode>> {
    text.lines()
        .map(|line| (line.len() == CODE_DIGITS).then(|| RecoveryCode::parse(line))?)
        .collect()
}

/// Reset e-mails per account: one a minute and five an hour, silently (the page never says
/// whether an account exists, so it cannot say that one was limited either).
pub const RESET_MAIL_LIMITS: [RateWindow; 2] = [
    RateWindow {
        seconds: 60,
        count: 1,
    },
    RateWindow {
        seconds: 3600,
        count: 5,
    },
];

/// A reset link is an invitation link's twin (used once, superseded by a newer one, expires),
/// but only an active account may use one: an invited user activates with the invitation,
/// a disabled one cannot do anything.
pub fn reset_link_status(
    record: &InvitationRecord,
    account: AccountState,
    now: i64,
) -> InvitationStatus {
    match account {
        AccountState::Active => record.status(account, now),
        AccountState::Invited | AccountState::Disabled => InvitationStatus::AccountUnavailable,
    }
}

/// The most days an organization may let a browser skip the code step.
pub const MAX_REMEMBER_DAYS: u8 = 30;

/// The browser and system a User-Agent names, as a user recognises them on the account page
/// ("Firefox, Windows"). A label only: never used to decide anything.
pub fn browser_label(user_agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find(|(marker, _)| user_agent.contains(marker))
    .map_or("?", |(_, name)| name);
    let system = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(marker, _)| user_agent.contains(marker))
    .map(|(_, name)| name);
    match system {
        Some(system) => format!("{browser}, {system}"),
        None => browser.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn a_set_is_ten_distinct_codes_of_twenty_digits() {
        let set = new_set(&mut StdRng::seed_from_u64(1));
        assert_eq!(set.len(), CODES_PER_SET);
        for (i, code) in set.iter().enumerate() {
            assert_eq!(code.0.len(), 20);
            assert!(code.0.bytes().all(|b| b.is_ascii_digit()));
            assert!(!set[i + 1..].contains(code));
        }
        // 20 decimal digits carry at least 64 bits (ASVS 2.6.2).
        assert!(20.0 * 10f64.log2() >= 64.0);
    }

    #[test]
    fn codes_are_typed_with_or_without_groups() {
        let code = RecoveryCode::generate(&mut StdRng::seed_from_u64(2));
        let grouped = code.grouped();
        assert_eq!(grouped.len(), 24);
        assert_eq!(grouped.matches('-').count(), 4);
        for typed in [
            grouped.clone(),
            code.0.clone(),
            grouped.replace('-', " "),
            format!(" {grouped} "),
        ] {
            assert!(RecoveryCode::parse(&typed) == Some(code.clone()), "{typed}");
        }
        for bad in [
            "",
            "123456",
            &code.0[..19],
            &format!("{}1", code.0),
            "abcd-efgh",
        ] {
            assert!(RecoveryCode::parse(bad).is_none(), "{bad}");
        }
        assert!(RecoveryCode::parse(&"1".repeat(200)).is_none());
    }

    #[test]
    fn digests_differ_per_user() {
        let code = RecoveryCode::generate(&mut StdRng::seed_from_u64(3));
        assert_eq!(code.digest(1), code.digest(1));
        assert_ne!(code.digest(1), code.digest(2));
    }

    #[test]
    fn a_set_survives_sealing_as_text() {
        let set = new_set(&mut StdRng::seed_from_u64(4));
        let back = split_set(&join_set(&set)).unwrap();
        assert!(back == set);
        assert!(split_set("1234").is_none());
    }

    #[test]
    fn only_an_active_account_uses_a_reset_link() {
        let link = InvitationRecord {
            expires_at: 100,
            used_at: None,
            superseded_at: None,
        };
        assert_eq!(
            reset_link_status(&link, AccountState::Active, 50),
            InvitationStatus::Usable
        );
        assert_eq!(
            reset_link_status(&link, AccountState::Active, 100),
            InvitationStatus::Expired
        );
        for state in [AccountState::Invited, AccountState::Disabled] {
            assert_eq!(
                reset_link_status(&link, state, 50),
                InvitationStatus::AccountUnavailable
            );
        }
    }

    #[test]
    fn browsers_are_named_as_users_know_them() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/156.0.0.0 Safari/537.36";
        assert_eq!(browser_label(chrome), "Chrome, Linux");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like \
                    Gecko) Chrome/120.0 Safari/537.36 Edg/120.0";
        assert_eq!(browser_label(edge), "Edge, Windows");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(browser_label(iphone), "Safari, iPhone");
        assert_eq!(browser_label(""), "?");
    }
}
