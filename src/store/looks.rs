//! An organization's own look, as stored: what `domain::look` checked, read by the pages
//! and mails of that organization.

use async_trait::async_trait;

use super::{OrgId, StoreResult};
use crate::domain::audit::AuditRecord;

/// The look of one organization; a part left out is Poortwachter's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgLook {
    /// `#rrggbb`, with white text readable on it.
    pub accent: Option<String>,
    pub sender_name: Option<String>,
    /// The logo's content hash (its address), when there is one.
    pub logo_hash: Option<String>,
}

impl OrgLook {
    pub fn is_empty(&self) -> bool {
        self.accent.is_none() && self.sender_name.is_none() && self.logo_hash.is_none()
    }
}

/// What a change sets: `None` leaves a part as it is, `Some(None)` takes it away.
#[derive(Debug, Clone, Default)]
pub struct LookChange {
    /// The organization's name as users read it.
    pub name: Option<String>,
    pub accent: Option<Option<String>>,
    pub sender_name: Option<Option<String>>,
    /// The PNG and its hash.
    pub logo: Option<Option<(Vec<u8>, String)>>,
}

/// Where a logo is served: under its content hash, so it may be cached for good.
pub fn logo_path(hash: &str) -> String {
    format!("/look/{hash}.png")
}

#[async_trait]
pub trait LookStore: Send + Sync + 'static {
    /// Applies `change` to the organization's look, with its audit line.
    async fn change_look(
        &self,
        org: OrgId,
        change: &LookChange,
        now: i64,
        audit: &AuditRecord,
    ) -> StoreResult<OrgLook>;
    /// The organization's name with its look, for a mail composed where only the user's
    /// organization id is at hand.
    async fn named_look(&self, org: OrgId) -> StoreResult<(String, OrgLook)>;
    /// The logo stored under `hash`, if any.
    async fn logo(&self, hash: &str) -> StoreResult<Option<Vec<u8>>>;
}
