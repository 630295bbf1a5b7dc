//! Token-signing keys: made at first start, kept in the database sealed with the keyring
//! (so every instance signs with the same key), published as a JWKS, rotated with an
//! overlap. JWS compact serialization (RFC 7515) is written here: it is three base64url
//! parts joined by dots, and a JOSE library would bring a second crypto stack. ES256 is
//! signed and checked with `ring` (already here through rustls): it is five to ten times
//! faster than the pure-Rust P-256, and every token response and userinfo call pays it.
//! RS256 keys are made and used with RustCrypto's `rsa` (ring cannot generate RSA keys).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::rngs::OsRng;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::signature::SignatureEncoding;
use rsa::signature::{Signer, Verifier};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::domain::audit::AuditRecord;
use crate::domain::oidc::client::SigningAlg;
use crate::keyring::Keyring;
use crate::store::{Store, StoreError, StoredKey};

/// How often an instance looks for keys another instance or the CLI added.
const RELOAD_AFTER: Duration = Duration::from_secs(30);

enum Material {
    Es256(Box<EcdsaKeyPair>),
    Rs256(Box<rsa::pkcs1v15::SigningKey<Sha256>>),
}

/// A private key, ready to sign.
pub struct SigningKey {
    pub kid: String,
    pub alg: SigningAlg,
    material: Material,
}

impl SigningKey {
    /// A new key, and its private part (PKCS#8 DER) to seal.
    pub fn generate(alg: SigningAlg) -> (SigningKey, Vec<u8>) {
        let (material, private) = match alg {
            SigningAlg::Es256 => {
                let rng = ring::rand::SystemRandom::new();
                let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .expect("P-256 key generation");
                let pair = EcdsaKeyPair::from_pkcs8(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    pkcs8.as_ref(),
                    &rng,
                )
                .expect("a key ring just made");
                (Material::Es256(Box::new(pair)), pkcs8.as_ref().to_vec())
            }
            SigningAlg::Rs256 => {
                let key = rsa::RsaPrivateKey::new(&mut OsRng, 2048).expect("RSA key generation");
                let der = key
                    .to_pkcs8_der()
                    .expect("PKCS#8 encoding")
                    .as_bytes()
                    .to_vec();
                (
                    Material::Rs256(Box::new(rsa::pkcs1v15::SigningKey::new(key))),
                    der,
                )
            }
        };
        let mut key = SigningKey {
            kid: String::new(),
            alg,
            material,
        };
        key.kid = thumbprint(&key.public_jwk_members());
        (key, private)
    }

    pub fn from_private(kid: &str, alg: SigningAlg, private: &[u8]) -> Option<SigningKey> {
        let material = match alg {
            SigningAlg::Es256 => {
                let rng = ring::rand::SystemRandom::new();
                let pair =
                    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, private, &rng)
                        .ok()?;
                Material::Es256(Box::new(pair))
            }
            SigningAlg::Rs256 => Material::Rs256(Box::new(rsa::pkcs1v15::SigningKey::new(
                rsa::RsaPrivateKey::from_pkcs8_der(private).ok()?,
            ))),
        };
        Some(SigningKey {
            kid: kid.to_owned(),
            alg,
            material,
        })
    }

    /// The public key's required members, in the order RFC 7638 hashes them.
    fn public_jwk_members(&self) -> Value {
        match &self.material {
            Material::Es256(pair) => {
                // The uncompressed point: 0x04, then X and Y of 32 bytes each.
                let point = pair.public_key().as_ref();
                json!({
                    "crv": "P-256",
                    "kty": "EC",
                    "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                    "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
                })
            }
            Material::Rs256(key) => {
                let public = key.as_ref().as_ref().to_public_key();
                json!({
                    "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
                    "kty": "RSA",
                    "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
                })
            }
        }
    }

    /// The public JWK as the JWKS publishes it (RFC 7517).
    pub fn public_jwk(&self) -> Value {
        let mut jwk = self.public_jwk_members();
        let members = jwk.as_object_mut().expect("an object");
        members.insert("kid".into(), json!(self.kid));
        members.insert("alg".into(), json!(self.alg.as_str()));
        members.insert("use".into(), json!("sig"));
        jwk
    }

    /// A compact JWS of `claims` with header `typ` (RFC 7515 §7.1).
    pub fn sign(&self, typ: &str, claims: &Value) -> String {
        let header = json!({ "alg": self.alg.as_str(), "kid": self.kid, "typ": typ });
        let mut token = URL_SAFE_NO_PAD.encode(header.to_string());
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature = match &self.material {
            Material::Es256(pair) => {
                // JWS ES256 is the fixed 64-byte R || S, not DER (RFC 7518 §3.4).
                let rng = ring::rand::SystemRandom::new();
                pair.sign(&rng, token.as_bytes())
                    .expect("ECDSA signing")
                    .as_ref()
                    .to_vec()
            }
            Material::Rs256(key) => key.sign(token.as_bytes()).to_vec(),
        };
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature));
        token
    }

    /// The claims of a token this key signed with header `typ`, if the signature holds.
    pub fn verify(&self, typ: &str, token: &str) -> Option<Value> {
        let (signed, signature) = token.rsplit_once('.')?;
        let (header, payload) = signed.split_once('.')?;
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
        if header["alg"] != self.alg.as_str()
            || header["kid"] != self.kid.as_str()
            || header["typ"] != typ
        {
            return None;
        }
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let valid = match &self.material {
            Material::Es256(pair) => {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, pair.public_key().as_ref())
                    .verify(signed.as_bytes(), &signature)
                    .is_ok()
            }
            Material::Rs256(key) => {
                let signature = rsa::pkcs1v15::Signature::try_from(signature.as_slice()).ok()?;
                let verifying = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(
                    key.as_ref().as_ref().to_public_key(),
                );
                verifying.verify(signed.as_bytes(), &signature).is_ok()
            }
        };
        if !valid {
            return None;
        }
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
    }
}

/// The `kid` of a token, read without checking anything.
pub fn kid_of(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    header["kid"].as_str().map(str::to_owned)
}

/// RFC 7638 JWK thumbprint: SHA-256 of the required members, no spaces, sorted.
fn thumbprint(members: &Value) -> String {
    // serde_json's map keeps keys sorted (no `preserve_order` feature): the canonical form.
    URL_SAFE_NO_PAD.encode(Sha256::digest(members.to_string().as_bytes()))
}

/// The keys as loaded from the store at one moment.
pub struct KeySet {
    keys: Vec<(StoredKey, Arc<SigningKey>)>,
}

impl KeySet {
    /// The key that signs for `alg` now: of those whose time has come, the newest.
    pub fn signer(&self, alg: SigningAlg, now: i64) -> Option<&SigningKey> {
        self.keys
            .iter()
            .filter(|(stored, _)| stored.alg == alg && stored.signs_from <= now)
            .max_by_key(|(stored, _)| (stored.signs_from, stored.created_at))
            .map(|(_, key)| key.as_ref())
    }

    pub fn by_kid(&self, kid: &str) -> Option<&SigningKey> {
        self.keys
            .iter()
            .find(|(s, _)| s.kid == kid)
            .map(|(_, k)| k.as_ref())
    }

    /// The published keys (RFC 7517 §5): the next ones before they sign, the retired ones
    /// until the tokens they signed have expired.
    pub fn jwks(&self, now: i64) -> Value {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .filter(|(stored, _)| stored.published_until.is_none_or(|until| until > now))
            .map(|(_, key)| key.public_jwk())
            .collect();
        json!({ "keys": keys })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "signing key {0} cannot be opened with the configured totp_key: every instance needs the same keys"
    )]
    Sealed(String),
}

/// The instance's view of the signing keys, reloaded now and then.
pub struct Keys {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    cache: RwLock<(Instant, Arc<KeySet>)>,
    /// Held by the one request that reloads; the others meanwhile use the set they have.
    reloading: tokio::sync::Mutex<()>,
}

impl Keys {
    /// Loads the keys, making one per algorithm on the first start: once, whatever number of
    /// instances start together (the store adds a first key only where none signs yet), and
    /// loaded afterwards, so every instance signs with the key the database holds.
    pub async fn start(
        store: Arc<dyn Store>,
        keyring: Arc<Keyring>,
        now: i64,
    ) -> Result<Keys, KeyError> {
        let stored = store.signing_keys().await?;
        for alg in SigningAlg::ALL {
            // None yet, or only next keys (`keys rotate` before the first start): one that
            // signs now.
            if !stored.iter().any(|k| k.alg == alg && k.signs_from <= now) {
                let (first, _) = new_key(&keyring, alg, now, now);
                store.add_first_signing_key(&first).await?;
            }
        }
        let set = load(store.as_ref(), &keyring, None).await?;
        Ok(Keys {
            store,
            keyring,
            cache: RwLock::new((Instant::now(), Arc::new(set))),
            reloading: tokio::sync::Mutex::new(()),
        })
    }

    /// The current keys (reloaded when the cached set is older than half a minute). One
    /// request reloads; the others meanwhile go on with the set of a moment ago, instead of
    /// all reading and opening the keys at once.
    pub async fn current(&self) -> Result<Arc<KeySet>, KeyError> {
        let (loaded, set) = self.cached();
        if loaded.elapsed() < RELOAD_AFTER {
            return Ok(set);
        }
        let Ok(_reloading) = self.reloading.try_lock() else {
            return Ok(set);
        };
        if self.cached().0.elapsed() < RELOAD_AFTER {
            return Ok(self.cached().1);
        }
        self.reload_from(Some(&set)).await
    }

    fn cached(&self) -> (Instant, Arc<KeySet>) {
        let cache = self.cache.read().expect("key cache lock");
        (cache.0, cache.1.clone())
    }

    /// Reads the keys from the store now (another process may have rotated them).
    pub async fn reload(&self) -> Result<Arc<KeySet>, KeyError> {
        let (_, set) = self.cached();
        self.reload_from(Some(&set)).await
    }

    async fn reload_from(&self, known: Option<&KeySet>) -> Result<Arc<KeySet>, KeyError> {
        let fresh = Arc::new(load(self.store.as_ref(), &self.keyring, known).await?);
        *self.cache.write().expect("key cache lock") = (Instant::now(), fresh.clone());
        Ok(fresh)
    }
}

/// The keys the store holds; a key already in `known` is taken from there as it is (a key
/// never changes, only its times do), so a reload opens and parses only new keys.
async fn load(
    store: &dyn Store,
    keyring: &Keyring,
    known: Option<&KeySet>,
) -> Result<KeySet, KeyError> {
    let mut keys = Vec::new();
    for stored in store.signing_keys().await? {
        let parsed = known.and_then(|set| {
            set.keys
                .iter()
                .find(|(s, _)| s.kid == stored.kid && s.alg == stored.alg)
                .map(|(_, key)| key.clone())
        });
        let key = match parsed {
            Some(key) => key,
            None => {
                let private = keyring
                    .open_signing_key(&stored.kid, &stored.sealed)
                    .ok_or_else(|| KeyError::Sealed(stored.kid.clone()))?;
                use secrecy::ExposeSecret;
                let key =
                    SigningKey::from_private(&stored.kid, stored.alg, private.expose_secret())
                        .ok_or_else(|| KeyError::Sealed(stored.kid.clone()))?;
                Arc::new(key)
            }
        };
        keys.push((stored, key));
    }
    Ok(KeySet { keys })
}

/// Makes and stores a key of `alg` that signs from `signs_from`; the keys it replaces stay
/// published until `retire_until`. Its `kid`.
pub async fn add_key(
    store: &dyn Store,
    keyring: &Keyring,
    alg: SigningAlg,
    now: i64,
    signs_from: i64,
    retire_until: Option<i64>,
    audit: Option<&AuditRecord>,
) -> Result<String, KeyError> {
    let (stored, kid) = new_key(keyring, alg, now, signs_from);
    store.add_signing_key(&stored, retire_until, audit).await?;
    Ok(kid)
}

/// A new key of `alg`, sealed for the store, and its `kid`.
fn new_key(keyring: &Keyring, alg: SigningAlg, now: i64, signs_from: i64) -> (StoredKey, String) {
    let (key, private) = SigningKey::generate(alg);
    let stored = StoredKey {
        kid: key.kid.clone(),
        alg,
        sealed: keyring.seal_signing_key(&key.kid, &private, &mut OsRng),
        public_jwk: key.public_jwk().to_string(),
        created_at: now,
        signs_from,
        published_until: None,
    };
    (stored, key.kid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_with_their_key_only_and_not_when_altered() {
        for alg in SigningAlg::ALL {
            let (key, private) = SigningKey::generate(alg);
            let token = key.sign("JWT", &json!({ "sub": "x" }));
            assert_eq!(key.verify("JWT", &token).unwrap()["sub"], "x");
            assert!(key.verify("at+jwt", &token).is_none(), "wrong type");
            let reopened = SigningKey::from_private(&key.kid, alg, &private).unwrap();
            assert!(reopened.verify("JWT", &token).is_some());
            let (other, _) = SigningKey::generate(alg);
            assert!(other.verify("JWT", &token).is_none());
            let mut altered = token.clone();
            altered.insert(token.find('.').unwrap() + 1, 'e');
            assert!(key.verify("JWT", &altered).is_none());
            assert_eq!(kid_of(&token).as_deref(), Some(key.kid.as_str()));
        }
    }

    #[test]
    fn rfc_7638_thumbprint_example() {
        let members = json!({
            "e": "AQAB",
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        });
        assert_eq!(
            thumbprint(&members),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}
