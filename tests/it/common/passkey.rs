//! The passkey side of the tests: an independent software authenticator and client
//! (1Password's passkey-authenticator and passkey-client, not webauthn-rs), fed with the
//! options a passkey page carries, as the browser's script would be.

#![allow(dead_code)]

use passkey_authenticator::{Authenticator, UiHint, UserCheck, UserValidationMethod};
use passkey_client::{Client, DefaultClientData};
use passkey_crypto::AvailableBackend;
use passkey_types::Passkey;
use passkey_types::ctap2::{Aaguid, Ctap2Error};
use passkey_types::webauthn::{CredentialCreationOptions, CredentialRequestOptions};

use super::PUBLIC_URL;

/// The user touches the sensor and passes its PIN or fingerprint check, every time.
pub struct AlwaysVerified;

#[async_trait::async_trait]
impl UserValidationMethod for AlwaysVerified {
    type PasskeyItem = Passkey;

    async fn check_user<'a>(
        &self,
        _hint: UiHint<'a, Passkey>,
        _presence: bool,
        _verification: bool,
    ) -> Result<UserCheck, Ctap2Error> {
        Ok(UserCheck {
            presence: true,
            verification: true,
        })
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        Some(true)
    }
}

/// A device with one passkey: discoverable, with a signature counter.
pub struct Device {
    client: Client<
        Option<Passkey>,
        AlwaysVerified,
        AvailableBackend,
        public_suffix::PublicSuffixList,
        (),
    >,
}

impl Default for Device {
    fn default() -> Self {
        Device::new()
    }
}

impl Device {
    pub fn new() -> Device {
        let mut authenticator =
            Authenticator::new(Aaguid::new_empty(), None, AlwaysVerified, AvailableBackend);
        authenticator.set_make_credentials_with_signature_counter(true);
        Device {
            client: Client::new(authenticator).allows_insecure_localhost(true),
        }
    }

    fn origin() -> url::Url {
        url::Url::parse(PUBLIC_URL).unwrap()
    }

    /// `navigator.credentials.create` with a page's options; the answer as the script sends it.
    pub async fn create(&mut self, options: &str) -> String {
        let options: CredentialCreationOptions = serde_json::from_str(options).unwrap();
        let created = self
            .client
            .register(&Self::origin(), options, DefaultClientData)
            .await
            .expect("the authenticator makes a credential");
        as_the_script_sends_it(serde_json::to_value(&created).unwrap())
    }

    /// `navigator.credentials.get` with a page's options.
    pub async fn get(&mut self, options: &str) -> String {
        self.sign(options, false).await
    }

    /// Signs with its passkey whatever credentials the options allow: a client changed by
    /// an attacker, to present a credential the server did not ask for.
    pub async fn get_any(&mut self, options: &str) -> String {
        self.sign(options, true).await
    }

    async fn sign(&mut self, options: &str, any: bool) -> String {
        let mut options: serde_json::Value = serde_json::from_str(options).unwrap();
        let allowed = &mut options["publicKey"];
        // No list (or an empty one: discoverable credentials) lets the device pick its own.
        if any
            || allowed["allowCredentials"]
                .as_array()
                .is_some_and(|a| a.is_empty())
        {
            allowed.as_object_mut().unwrap().remove("allowCredentials");
        }
        let options: CredentialRequestOptions = serde_json::from_value(options).unwrap();
        let asserted = self
            .client
            .authenticate(&Self::origin(), options, DefaultClientData)
            .await
            .expect("the authenticator signs");
        as_the_script_sends_it(serde_json::to_value(&asserted).unwrap())
    }

    /// The device's credentials now (to copy it: a cloned authenticator).
    pub fn snapshot(&self) -> Option<Passkey> {
        self.client.authenticator().store().clone()
    }

    pub fn restore(&mut self, store: Option<Passkey>) {
        *self.client.authenticator_mut().store_mut() = store;
    }
}

/// The ceremony id and the options (JSON) a passkey page's form carries.
pub fn ceremony_of(html: &str) -> (String, String) {
    let attribute = |name: &str| {
        let start = html.find(&format!("{name}=\"")).expect(name) + name.len() + 2;
        let end = start + html[start..].find('"').unwrap();
        html[start..end]
            .replace("&#34;", "\"")
            .replace("&#39;", "'")
            .replace("&#60;", "<")
            .replace("&#62;", ">")
            .replace("&quot;", "\"")
            .replace("&#38;", "&")
            .replace("&amp;", "&")
    };
    let id = {
        let marker = "name=\"ceremony\" value=\"";
        let start = html.find(marker).expect("a ceremony") + marker.len();
        let end = start + html[start..].find('"').unwrap();
        html[start..end].to_owned()
    };
    (id, attribute("data-options"))
}

/// The client library writes binary members as arrays of numbers; the page's script (and
/// WebAuthn's JSON form) writes them base64url-encoded.
fn as_the_script_sends_it(mut answer: serde_json::Value) -> String {
    use base64::Engine;
    fn walk(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(members) => {
                for (key, member) in members.iter_mut() {
                    let binary = [
                        "rawId",
                        "clientDataJSON",
                        "authenticatorData",
                        "attestationObject",
                        "signature",
                        "userHandle",
                        "publicKey",
                    ];
                    if binary.contains(&key.as_str()) {
                        if let serde_json::Value::Array(numbers) = member {
                            let bytes: Vec<u8> =
                                numbers.iter().map(|n| n.as_u64().unwrap() as u8).collect();
                            *member = serde_json::Value::String(
                                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
                            );
                        }
                    } else {
                        walk(member);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut answer);
    answer.to_string()
}
