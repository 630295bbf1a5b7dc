//! The WebAuthn ceremonies, done by webauthn-rs (reviewed, used by Kanidm): challenges,
//! origin and relying-party checks, signatures, user verification and the signature counter.
//! This module only turns our settings and stored rows into its calls and its answers into
//! our types; the rules around passkeys are in `domain::passkey`, storage in `store`.
//!
//! A ceremony's state (which holds its challenge) is serialised to JSON and kept in the
//! database, so the answer may reach any instance behind the load balancer.

use serde_json::Value;
use url::Url;
use webauthn_rs::prelude::{
    AuthenticationResult, CreationChallengeResponse, Credential, CredentialID,
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Uuid, Webauthn,
    WebauthnBuilder, WebauthnError,
};
use webauthn_rs_proto::{AuthenticatorSelectionCriteria, ResidentKeyRequirement};

use crate::domain::passkey::CEREMONY_SECONDS;

/// This service as a WebAuthn relying party: its id is the host of `public_url`.
pub struct RelyingParty {
    webauthn: Webauthn,
}

/// A passkey as stored: its row id and webauthn-rs's credential.
#[derive(Debug, Clone)]
pub struct StoredCredential {
    pub id: i64,
    pub credential: Credential,
}

/// A credential the authenticator just made, ready to store.
#[derive(Debug, Clone)]
pub struct NewCredential {
    pub credential_id: Vec<u8>,
    pub credential: Credential,
}

/// A credential that passed an authentication: its row and its state after the use.
#[derive(Debug, Clone)]
pub struct UsedCredential {
    pub id: i64,
    /// The counter the check was made against (the store updates only over it).
    pub previous_counter: u32,
    pub credential: Credential,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CeremonyError {
    /// The browser's answer is not a WebAuthn response (or the state is unreadable).
    #[error("malformed response")]
    Malformed,
    /// The credential is not one of this user's (or no one's).
    #[error("unknown credential")]
    UnknownCredential,
    /// The signature counter did not go up: possibly a cloned authenticator.
    #[error("signature counter went back")]
    CounterWentBack,
    /// Any other failed check: challenge, origin, relying party, signature, user verification.
    #[error("refused: {0}")]
    Refused(String),
}

impl From<WebauthnError> for CeremonyError {
    fn from(error: WebauthnError) -> CeremonyError {
        match error {
            WebauthnError::CredentialPossibleCompromise => CeremonyError::CounterWentBack,
            other => CeremonyError::Refused(other.to_string()),
        }
    }
}

/// Options for the browser (`navigator.credentials.create/get`) and the state to keep.
pub struct Started {
    pub options: Value,
    pub state: String,
}

fn started<O: serde::Serialize, S: serde::Serialize>(
    options: &O,
    state: &S,
) -> anyhow::Result<Started> {
    Ok(Started {
        options: serde_json::to_value(options)?,
        state: serde_json::to_string(state)?,
    })
}

fn state_of<S: serde::de::DeserializeOwned>(state: &str) -> Result<S, CeremonyError> {
    serde_json::from_str(state).map_err(|_| CeremonyError::Malformed)
}

impl RelyingParty {
    /// `None` where WebAuthn cannot work: a `public_url` whose host is an IP address (browsers
    /// accept only domain names as relying-party ids).
    pub fn for_public_url(public_url: &Url, name: &str) -> Option<RelyingParty> {
        let rp_id = public_url.domain()?;
        let webauthn = WebauthnBuilder::new(rp_id, public_url)
            .ok()?
            .rp_name(name)
            .timeout(std::time::Duration::from_secs(CEREMONY_SECONDS as u64))
            .build()
            .ok()?;
        Some(RelyingParty { webauthn })
    }

    /// "Passkey toevoegen": user verification required, attestation `none`, the user's
    /// passkeys excluded (the same authenticator twice is refused by the browser). A
    /// discoverable credential is asked for where the authenticator can keep one, so that it
    /// also works for "Inloggen met een passkey".
    pub fn start_registration(
        &self,
        handle: Uuid,
        username: &str,
        display_name: &str,
        existing: &[StoredCredential],
    ) -> anyhow::Result<Started> {
        let exclude: Vec<CredentialID> = existing
            .iter()
            .map(|c| c.credential.cred_id.clone())
            .collect();
        let (mut options, state): (CreationChallengeResponse, PasskeyRegistration) =
            self.webauthn.start_passkey_registration(
                handle,
                username,
                display_name,
                (!exclude.is_empty()).then_some(exclude),
            )?;
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            *selection = AuthenticatorSelectionCriteria {
                resident_key: Some(ResidentKeyRequirement::Preferred),
                require_resident_key: false,
                ..selection.clone()
            };
        }
        started(&options, &state)
    }

    pub fn finish_registration(
        &self,
        response: &str,
        state: &str,
    ) -> Result<NewCredential, CeremonyError> {
        let response: RegisterPublicKeyCredential =
            serde_json::from_str(response).map_err(|_| CeremonyError::Malformed)?;
        let state: PasskeyRegistration = state_of(state)?;
        let passkey = self
            .webauthn
            .finish_passkey_registration(&response, &state)?;
        let credential = Credential::from(passkey);
        Ok(NewCredential {
            credential_id: credential.cred_id.to_vec(),
            credential,
        })
    }

    /// PASSKEY as the second step: only the user's own credentials are allowed.
    pub fn start_second_step(&self, passkeys: &[StoredCredential]) -> anyhow::Result<Started> {
        let keys: Vec<Passkey> = passkeys
            .iter()
            .map(|c| Passkey::from(c.credential.clone()))
            .collect();
        let (options, state): (RequestChallengeResponse, PasskeyAuthentication) =
            self.webauthn.start_passkey_authentication(&keys)?;
        started(&options, &state)
    }

    pub fn finish_second_step(
        &self,
        response: &str,
        state: &str,
        passkeys: &[StoredCredential],
    ) -> Result<UsedCredential, CeremonyError> {
        let response: PublicKeyCredential =
            serde_json::from_str(response).map_err(|_| CeremonyError::Malformed)?;
        let state: PasskeyAuthentication = state_of(state)?;
        // Checked here too (webauthn-rs checks the allowed list): a credential of someone
        // else is "unknown", not a failed signature.
        let stored = passkeys
            .iter()
            .find(|c| c.credential.cred_id.as_slice() == response.get_credential_id())
            .ok_or(CeremonyError::UnknownCredential)?;
        let result = self
            .webauthn
            .finish_passkey_authentication(&response, &state)?;
        Ok(used(stored, &result))
    }

    /// "Inloggen met een passkey": no user is known yet; the authenticator picks the
    /// credential and sends its user handle back.
    pub fn start_login(&self) -> anyhow::Result<Started> {
        let (mut options, state): (RequestChallengeResponse, DiscoverableAuthentication) =
            self.webauthn.start_discoverable_authentication()?;
        // The page asks on a button press (a modal dialog), not through autofill.
        options.mediation = None;
        started(&options, &state)
    }

    /// The user handle and credential id a passkey login's answer names (not yet checked).
    pub fn identify(&self, response: &str) -> Result<(Uuid, Vec<u8>), CeremonyError> {
        let response: PublicKeyCredential =
            serde_json::from_str(response).map_err(|_| CeremonyError::Malformed)?;
        let (handle, credential_id) = self
            .webauthn
            .identify_discoverable_authentication(&response)
            .map_err(|_| CeremonyError::UnknownCredential)?;
        Ok((handle, credential_id.to_vec()))
    }

    pub fn finish_login(
        &self,
        response: &str,
        state: &str,
        stored: &StoredCredential,
    ) -> Result<UsedCredential, CeremonyError> {
        let response: PublicKeyCredential =
            serde_json::from_str(response).map_err(|_| CeremonyError::Malformed)?;
        let state: DiscoverableAuthentication = state_of(state)?;
        let result = self.webauthn.finish_discoverable_authentication_v2(
            &response,
            state,
            &stored.credential,
        )?;
        Ok(used(stored, &result))
    }
}

fn used(stored: &StoredCredential, result: &AuthenticationResult) -> UsedCredential {
    let mut passkey = Passkey::from(stored.credential.clone());
    passkey.update_credential(result);
    UsedCredential {
        id: stored.id,
        previous_counter: stored.credential.counter,
        credential: Credential::from(passkey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ip_address_cannot_be_a_relying_party() {
        let ip: Url = "http://127.0.0.1:8080".parse().unwrap();
        assert!(RelyingParty::for_public_url(&ip, "Poortwachter").is_none());
        let host: Url = "https://login.example.nl".parse().unwrap();
        assert!(RelyingParty::for_public_url(&host, "Poortwachter").is_some());
    }

    #[test]
    fn registration_asks_for_a_discoverable_verified_credential_without_attestation() {
        let url: Url = "https://login.example.nl".parse().unwrap();
        let rp = RelyingParty::for_public_url(&url, "Poortwachter").unwrap();
        let started = rp
            .start_registration(Uuid::from_u128(7), "jan", "Jan", &[])
            .unwrap();
        let options = &started.options["publicKey"];
        assert_eq!(options["rp"]["id"], "login.example.nl");
        assert_eq!(options["attestation"], "none");
        let selection = &options["authenticatorSelection"];
        assert_eq!(selection["userVerification"], "required");
        assert_eq!(selection["residentKey"], "preferred");
        assert_eq!(options["timeout"], 300_000);
        // The state holds the challenge the answer must sign.
        let challenge = options["challenge"].as_str().unwrap();
        assert!(started.state.contains(challenge));
    }

    #[test]
    fn garbage_is_malformed_not_a_crash() {
        let url: Url = "https://login.example.nl".parse().unwrap();
        let rp = RelyingParty::for_public_url(&url, "Poortwachter").unwrap();
        let login = rp.start_login().unwrap();
        assert_eq!(rp.identify("{}"), Err(CeremonyError::Malformed));
        assert!(matches!(
            rp.finish_registration("not json", &login.state),
            Err(CeremonyError::Malformed)
        ));
    }
}
