//! Inviting users many at once (and one at a time through the API): every row is checked
//! against the rules and the store first, and then all are invited in one transaction or
//! none are.

use rand::rngs::OsRng;

use super::{Admin, AdminError};
use crate::domain::account::AccountState;
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::bulk_invite::{NewUser, RowCheck, RowProblem};
use crate::domain::token::Token;
use crate::mail::compose;
use crate::store::{
    BatchOutcome, IdempotentAnswer, InvitationWithMail, NewInvitation, Organization, StoreError,
    User,
};

/// Invitations made and mailed, not yet stored.
pub struct PreparedBatch {
    pub org: Organization,
    pub items: Vec<InvitationWithMail>,
    /// The links, in the order of `items` (the CLI prints one; tests follow them).
    pub links: Vec<String>,
    pub expires_at: i64,
    /// The rows they were made from (a refusal at the last moment is marked on them).
    pub checks: Vec<RowCheck>,
}

/// How a batch ended.
pub enum BatchResult {
    Invited {
        users: Vec<User>,
        expires_at: i64,
    },
    /// Some rows have problems (each check says which); nothing was sent.
    Refused(Vec<RowCheck>),
    /// The idempotency key was used first by a request that is finished now.
    AlreadyAnswered,
}

impl Admin {
    /// The invitation of `user` to `org` and its mail, with the link it carries.
    pub(super) fn prepare_invitation(
        &self,
        org: &Organization,
        user: &NewUser,
        from: &crate::mail::sender::Sender,
        now: i64,
    ) -> Result<(InvitationWithMail, String), AdminError> {
        let token = Token::generate(&mut OsRng);
        let link = self.settings.link(&format!("/invite/{}", token.expose()));
        let ttl_hours = self.settings.invitation_ttl_hours;
        let mail = compose::invitation(
            from,
            &user.email,
            &compose::Invitation {
                lang: org.lang,
                service_name: &self.settings.service_name,
                org_name: &org.name,
                display_name: &user.display_name,
                username: user.username.as_str(),
                link: &link,
                valid_days: ttl_hours.div_ceil(24),
            },
        )?;
        let invitation = NewInvitation {
            org_id: org.id,
            username: user.username.as_str().to_owned(),
            email: user.email.as_str().to_owned(),
            display_name: user.display_name.as_str().to_owned(),
            token_hash: token.hash(),
            expires_at: now + i64::from(ttl_hours) * 3600,
            now,
        };
        Ok((InvitationWithMail { invitation, mail }, link))
    }

    /// Adds to each row what only the store knows: a username of another organization's
    /// account, or of a user of this one who has already activated (or is disabled).
    pub async fn check_rows_in_store(
        &self,
        org: &Organization,
        checks: &mut [RowCheck],
    ) -> Result<(), AdminError> {
        for check in checks.iter_mut() {
            let Some(user) = &check.user else { continue };
            let Some(existing) = self.store.login_candidate(user.username.as_str()).await? else {
                continue;
            };
            let problem = if existing.user.org_id != org.id {
                RowProblem::Taken
            } else if existing.user.state != AccountState::Invited {
                RowProblem::AlreadyActive
            } else {
                continue;
            };
            check.problems.push(problem);
            check.user = None;
        }
        Ok(())
    }

    /// Checks `checks` against the store and, if every row is fine, prepares them all.
    pub async fn prepare_batch(
        &self,
        org_slug: &str,
        mut checks: Vec<RowCheck>,
    ) -> Result<Result<PreparedBatch, Vec<RowCheck>>, AdminError> {
        let org = self.organization(org_slug).await?;
        self.check_rows_in_store(&org, &mut checks).await?;
        if checks.iter().any(|c| !c.is_ok()) {
            return Ok(Err(checks));
        }
        let now = self.clock.now();
        let mut items = Vec::with_capacity(checks.len());
        let mut links = Vec::with_capacity(checks.len());
        let from = crate::mail::sender::Sender::of(&self.settings, &org);
        for user in checks.iter().filter_map(|c| c.user.as_ref()) {
            let (item, link) = self.prepare_invitation(&org, user, &from, now)?;
            items.push(item);
            links.push(link);
        }
        let expires_at = now + i64::from(self.settings.invitation_ttl_hours) * 3600;
        Ok(Ok(PreparedBatch {
            org,
            items,
            links,
            expires_at,
            checks,
        }))
    }

    /// Invites every user of `batch` in one transaction, with `answer` stored beside them.
    /// A row the store refuses at the last moment (someone took the username meanwhile)
    /// refuses the whole batch, with that row marked in the batch's checks.
    pub async fn send_batch(
        &self,
        batch: PreparedBatch,
        answer: Option<&IdempotentAnswer>,
    ) -> Result<BatchResult, AdminError> {
        let mut checks = batch.checks;
        let audit = AuditRecord::new(
            self.clock.now(),
            AuditEvent::InvitationSent,
            Outcome::Success,
        )
        .detail(self.actor.describe());
        match self
            .store
            .invite_batch(&batch.items, answer, &audit)
            .await?
        {
            BatchOutcome::Invited(users) => {
                self.outbox_wake.notify_one();
                Ok(BatchResult::Invited {
                    users,
                    expires_at: batch.expires_at,
                })
            }
            BatchOutcome::AlreadyAnswered => Ok(BatchResult::AlreadyAnswered),
            BatchOutcome::Refused { index, reason } => {
                let problem = match reason {
                    StoreError::AlreadyActive => RowProblem::AlreadyActive,
                    _ => RowProblem::Taken,
                };
                if let Some(check) = checks.iter_mut().filter(|c| c.is_ok()).nth(index) {
                    check.problems.push(problem);
                    check.user = None;
                }
                Ok(BatchResult::Refused(checks))
            }
        }
    }
}
