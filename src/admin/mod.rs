//! What an administrator does: create organizations, set their password policy, invite users.
//! The CLI is a thin shell around this; tests call it directly.

mod access;
mod actor;
mod batch;
mod clients;
mod looks;
mod overview;
mod webhooks;

pub use access::{AccessLine, LookAheadPass, describe, parse_moment, readiness_for};
pub use actor::Actor;
pub use batch::{BatchResult, PreparedBatch};
pub use clients::{ClientRegistration, RegisteredClient, RotatedKey};
pub use looks::LookRequest;
pub use webhooks::{CreatedWebhook, DEFAULT_ROTATION_OVERLAP_HOURS, MAX_REPLAY_DAYS};

use std::sync::Arc;

use tokio::sync::Notify;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::domain::account::{DisplayName, EmailAddress, InvalidInput, OrgSlug, Username};
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::bulk_invite::NewUser;
use crate::domain::lang::Lang;
use crate::domain::password::{PasswordPolicy, PolicyError};
use crate::domain::recovery::MAX_REMEMBER_DAYS;
use crate::domain::throttle::Subject;
use crate::mail::compose::{self, ComposeError};
use crate::reset_link::{self, IssueError, Issued};
use crate::store::{
    AuditEntry, AuditFilter, InvitationWithMail, NewOrganization, Organization, ResetCandidate,
    ResetRequester, SelfService, SessionSummary, Settlement, Store, StoreError, User, UserSummary,
};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Input(#[from] InvalidInput),
    #[error("{0}")]
    Expectation(#[from] crate::domain::expected_login::ExpectationError),
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
    #[error("a user is named together with their organization (--org)")]
    UserWithoutOrganization,
    #[error("no client with id {0:?}")]
    UnknownClient(String),
    #[error("{0}")]
    Client(String),
    #[error("{0}")]
    Setting(String),
    #[error("no webhook subscription {0:?}")]
    UnknownWebhook(String),
    #[error("{0}")]
    Webhook(String),
    #[error(transparent)]
    Look(#[from] crate::domain::look::LookError),
    #[error(transparent)]
    Compose(#[from] ComposeError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether the self-service settings are within their bounds.
pub fn check_self_service(self_service: &SelfService) -> Result<(), AdminError> {
    if self_service.remember_device_days > MAX_REMEMBER_DAYS {
        return Err(AdminError::Setting(format!(
            "remember-device-days is at most {MAX_REMEMBER_DAYS}"
        )));
    }
    Ok(())
}

#[derive(Clone)]
pub struct Admin {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) settings: Arc<Settings>,
    pub(crate) clock: SharedClock,
    /// Wakes this process's outbox worker (if it runs one) when mail is queued.
    pub(crate) outbox_wake: Arc<Notify>,
    /// Who acts: every audit line of an action names them.
    pub(crate) actor: Actor,
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
            actor: Actor::Operator,
        }
    }

    /// The same handle, waking `outbox_wake` (a running server's outbox worker) when it
    /// queues mail.
    pub fn with_outbox(self, outbox_wake: Arc<Notify>) -> Admin {
        Admin {
            outbox_wake,
            ..self
        }
    }

    /// The same handle, acting as `actor` (a machine client, a beheerder).
    pub fn acting_as(&self, actor: Actor) -> Admin {
        Admin {
            actor,
            ..self.clone()
        }
    }

    /// An audit line about the organization `org` by this actor.
    fn org_audit(&self, event: AuditEvent, org: &Organization, detail: &str) -> AuditRecord {
        let mut record = AuditRecord::new(self.clock.now(), event, Outcome::Success)
            .detail(format!("{}: {detail}", self.actor.describe()));
        record.org_id = Some(org.id);
        record
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
        let audit = self.org_audit(AuditEvent::PolicyChanged, &org, "password policy");
        self.store.record_audit(&[audit]).await?;
        Ok(Organization { policy, ..org })
    }

    /// Changes what the organization's users may do for themselves (reset, remember device).
    pub async fn set_self_service(
        &self,
        slug: &str,
        self_service: SelfService,
    ) -> Result<Organization, AdminError> {
        let org = self.organization(slug).await?;
        check_self_service(&self_service)?;
        self.store.set_self_service(org.id, &self_service).await?;
        let detail = format!(
            "self-service reset {}, remember device {} days",
            if self_service.reset { "on" } else { "off" },
            self_service.remember_device_days
        );
        let audit = self.org_audit(AuditEvent::PolicyChanged, &org, &detail);
        self.store.record_audit(&[audit]).await?;
        Ok(Organization {
            self_service,
            ..org
        })
    }

    /// Changes what the organization allows or requires of passkeys. `require_passkey`
    /// switched on starts the grace period of `grace_days` from now (an earlier start is
    /// kept when it is already on); switched off, passkeys are optional again.
    pub async fn set_passkey_policy(
        &self,
        slug: &str,
        login: Option<bool>,
        require_passkey: Option<bool>,
        grace_days: Option<u16>,
    ) -> Result<Organization, AdminError> {
        use crate::domain::passkey::{DEFAULT_GRACE_DAYS, MAX_GRACE_DAYS};
        let org = self.organization(slug).await?;
        let days = grace_days.unwrap_or(DEFAULT_GRACE_DAYS);
        if days > MAX_GRACE_DAYS {
            return Err(AdminError::Setting(format!(
                "passkey-grace-days is at most {MAX_GRACE_DAYS}"
            )));
        }
        let now = self.clock.now();
        let required_from = match require_passkey {
            Some(false) => None,
            // A new number of days moves the start; without one, an earlier start stays.
            Some(true) => match (org.passkeys.required_from, grace_days) {
                (Some(from), None) => Some(from),
                _ => Some(now + i64::from(days) * 24 * 60 * 60),
            },
            None => org.passkeys.required_from,
        };
        let passkeys = crate::domain::passkey::PasskeyPolicy {
            login: login.unwrap_or(org.passkeys.login),
            required_from,
        };
        self.store.set_passkey_policy(org.id, &passkeys).await?;
        let detail = format!(
            "passkey login {}, passkeys required {}",
            if passkeys.login { "on" } else { "off" },
            match passkeys.required_from {
                Some(from) => format!("from {from}"),
                None => "no".into(),
            }
        );
        let audit = self.org_audit(AuditEvent::PolicyChanged, &org, &detail);
        self.store.record_audit(&[audit]).await?;
        Ok(Organization { passkeys, ..org })
    }

    /// Sends the user a password reset link, as "Wachtwoord vergeten?" would but never
    /// limited, and also where the organization switched self-service reset off.
    pub async fn send_reset_link(
        &self,
        org_slug: &str,
        username: &str,
    ) -> Result<Issued, AdminError> {
        let (org, user) = self.user_of(org_slug, username).await?;
        let candidate = ResetCandidate { user, org };
        let issued = reset_link::issue(
            self.store.as_ref(),
            &self.settings,
            &candidate,
            ResetRequester::Administrator,
            None,
            self.clock.now(),
        )
        .await
        .map_err(|e| match e {
            IssueError::Compose(e) => AdminError::Compose(e),
            IssueError::Store(e) => AdminError::Store(e),
        })?;
        self.outbox_wake.notify_one();
        Ok(issued)
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
        let new_user = NewUser {
            username: Username::parse(username)?,
            email: EmailAddress::parse(email)?,
            display_name: DisplayName::parse(display_name)?,
        };
        let now = self.clock.now();
        let from = crate::mail::sender::Sender::of(&self.settings, &org);
        let (InvitationWithMail { invitation, mail }, link) =
            self.prepare_invitation(&org, &new_user, &from, now)?;
        let expires_at = invitation.expires_at;
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
        let record = AuditRecord::new(now, AuditEvent::InvitationSent, Outcome::Success)
            .user(org.id, user.id, &user.username)
            .detail(self.actor.describe());
        self.store.record_audit(&[record]).await?;
        Ok(Invited {
            user,
            link,
            expires_at,
        })
    }

    /// The user `username` of the organization `org_slug`. Every command on a user goes
    /// through here: a user of another organization is "not found", never touched.
    pub async fn user_of(
        &self,
        org_slug: &str,
        username: &str,
    ) -> Result<(Organization, User), AdminError> {
        let org = self.organization(org_slug).await?;
        let username = Username::parse(username)?;
        let user = self
            .store
            .login_candidate(username.as_str())
            .await?
            .map(|c| c.user)
            .filter(|u| u.org_id == org.id)
            .ok_or_else(|| AdminError::UnknownUser {
                org: org.slug.clone(),
                username: username.as_str().to_owned(),
            })?;
        Ok((org, user))
    }

    /// An audit line for an administrator's action on `user`.
    fn audit(&self, event: AuditEvent, user: &User) -> AuditRecord {
        AuditRecord::new(self.clock.now(), event, Outcome::Success)
            .user(user.org_id, user.id, &user.username)
            .detail(self.actor.describe())
    }

    /// Removes a user's authenticator app (lost phone): the next login sets it up again. Ends
    /// every session of the user and tells them by e-mail. The reason, when given (the
    /// console requires one), is kept in the audit line.
    pub async fn reset_two_step(
        &self,
        org_slug: &str,
        username: &str,
        reason: Option<&str>,
    ) -> Result<bool, AdminError> {
        let (org, user) = self.user_of(org_slug, username).await?;
        let mut audit = self.audit(AuditEvent::TwoStepReset, &user);
        if let Some(reason) = reason {
            let reason: String = reason
                .chars()
                .filter(|c| !c.is_control())
                .take(500)
                .collect();
            audit.detail = Some(format!("{}: {}", self.actor.describe(), reason.trim()).into());
        }
        let notice = compose::notice_to_user(&self.settings, &user, &org, |t| {
            (t.reset_subject, t.reset_body)
        })?;
        let removed = self.store.reset_totp(user.id, &notice, &audit).await?;
        self.outbox_wake.notify_one();
        tracing::info!(user_id = user.id, org = %org.slug, removed, "two-step verification reset");
        Ok(removed)
    }

    /// Lifts a lock (or the growing wait) from a user's account: their failed attempts start
    /// again at zero.
    pub async fn unlock(&self, org_slug: &str, username: &str) -> Result<User, AdminError> {
        let (_, user) = self.user_of(org_slug, username).await?;
        let settlement = Settlement {
            clear: vec![Subject::account(Some(&user.username)).key()],
            audit: vec![self.audit(AuditEvent::AccountUnlocked, &user)],
            now: self.clock.now(),
            ..Settlement::default()
        };
        self.store.settle_attempt(&settlement).await?;
        Ok(user)
    }

    /// Disables an account (its sessions end at once) or enables it again; false when it
    /// already was.
    pub async fn set_disabled(
        &self,
        org_slug: &str,
        username: &str,
        disabled: bool,
    ) -> Result<bool, AdminError> {
        let (_, user) = self.user_of(org_slug, username).await?;
        let event = if disabled {
            AuditEvent::AccountDisabled
        } else {
            AuditEvent::AccountEnabled
        };
        Ok(self
            .store
            .set_disabled(user.id, disabled, &self.audit(event, &user))
            .await?)
    }

    pub async fn sessions(
        &self,
        org_slug: &str,
        username: &str,
    ) -> Result<Vec<SessionSummary>, AdminError> {
        let (_, user) = self.user_of(org_slug, username).await?;
        Ok(self.store.sessions_of_user(user.id).await?)
    }

    /// Logs the user out everywhere; the number of sessions ended.
    pub async fn end_sessions(&self, org_slug: &str, username: &str) -> Result<u64, AdminError> {
        let (_, user) = self.user_of(org_slug, username).await?;
        let record = self.audit(AuditEvent::SessionEnded, &user);
        Ok(self.store.end_sessions_of_user(user.id, &record).await?)
    }

    pub async fn user_summaries(&self, org_slug: &str) -> Result<Vec<UserSummary>, AdminError> {
        let org = self.organization(org_slug).await?;
        Ok(self.store.user_summaries(org.id).await?)
    }

    /// Audit lines, newest `limit`, oldest first; narrowed to one organization and optionally
    /// one of its users.
    pub async fn audit_log(
        &self,
        org_slug: Option<&str>,
        username: Option<&str>,
        since: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, AdminError> {
        let mut filter = AuditFilter {
            since,
            limit,
            ..AuditFilter::default()
        };
        match (org_slug, username) {
            (Some(org), Some(name)) => {
                let (org, user) = self.user_of(org, name).await?;
                filter.org = Some(org.id);
                filter.user = Some(user.id);
            }
            (Some(org), None) => filter.org = Some(self.organization(org).await?.id),
            (None, Some(_)) => return Err(AdminError::UserWithoutOrganization),
            (None, None) => {}
        }
        Ok(self.store.audit_entries(&filter).await?)
    }
}
