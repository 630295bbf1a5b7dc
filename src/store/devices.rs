//! Remembered devices (Dit apparaat onthouden): browsers that may skip the code step of a
//! login for a while, never the password. The browser holds a random id in a cookie; the
//! store keeps its SHA-256 digest.

use async_trait::async_trait;

use super::{StoreResult, UserId};
use crate::domain::audit::AuditRecord;
use crate::domain::token::TokenHash;

/// A browser to remember, written with the login step that asked for it.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub id_hash: TokenHash,
    pub user: UserId,
    /// "Firefox, Windows": how the account page names it.
    pub browser: String,
    pub expires_at: i64,
}

/// A remembered browser as its user sees it on the account page.
#[derive(Debug, Clone)]
pub struct RememberedDevice {
    pub id_hash: TokenHash,
    pub browser: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
}

#[async_trait]
pub trait DeviceStore: Send + Sync + 'static {
    /// Whether the browser with this id may skip the code step for `user` now: remembered
    /// for this user, not expired, the organization still allows it, and the user's app is
    /// active. A yes is recorded as the device's last use.
    async fn device_skips_code(&self, id: &TokenHash, user: UserId, now: i64) -> StoreResult<bool>;
    async fn devices_of_user(&self, user: UserId) -> StoreResult<Vec<RememberedDevice>>;
    /// Forgets one of the user's devices (only theirs); false if there was none.
    async fn forget_device(
        &self,
        user: UserId,
        id: &TokenHash,
        audit: &AuditRecord,
    ) -> StoreResult<bool>;
}
