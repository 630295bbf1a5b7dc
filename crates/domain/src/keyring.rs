//! Encryption of stored secrets (the TOTP keys and the token-signing keys) with AES-256-GCM (NIST SP 800-38D).
//!
//! Each sealed value carries the version of the key that sealed it, so keys can be rotated:
//! the newest key seals, every listed key opens. The user id is the associated data, so a
//! ciphertext copied into another user's row does not open (ASVS V6.2.x).
//!
//! Key text, one key a line, the last line the current key: `VERSION:BASE64(32 bytes)`.

use std::collections::BTreeMap;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::{CryptoRng, RngCore};
use secrecy::SecretBox;

const NONCE_BYTES: usize = 12;
const AAD_PREFIX: &[u8] = b"poortwachter/totp-secret/v1/user/";
const CONTINUATION_DATA: &[u8] = b"poortwachter/login-continuation/v1";

pub struct Keyring {
    current: u8,
    keys: BTreeMap<u8, Aes256Gcm>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyringError {
    #[error("no key: expected lines of VERSION:BASE64 (32 bytes)")]
    Empty,
    #[error("line {0}: expected VERSION:BASE64 with a version from 1 to 255 and a 32-byte key")]
    Malformed(usize),
    #[error("key version {0} is listed twice")]
    Duplicate(u8),
}

/// A value sealed under key `key_version`: nonce followed by ciphertext and tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    pub key_version: u8,
    pub blob: Vec<u8>,
}

impl Keyring {
    pub fn parse(text: &str) -> Result<Keyring, KeyringError> {
        let mut keys = BTreeMap::new();
        let mut current = None;
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let malformed = || KeyringError::Malformed(index + 1);
            let (version, key) = line.split_once(':').ok_or_else(malformed)?;
            let version: u8 = version.trim().parse().map_err(|_| malformed())?;
            let bytes = STANDARD.decode(key.trim()).map_err(|_| malformed())?;
            if version == 0 || bytes.len() != 32 {
                return Err(malformed());
            }
            let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes));
            if keys.insert(version, cipher).is_some() {
                return Err(KeyringError::Duplicate(version));
            }
            current = Some(version);
        }
        let current = current.ok_or(KeyringError::Empty)?;
        Ok(Keyring { current, keys })
    }

    /// Key text with one new random key, version 1.
    pub fn generate_text(rng: &mut (impl RngCore + CryptoRng)) -> SecretBox<str> {
        let mut key = [0u8; 32];
        rng.fill_bytes(&mut key);
        let text = format!(
            "# Poortwachter secret-encryption keys: VERSION:BASE64, the last line is current.\n1:{}\n",
            STANDARD.encode(key)
        );
        SecretBox::from(text.into_boxed_str())
    }

    pub fn current_version(&self) -> u8 {
        self.current
    }

    pub fn seal(
        &self,
        user_id: i64,
        plaintext: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Sealed {
        self.seal_with(&associated_data(user_id), plaintext, rng)
    }

    /// Seals a token-signing key; the key id is the associated data, so a sealed key copied
    /// under another id (or into a user's row) does not open.
    pub fn seal_signing_key(
        &self,
        kid: &str,
        plaintext: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Sealed {
        self.seal_with(&signing_key_data(kid), plaintext, rng)
    }

    pub fn open_signing_key(&self, kid: &str, sealed: &Sealed) -> Option<SecretBox<[u8]>> {
        self.open_with(&signing_key_data(kid), sealed)
    }

    /// Seals a new set of herstelcodes until the user has saved them; the associated data
    /// names the purpose and the user, so the blob opens as nothing else and for no one else.
    pub fn seal_recovery_codes(
        &self,
        user_id: i64,
        plaintext: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Sealed {
        self.seal_with(&recovery_codes_data(user_id), plaintext, rng)
    }

    pub fn open_recovery_codes(&self, user_id: i64, sealed: &Sealed) -> Option<SecretBox<[u8]>> {
        self.open_with(&recovery_codes_data(user_id), sealed)
    }

    /// Seals a login continuation (an authorization request waiting for a login) for the
    /// browser's cookie: made by this service or nothing, so a browser cannot make one up or
    /// change it (OIDC Core §3.1.2.1: `prompt=login` must really log in again).
    pub fn seal_continuation(
        &self,
        plaintext: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Sealed {
        self.seal_with(CONTINUATION_DATA, plaintext, rng)
    }

    pub fn open_continuation(&self, sealed: &Sealed) -> Option<SecretBox<[u8]>> {
        self.open_with(CONTINUATION_DATA, sealed)
    }

    /// Seals a webhook subscription's signing secret; the subscription's id is the
    /// associated data, so a secret copied to another subscription does not open.
    pub fn seal_webhook_secret(
        &self,
        subscription: &str,
        plaintext: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Sealed {
        self.seal_with(&webhook_secret_data(subscription), plaintext, rng)
    }

    pub fn open_webhook_secret(
        &self,
        subscription: &str,
        sealed: &Sealed,
    ) -> Option<SecretBox<[u8]>> {
        self.open_with(&webhook_secret_data(subscription), sealed)
    }

    fn seal_with(
        &self,
        aad: &[u8],
        plaintext: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Sealed {
        let mut nonce = [0u8; NONCE_BYTES];
        rng.fill_bytes(&mut nonce);
        let cipher = &self.keys[&self.current];
        let ciphertext = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("AES-GCM encryption of a short value cannot fail");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        Sealed {
            key_version: self.current,
            blob,
        }
    }

    /// The plaintext, or `None` if the key is unknown, the value was altered, or it was sealed
    /// for another user.
    pub fn open(&self, user_id: i64, sealed: &Sealed) -> Option<SecretBox<[u8]>> {
        self.open_with(&associated_data(user_id), sealed)
    }

    fn open_with(&self, aad: &[u8], sealed: &Sealed) -> Option<SecretBox<[u8]>> {
        let cipher = self.keys.get(&sealed.key_version)?;
        if sealed.blob.len() <= NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = sealed.blob.split_at(NONCE_BYTES);
        let plaintext = cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .ok()?;
        Some(SecretBox::from(plaintext.into_boxed_slice()))
    }
}

fn associated_data(user_id: i64) -> Vec<u8> {
    let mut aad = AAD_PREFIX.to_vec();
    aad.extend_from_slice(&user_id.to_be_bytes());
    aad
}

fn recovery_codes_data(user_id: i64) -> Vec<u8> {
    let mut aad = b"poortwachter/recovery-codes/v1/".to_vec();
    aad.extend_from_slice(&user_id.to_be_bytes());
    aad
}

fn webhook_secret_data(subscription: &str) -> Vec<u8> {
    format!("poortwachter/webhook-secret/v1/{subscription}").into_bytes()
}

fn signing_key_data(kid: &str) -> Vec<u8> {
    let mut aad = b"poortwachter/signing-key/v1/".to_vec();
    aad.extend_from_slice(kid.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use secrecy::ExposeSecret;

    fn ring(text: &str) -> Keyring {
        Keyring::parse(text).unwrap()
    }

    const K1: &str = "1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    const K2: &str = "2:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

    #[test]
    fn seals_and_opens_for_the_same_user_only() {
        let mut rng = StdRng::seed_from_u64(1);
        let keys = ring(K1);
        let sealed = keys.seal(7, b"twenty byte secret!!", &mut rng);
        assert_ne!(&sealed.blob[NONCE_BYTES..], b"twenty byte secret!!");
        assert_eq!(
            keys.open(7, &sealed).unwrap().expose_secret(),
            b"twenty byte secret!!"
        );
        assert!(
            keys.open(8, &sealed).is_none(),
            "copied to another user's row"
        );
    }

    #[test]
    fn sealed_herstelcodes_open_as_nothing_else() {
        let mut rng = StdRng::seed_from_u64(1);
        let keys = ring(K1);
        let sealed = keys.seal_recovery_codes(7, b"codes", &mut rng);
        assert_eq!(
            keys.open_recovery_codes(7, &sealed)
                .unwrap()
                .expose_secret(),
            b"codes"
        );
        assert!(keys.open_recovery_codes(8, &sealed).is_none());
        assert!(keys.open(7, &sealed).is_none(), "not as a TOTP secret");
        let secret = keys.seal(7, b"secret", &mut rng);
        assert!(keys.open_recovery_codes(7, &secret).is_none());
    }

    #[test]
    fn a_sealed_continuation_opens_as_nothing_else_and_not_altered() {
        let mut rng = StdRng::seed_from_u64(1);
        let keys = ring(K1);
        let sealed = keys.seal_continuation(b"request", &mut rng);
        let opened = keys.open_continuation(&sealed).unwrap();
        assert_eq!(opened.expose_secret(), b"request");
        assert!(keys.open(7, &sealed).is_none(), "not as a TOTP secret");
        let secret = keys.seal(7, b"request", &mut rng);
        assert!(
            keys.open_continuation(&secret).is_none(),
            "a TOTP blob is no continuation"
        );
        let mut altered = sealed.clone();
        altered.blob[NONCE_BYTES] ^= 1;
        assert!(keys.open_continuation(&altered).is_none());
    }

    #[test]
    fn altered_ciphertext_does_not_open() {
        let mut rng = StdRng::seed_from_u64(1);
        let keys = ring(K1);
        let mut sealed = keys.seal(7, b"secret", &mut rng);
        let last = sealed.blob.len() - 1;
        sealed.blob[last] ^= 1;
        assert!(keys.open(7, &sealed).is_none());
        assert!(
            keys.open(
                7,
                &Sealed {
                    key_version: 1,
                    blob: vec![1, 2, 3]
                }
            )
            .is_none()
        );
    }

    #[test]
    fn rotation_seals_with_the_newest_and_opens_with_all() {
        let mut rng = StdRng::seed_from_u64(1);
        let old = ring(K1).seal(7, b"old secret", &mut rng);
        let rotated = ring(&format!("{K1}\n{K2}\n"));
        assert_eq!(rotated.current_version(), 2);
        assert_eq!(
            rotated.open(7, &old).unwrap().expose_secret(),
            b"old secret"
        );
        assert_eq!(rotated.seal(7, b"new", &mut rng).key_version, 2);
        assert!(
            ring(K2).open(7, &old).is_none(),
            "a dropped key opens nothing"
        );
    }

    #[test]
    fn malformed_key_text_is_refused() {
        assert_eq!(Keyring::parse("").err(), Some(KeyringError::Empty));
        assert_eq!(
            Keyring::parse("# only a comment").err(),
            Some(KeyringError::Empty)
        );
        assert_eq!(
            Keyring::parse("1:c2hvcnQ=").err(),
            Some(KeyringError::Malformed(1))
        );
        assert_eq!(
            Keyring::parse("x:AAAA").err(),
            Some(KeyringError::Malformed(1))
        );
        assert_eq!(
            Keyring::parse(&format!("{K1}\n{K1}")).err(),
            Some(KeyringError::Duplicate(1))
        );
        let generated = Keyring::generate_text(&mut StdRng::seed_from_u64(2));
        assert_eq!(
            Keyring::parse(generated.expose_secret())
                .unwrap()
                .current_version(),
            1
        );
    }
}
