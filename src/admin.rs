//! What an administrator does: create organizations, set their password policy, invite users.
//! The CLI is a thin shell around this; tests call it directly.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::domain::account::{DisplayName, EmailAddress, InvalidInput, OrgSlug, Username};
use crate::domain::lang::Lang;
use crate::domain::password::{PasswordPolicy, PolicyError};
use crate::domain::token::Token;
use crate::mail::compose::{self, ComposeError};
use crate::store::{NewInvitation, NewOrganization, Organization, Store, StoreError, User};
use crate::web::i18n::Texts;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Input(#[from] InvalidInput),
    #[error("password policy: {0}")]
    Policy(#[from] PolicyError),
    #[error("no organization with slug {0:?}")]
    UnknownOrganization(String),
    #[error("an organization with slug {0:?} already exists")]
    OrganizationExists(String),
    #[error("username {0:?} is taken by an account of another organization")]
    UsernameTaken(String),
    #[error("user {0:?} has already activated the account; an invitation is not needed")]
    AlreadyActive(String),
    #[error("organization {org:?} has no user {username:?}")]
    UnknownUser { org: String, username: String },
    #[error(transparent)]
    Compose(#[from] ComposeError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct Admin {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) settings: Arc<Settings>,
    pub(crate) clock: SharedClock,
    /// Wakes this process's outbox worker (if it runs one) when mail is queued.
    pub(crate) outbox_wake: Arc<Notify>,
}

/// The result of an invitation: the user and the link that was mailed to them.
pub struct Invited {
    pub user: User,
    pub link: String,
    pub expires_at: i64,
}

impl Admin {
    /// An administrator's handle on `store` (the CLI, the benchmark). Mail it queues is sent
    /// by a running server's outbox worker.
    pub fn new(store: Arc<dyn Store>, settings: Arc<Settings>, clock: SharedClock) -> Admin {
        Admin {
            store,
            settings,
            clock,
            outbox_wake: Arc::new(Notify::new()),
        }
    }

    pub async fn create_organization(
        &self,
        slug: &str,
        name: &str,
        lang: Lang,
        policy: PasswordPolicy,
    ) -> Result<Organization, AdminError> {
        let slug = OrgSlug::parse(slug)?;
        let name = DisplayName::parse(name)?;
        let new = NewOrganization {
            slug: slug.as_str().to_owned(),
            name: name.as_str().to_owned(),
            lang,
            policy,
            now: self.clock.now(),
        };
        match self.store.create_organization(&new).await {
            Err(StoreError::Conflict(_)) => Err(AdminError::OrganizationExists(new.slug)),
            other => Ok(other?),
        }
    }

    pub async fn organization(&self, slug: &str) -> Result<Organization, AdminError> {
        let slug = OrgSlug::parse(slug)?;
        self.store
            .organization_by_slug(slug.as_str())
            .await?
            .ok_or_else(|| AdminError::UnknownOrganization(slug.as_str().to_owned()))
    }

    pub async fn set_policy(
        &self,
        slug: &str,
        policy: PasswordPolicy,
    ) -> Result<Organization, AdminError> {
        let org = self.organization(slug).await?;
        self.store.set_policy(org.id, &policy).await?;
        Ok(Organization { policy, ..org })
    }

    pub async fn users(&self, slug: &str) -> Result<Vec<User>, AdminError> {
        let org = self.organization(slug).await?;
        Ok(self.store.users_of_organization(org.id).await?)
    }

    /// Invites a new user, or sends a still-invited user a new link (the old one stops
    /// working). The mail is queued in the same transaction and sent by the outbox worker.
    pub async fn invite(
        &self,
        org_slug: &str,
        username: &str,
        email: &str,
        display_name: &str,
    ) -> Result<Invited, AdminError> {
        let org = self.organization(org_slug).await?;
        let username = Username::parse(username)?;
        let email = EmailAddress::parse(email)?;
        let display_name = DisplayName::parse(display_name)?;
        let token = Token::generate(&mut rand::rngs::OsRng);
        let link = self.settings.link(&format!("/invite/{}", token.expose()));
        let ttl_hours = self.settings.invitation_ttl_hours;
        let mail = compose::invitation(
            &self.settings.mail_from,
            &email,
            &compose::Invitation {
                lang: org.lang,
                service_name: &self.settings.service_name,
                org_name: &org.name,
                display_name: &display_name,
                username: username.as_str(),
                link: &link,
                valid_days: ttl_hours.div_ceil(24),
            },
        )?;
        let now = self.clock.now();
        let expires_at = now + i64::from(ttl_hours) * 3600;
        let invitation = NewInvitation {
            org_id: org.id,
            username: username.as_str().to_owned(),
            email: email.as_str().to_owned(),
            display_name: display_name.as_str().to_owned(),
            token_hash: token.hash(),
            expires_at,
            now,
        };
        let user = match self.store.invite_user(&invitation, &mail).await {
            Err(StoreError::Conflict(_)) => {
                return Err(AdminError::UsernameTaken(invitation.username));
            }
            Err(StoreError::AlreadyActive) => {
                return Err(AdminError::AlreadyActive(invitation.username));
            }
            other => other?,
        };
        self.outbox_wake.notify_one();
        tracing::info!(user_id = user.id, org = %org.slug, "invitation queued");
        Ok(Invited {
            user,
            link,
            expires_at,
        })
    }

    /// Removes a user's authenticator app (lost phone): the next login sets it up again. Ends
    /// every session of the user and tells them by e-mail.
    pub async fn reset_two_step(&self, org_slug: &str, username: &str) -> Result<bool, AdminError> {
        let org = self.organization(org_slug).await?;
        let username = Username::parse(username)?;
        let unknown = || AdminError::UnknownUser {
            org: org.slug.clone(),
            username: username.as_str().to_owned(),
        };
        let user = self
            .store
            .login_candidate(username.as_str())
            .await?
            .map(|c| c.user)
            // The organization is checked: one organization cannot reach another's users.
            .filter(|u| u.org_id == org.id)
            .ok_or_else(unknown)?;
        let t = Texts::of(org.lang);
        let notice = compose::notice(
            &self.settings.mail_from,
            compose::mailbox(&user.display_name, &user.email)?,
            org.lang,
            &self.settings.service_name,
            t.reset_subject,
            &t.fill(t.reset_body, &user.username),
        )?;
        let removed = self
            .store
            .reset_totp(user.id, &notice, self.clock.now())
            .await?;
        self.outbox_wake.notify_one();
        tracing::info!(user_id = user.id, org = %org.slug, removed, "two-step verification reset");
        Ok(removed)
    }
}
