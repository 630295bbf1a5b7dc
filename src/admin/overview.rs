//! Users as an administrator sees them (status, onboarding, last login), and the
//! beheerder role.

use super::{Admin, AdminError};
use crate::domain::audit::AuditEvent;
use crate::store::{Role, UserOverview};

impl Admin {
    /// Every user of the organization, oldest account first.
    pub async fn user_overviews(&self, org_slug: &str) -> Result<Vec<UserOverview>, AdminError> {
        let org = self.organization(org_slug).await?;
        Ok(self.store.user_overviews(org.id, None).await?)
    }

    /// One user of the organization; a user of another organization is not found.
    pub async fn user_overview(
        &self,
        org_slug: &str,
        username: &str,
    ) -> Result<UserOverview, AdminError> {
        let (org, user) = self.user_of(org_slug, username).await?;
        self.store
            .user_overviews(org.id, Some(&user.username))
            .await?
            .pop()
            .ok_or_else(|| AdminError::UnknownUser {
                org: org.slug,
                username: user.username,
            })
    }

    /// Gives the user the beheerder role of their organization, or takes it away; false
    /// when it already was so.
    pub async fn set_beheerder(
        &self,
        org_slug: &str,
        username: &str,
        granted: bool,
    ) -> Result<bool, AdminError> {
        let (_, user) = self.user_of(org_slug, username).await?;
        let event = if granted {
            AuditEvent::RoleGranted
        } else {
            AuditEvent::RoleRevoked
        };
        let mut audit = self.audit(event, &user);
        audit.detail =
            Some(format!("{}: {}", self.actor.describe(), Role::Beheerder.as_str()).into());
        Ok(self
            .store
            .set_role(user.id, Role::Beheerder, granted, &audit)
            .await?)
    }
}
