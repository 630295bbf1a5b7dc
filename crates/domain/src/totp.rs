//! Time-based one-time passwords: RFC 4226 (HOTP) and RFC 6238 (TOTP).
//!
//! Hand-written on top of RustCrypto's HMAC because this is the heart of the product and the
//! available TOTP crates either mix in I/O and clocks or lack what we need to get right: time
//! passed in, replay memory kept by the caller, and the "just expired" answer. Issued secrets
//! are 160 bits (RFC 4226 §4 R6 recommends 160), SHA-1, 6 digits, 30 seconds: the only
//! parameters every common authenticator app honours.

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use rand::{CryptoRng, RngCore};
use secrecy::{ExposeSecret, SecretBox};

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: u32 = 6;
pub const SECRET_BYTES: usize = 20;
/// How far off (in steps, either way) a phone's clock may be for us to recognise its code
/// and tell the user their clock is off: five minutes.
const SKEW_STEPS: i64 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

/// HOTP value (RFC 4226 §5.3): HMAC of the big-endian counter, dynamic truncation, modulo
/// 10^digits.
pub fn hotp(key: &[u8], counter: u64, digits: u32, algorithm: Algorithm) -> u32 {
    fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
        let mut m =
            <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
        m.update(message);
        m.finalize().into_bytes().to_vec()
    }
    let message = counter.to_be_bytes();
    let digest = match algorithm {
        Algorithm::Sha1 => mac::<Hmac<sha1::Sha1>>(key, &message),
        Algorithm::Sha256 => mac::<Hmac<sha2::Sha256>>(key, &message),
        Algorithm::Sha512 => mac::<Hmac<sha2::Sha512>>(key, &message),
    };
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    binary % 10u32.pow(digits)
}

/// The time step that `unix_seconds` falls in (RFC 6238 §4.2, T0 = 0).
pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// A TOTP secret. Not `Debug`, not `Clone`: it is shown once (in the set-up e-mail) and
/// otherwise only encrypted.
pub struct TotpSecret(SecretBox<[u8; SECRET_BYTES]>);

impl TotpSecret {
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> TotpSecret {
        let mut bytes = [0u8; SECRET_BYTES];
        rng.fill_bytes(&mut bytes);
        TotpSecret(SecretBox::new(Box::new(bytes)))
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<TotpSecret> {
        let array: [u8; SECRET_BYTES] = bytes.try_into().ok()?;
        Some(TotpSecret(SecretBox::new(Box::new(array))))
    }

    pub fn expose_bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// RFC 4648 Base32 without padding: what authenticator apps take as the key.
    pub fn base32(&self) -> String {
        BASE32_NOPAD.encode(self.expose_bytes())
    }

    /// The Base32 key in groups of four, as people type it from an e-mail.
    pub fn base32_grouped(&self) -> String {
        let key = self.base32();
        key.as_bytes()
            .chunks(4)
            .map(|chunk| std::str::from_utf8(chunk).expect("base32 is ASCII"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn code_at_step(&self, step: i64) -> u32 {
        hotp(self.expose_bytes(), step as u64, DIGITS, Algorithm::Sha1)
    }

    /// The otpauth URI of the Key Uri Format (Google Authenticator wiki), as the QR code
    /// carries it: `otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=ISSUER`.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let label = format!("{}:{}", encode(issuer), encode(account));
        format!(
            "otpauth://totp/{label}?secret={}&issuer={}",
            self.base32(),
            encode(issuer)
        )
    }

    /// Checks `code` at `now`, given the last step this user had accepted.
    pub fn verify(&self, code: &TotpCode, now: i64, last_accepted: Option<i64>) -> Verification {
        let current = step_at(now);
        // RFC 6238 §5.2: one step back and one ahead, for clock drift and typing time.
        for step in [current - 1, current, current + 1] {
            if code.matches(self.code_at_step(step)) {
                return match last_accepted {
                    Some(last) if step <= last => Verification::Replayed,
                    _ => Verification::Accepted { step },
                };
            }
        }
        if code.matches(self.code_at_step(current - 2)) {
            return Verification::JustExpired;
        }
        // Right for a time a few minutes off: the phone's clock is wrong, which the user can
        // fix, so say so instead of "wrong code". Still refused, and counted as a failure.
        for distance in 2..=SKEW_STEPS {
            for step in [current + distance, current - distance - 1] {
                if code.matches(self.code_at_step(step)) {
                    return Verification::ClockOff {
                        seconds: (step - current) * STEP_SECONDS,
                    };
                }
            }
        }
        Verification::Wrong
    }
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// What a typed code turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Right, for this step; the caller records it so it cannot be used again.
    Accepted {
        step: i64,
    },
    /// Right, but for a step already used: a replay, or the same code typed twice.
    Replayed,
    /// The code of the previous-but-one period: the app's timer just rolled over.
    JustExpired,
    /// The code of a time this many seconds from now (positive: the phone is ahead).
    ClockOff {
        seconds: i64,
    },
    Wrong,
}

/// Six digits as typed; spaces (as apps show them, "123 456") are allowed.
pub struct TotpCode(String);

impl TotpCode {
    pub fn parse(typed: &str) -> Option<TotpCode> {
        let digits: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
        (digits.len() == DIGITS as usize && digits.chars().all(|c| c.is_ascii_digit()))
            .then_some(TotpCode(digits))
    }

    fn matches(&self, expected: u32) -> bool {
        use subtle::ConstantTimeEq;
        let expected = format!("{expected:0width$}", width = DIGITS as usize);
        bool::from(self.0.as_bytes().ct_eq(expected.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    const SEED_SHA1: &[u8] = b"12345678901234567890";
    const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
    const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    #[test]
    fn rfc4226_appendix_d_hotp_vectors() {
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, value) in expected.into_iter().enumerate() {
            assert_eq!(
                hotp(SEED_SHA1, counter as u64, 6, Algorithm::Sha1),
                value,
                "counter {counter}"
            );
        }
    }

    #[test]
    fn rfc6238_appendix_b_totp_vectors_for_all_three_hashes() {
        let table: [(i64, u32, u32, u32); 6] = [
            (59, 94287082, 46119246, 90693936),
            (1111111109, 7081804, 68084774, 25091201),
            (1111111111, 14050471, 67062674, 99943326),
            (1234567890, 89005924, 91819424, 93441116),
            (2000000000, 69279037, 90698825, 38618901),
            (20000000000, 65353130, 77737706, 47863826),
        ];
        for (time, sha1, sha256, sha512) in table {
            let step = step_at(time) as u64;
            assert_eq!(
                hotp(SEED_SHA1, step, 8, Algorithm::Sha1),
                sha1,
                "SHA1 at {time}"
            );
            assert_eq!(
                hotp(SEED_SHA256, step, 8, Algorithm::Sha256),
                sha256,
                "SHA256 at {time}"
            );
            assert_eq!(
                hotp(SEED_SHA512, step, 8, Algorithm::Sha512),
                sha512,
                "SHA512 at {time}"
            );
        }
    }

    #[test]
    fn issued_secrets_are_160_bits_and_base32() {
        let mut rng = StdRng::seed_from_u64(3);
        let secret = TotpSecret::generate(&mut rng);
        assert_eq!(secret.expose_bytes().len() * 8, 160);
        assert_eq!(secret.base32().len(), 32);
        assert_eq!(
            BASE32_NOPAD.decode(secret.base32().as_bytes()).unwrap(),
            secret.expose_bytes()
        );
        let grouped = secret.base32_grouped();
        assert_eq!(grouped.split(' ').count(), 8);
        assert!(grouped.split(' ').all(|g| g.len() == 4));
        assert_ne!(TotpSecret::generate(&mut rng).base32(), secret.base32());
    }

    #[test]
    fn otpauth_uri_has_issuer_account_and_secret() {
        let secret = TotpSecret::from_bytes(SEED_SHA1).unwrap();
        assert_eq!(
            secret.otpauth_uri("Acme Login", "jan@acme"),
            "otpauth://totp/Acme%20Login:jan%40acme?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Login"
        );
    }

    fn code(secret: &TotpSecret, step: i64) -> TotpCode {
        TotpCode::parse(&format!("{:06}", secret.code_at_step(step))).unwrap()
    }

    #[test]
    fn accepts_one_step_back_and_ahead_and_no_further() {
        let secret = TotpSecret::from_bytes(SEED_SHA1).unwrap();
        let now = 1_700_000_015;
        let current = step_at(now);
        for step in [current - 1, current, current + 1] {
            assert_eq!(
                secret.verify(&code(&secret, step), now, None),
                Verification::Accepted { step }
            );
        }
        assert_eq!(
            secret.verify(&code(&secret, current - 2), now, None),
            Verification::JustExpired
        );
        // Two ahead or three back are refused (with the clock named: see the next test).
        for step in [current + 2, current - 3] {
            assert!(!matches!(
                secret.verify(&code(&secret, step), now, None),
                Verification::Accepted { .. }
            ));
        }
    }

    #[test]
    fn a_clock_minutes_off_is_recognised_and_still_refused() {
        let secret = TotpSecret::from_bytes(SEED_SHA1).unwrap();
        let now = 1_000_000_020;
        let current = step_at(now);
        let code_at =
            |step: i64| TotpCode::parse(&format!("{:06}", secret.code_at_step(step))).unwrap();
        assert_eq!(
            secret.verify(&code_at(current + 4), now, None),
            Verification::ClockOff { seconds: 120 }
        );
        assert_eq!(
            secret.verify(&code_at(current - 6), now, None),
            Verification::ClockOff { seconds: -180 }
        );
        assert_eq!(
            secret.verify(&code_at(current - 2), now, None),
            Verification::JustExpired
        );
        assert_eq!(
            secret.verify(&code_at(current + 30), now, None),
            Verification::Wrong
        );
    }

    #[test]
    fn never_accepts_a_step_not_newer_than_the_last_accepted() {
        let secret = TotpSecret::from_bytes(SEED_SHA1).unwrap();
        let now = 1_700_000_015;
        let current = step_at(now);
        let same = code(&secret, current);
        assert_eq!(
            secret.verify(&same, now, Some(current)),
            Verification::Replayed
        );
        // After accepting the step ahead, the current (older) step is also spent.
        assert_eq!(
            secret.verify(&same, now, Some(current + 1)),
            Verification::Replayed
        );
        assert_eq!(
            secret.verify(&code(&secret, current + 1), now, Some(current)),
            Verification::Accepted { step: current + 1 }
        );
    }

    #[test]
    fn codes_are_six_digits_with_optional_spaces() {
        assert!(TotpCode::parse("123456").is_some());
        assert!(TotpCode::parse(" 123 456 ").is_some());
        for bad in ["12345", "1234567", "12345a", "", "１２３４５６"] {
            assert!(TotpCode::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn leading_zeros_are_kept() {
        // RFC 6238 vector 07081804 truncated to six digits is 081804: the zero matters.
        let secret = TotpSecret::from_bytes(SEED_SHA1).unwrap();
        let step = step_at(1111111109);
        assert_eq!(secret.code_at_step(step), 81804);
        let typed = TotpCode::parse("081804").unwrap();
        assert_eq!(
            secret.verify(&typed, 1111111109, None),
            Verification::Accepted { step }
        );
        assert!(!TotpCode::parse("818040").unwrap().matches(81804));
    }
}
