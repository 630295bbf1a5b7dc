//! What the services below the HTTP layer work with (the login service, the pages' and the
//! API's use of the store): the store, the settings, the password hasher, the clock, the
//! keyring, and the wake-ups of the background workers. The HTTP kit's `AppState` holds one
//! and adds what only HTTP needs (cookie names, signing keys, the API's rate limiter).

use std::sync::Arc;

use tokio::sync::Notify;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::hashing::{HashError, PasswordHasher};
use crate::keyring::Keyring;
use crate::store::{Store, StoreError};

#[derive(Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
    pub hasher: PasswordHasher,
    pub clock: SharedClock,
    /// Encrypts and decrypts the TOTP secrets.
    pub keyring: Arc<Keyring>,
    /// Wakes the outbox worker when mail is queued.
    pub outbox_wake: Arc<Notify>,
    /// Wakes the back-channel logout sender when a session ends here.
    pub logout_wake: Arc<Notify>,
}

/// Why a service could not answer: the web layer turns each into its page (503 for a busy
/// hasher or an unreachable database, 500 for the rest, logged and never shown).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<crate::mail::compose::ComposeError> for ServiceError {
    fn from(e: crate::mail::compose::ComposeError) -> Self {
        ServiceError::Internal(e.into())
    }
}
