//! What comes in around TOTP: a typed code, a stored secret, the otpauth URI built for the QR
//! code, and the key file. Nothing panics, and the URI always carries the secret and issuer
//! back out intact, whatever characters the service name and username hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use poortwachter_domain::totp::{TotpCode, TotpSecret};
use poortwachter_domain::keyring::{Keyring, Sealed};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let code = TotpCode::parse(&text);
    let _ = Keyring::parse(&text);

    let Some((key, rest)) = data.split_first_chunk::<20>() else {
        return;
    };
    let secret = TotpSecret::from_bytes(key).expect("20 bytes is a valid secret");
    if let Some(code) = code {
        let now = i64::from_le_bytes(rest.get(..8).and_then(|b| b.try_into().ok()).unwrap_or([0; 8]));
        let _ = secret.verify(&code, now, Some(now / 30));
    }

    let rest = String::from_utf8_lossy(rest);
    let (issuer, account) = rest.split_at(rest.floor_char_boundary(rest.len() / 2));
    let uri = url::Url::parse(&secret.otpauth_uri(issuer, account)).expect("a valid URI");
    let query: Vec<(String, String)> = uri.query_pairs().into_owned().collect();
    assert_eq!(query[0], ("secret".to_owned(), secret.base32()));
    assert_eq!(query[1], ("issuer".to_owned(), issuer.to_owned()));
    assert_eq!(query.len(), 2, "nothing smuggled into the query");

    // A sealed blob that was not made by the keyring never opens (and never panics).
    let keyring = Keyring::parse(&format!("1:{}", "A".repeat(43) + "=")).expect("a key");
    let sealed = Sealed {
        key_version: 1,
        blob: data.to_vec(),
    };
    assert!(keyring.open(7, &sealed).is_none());
});
