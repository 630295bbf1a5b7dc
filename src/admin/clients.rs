//! The administrator's side of OpenID Connect: registering applications (clients) and
//! rotating the token-signing keys.

use rand::rngs::OsRng;

use super::{Admin, AdminError};
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::oidc::client::{GrantKind, SigningAlg, parse_registered_uri};
use crate::domain::token::Token;
use crate::signing_keys;
use crate::store::{Client, ClientOrg};

/// What `client create` asks for.
#[derive(Debug, Clone, Default)]
pub struct ClientRegistration {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub public: bool,
    pub first_party: bool,
    pub orgs: Vec<String>,
    pub id_token_alg: SigningAlg,
    pub grant: GrantKind,
}

/// A registered client and, for a confidential one, its secret: shown once, stored hashed.
pub struct RegisteredClient {
    pub client: Client,
    pub secret: Option<String>,
}

pub struct RotatedKey {
    pub alg: SigningAlg,
    pub kid: String,
    pub signs_from: i64,
}

fn uris(list: &[String]) -> Result<Vec<String>, AdminError> {
    list.iter()
        .map(|uri| {
            parse_registered_uri(uri)
                .map(|_| uri.clone())
                .map_err(|e| AdminError::Client(e.to_string()))
        })
        .collect()
}

/// What each kind of client must and must not register.
fn check_grant(registration: &ClientRegistration) -> Result<(), AdminError> {
    let refuse = |why: &str| Err(AdminError::Client(why.to_owned()));
    match registration.grant {
        GrantKind::AuthorizationCode if registration.redirect_uris.is_empty() => {
            refuse("at least one --redirect-uri is required")
        }
        GrantKind::AuthorizationCode => Ok(()),
        GrantKind::ClientCredentials => {
            if registration.orgs.is_empty() {
                // A machine client acts on organizations, never on all of them by default.
                refuse("a client-credentials client needs at least one --org it may manage")
            } else if registration.public {
                refuse("a client-credentials client has a secret: it cannot be --public")
            } else if !registration.redirect_uris.is_empty()
                || !registration.post_logout_redirect_uris.is_empty()
                || registration.backchannel_logout_uri.is_some()
                || registration.first_party
            {
                refuse(
                    "a client-credentials client logs no user in: no redirect or logout URIs, \
                     no --first-party",
                )
            } else {
                Ok(())
            }
        }
    }
}

impl Admin {
    pub async fn create_client(
        &self,
        registration: &ClientRegistration,
    ) -> Result<RegisteredClient, AdminError> {
        let name = registration.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(AdminError::Client(
                "--name: 1 to 100 characters, no line breaks".into(),
            ));
        }
        check_grant(registration)?;
        let mut orgs = Vec::new();
        for slug in &registration.orgs {
            let org = self.organization(slug).await?;
            orgs.push(ClientOrg {
                id: org.id,
                slug: org.slug,
            });
        }
        // A client secret is a 256-bit random value: SHA-256 is enough to store it (a slow
        // hash protects guessable passwords, not random keys).
        let secret = (!registration.public).then(|| Token::generate(&mut OsRng));
        let id = Token::generate(&mut OsRng);
        let client = Client {
            id: id.expose()[..22].to_owned(),
            name: name.to_owned(),
            secret_hash: secret.as_ref().map(Token::hash),
            redirect_uris: uris(&registration.redirect_uris)?,
            post_logout_redirect_uris: uris(&registration.post_logout_redirect_uris)?,
            backchannel_logout_uri: match &registration.backchannel_logout_uri {
                Some(uri) => uris(std::slice::from_ref(uri))?.pop(),
                None => None,
            },
            first_party: registration.first_party,
            id_token_alg: registration.id_token_alg,
            grant: registration.grant,
            orgs,
            created_at: self.clock.now(),
        };
        let audit = AuditRecord::new(
            client.created_at,
            AuditEvent::ClientCreated,
            Outcome::Success,
        )
        .detail(client.id.clone());
        self.store.create_client(&client, &audit).await?;
        Ok(RegisteredClient {
            client,
            secret: secret.map(|s| s.expose().to_owned()),
        })
    }

    pub async fn clients(&self) -> Result<Vec<Client>, AdminError> {
        Ok(self.store.clients().await?)
    }

    pub async fn client(&self, id: &str) -> Result<Client, AdminError> {
        self.store
            .client(id)
            .await?
            .ok_or_else(|| AdminError::UnknownClient(id.to_owned()))
    }

    /// A new secret for a confidential client; the old one stops working at once.
    pub async fn rotate_client_secret(&self, id: &str) -> Result<String, AdminError> {
        let client = self.client(id).await?;
        if client.is_public() {
            return Err(AdminError::Client(format!(
                "client {id:?} is public: it has no secret"
            )));
        }
        let secret = Token::generate(&mut OsRng);
        let audit = AuditRecord::new(
            self.clock.now(),
            AuditEvent::ClientSecretRotated,
            Outcome::Success,
        )
        .detail(id.to_owned());
        self.store
            .set_client_secret(id, &secret.hash(), &audit)
            .await?;
        Ok(secret.expose().to_owned())
    }

    /// Removes the client; its tokens stop working and its users' consents are gone.
    pub async fn remove_client(&self, id: &str) -> Result<(), AdminError> {
        let audit = AuditRecord::new(
            self.clock.now(),
            AuditEvent::ClientRemoved,
            Outcome::Success,
        )
        .detail(id.to_owned());
        if self.store.remove_client(id, &audit).await? {
            Ok(())
        } else {
            Err(AdminError::UnknownClient(id.to_owned()))
        }
    }

    /// Makes the next signing key of each algorithm. It is published at once and signs
    /// after `overlap_hours` (so applications that cache the JWKS have it by then); the keys
    /// it replaces stay published until the tokens they signed have expired.
    pub async fn rotate_signing_keys(
        &self,
        overlap_hours: u32,
    ) -> Result<Vec<RotatedKey>, AdminError> {
        let keyring = self
            .settings
            .keyring()
            .map_err(|e| AdminError::Client(e.to_string()))?;
        let now = self.clock.now();
        let signs_from = now + i64::from(overlap_hours) * 3600;
        let retire_until = signs_from + self.settings.access_token_seconds();
        let mut rotated = Vec::new();
        for alg in SigningAlg::ALL {
            let audit = AuditRecord::new(now, AuditEvent::SigningKeyAdded, Outcome::Success)
                .detail(alg.as_str());
            let kid = signing_keys::add_key(
                self.store.as_ref(),
                &keyring,
                alg,
                now,
                signs_from,
                Some(retire_until),
                Some(&audit),
            )
            .await
            .map_err(|e| match e {
                signing_keys::KeyError::Store(e) => AdminError::Store(e),
                other => AdminError::Client(other.to_string()),
            })?;
            rotated.push(RotatedKey {
                alg,
                kid,
                signs_from,
            });
        }
        Ok(rotated)
    }
}
