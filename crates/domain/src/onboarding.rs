//! Where a user stands, as an administrator sees it: the status the admin API filters by,
//! and the onboarding step the console's overview shows for an invited employee. Plain
//! rules over facts the store reads.

use super::account::AccountState;

/// What the store knows of a user's open invitation (not used, not replaced by a newer one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationFacts {
    pub created_at: i64,
    pub expires_at: i64,
    /// When its mail left for the SMTP server; `None` while it is in the outbox.
    pub mail_sent_at: Option<i64>,
    /// The SMTP server's last refusal while it is still in the outbox.
    pub mail_error: Option<String>,
}

/// What a status is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFacts {
    pub state: AccountState,
    pub invitation: Option<InvitationFacts>,
    /// `None`: no authenticator app; `Some(false)`: set-up pending; `Some(true)`: active.
    pub two_step: Option<bool>,
    /// Until when the account waits after failed attempts (0: it does not).
    pub blocked_until: i64,
}

/// A user's status (the admin API's `status`, the console's filter). One value, the one
/// that matters most: a disabled account is "disabled" whatever else is true.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Invited,
    InvitationExpired,
    /// Has set a password but not yet confirmed an authenticator app.
    TwoStepPending,
    Active,
    Locked,
    Disabled,
}

impl UserStatus {
    pub const ALL: [UserStatus; 6] = [
        UserStatus::Invited,
        UserStatus::InvitationExpired,
        UserStatus::TwoStepPending,
        UserStatus::Active,
        UserStatus::Locked,
        UserStatus::Disabled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Invited => "invited",
            UserStatus::InvitationExpired => "invitation_expired",
            UserStatus::TwoStepPending => "two_step_pending",
            UserStatus::Active => "active",
            UserStatus::Locked => "locked",
            UserStatus::Disabled => "disabled",
        }
    }

    pub fn parse(text: &str) -> Option<UserStatus> {
        UserStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The status of a user with `facts` at `now`.
pub fn status(facts: &UserFacts, now: i64) -> UserStatus {
    if facts.state == AccountState::Disabled {
        return UserStatus::Disabled;
    }
    if facts.blocked_until > now {
        return UserStatus::Locked;
    }
    match facts.state {
        AccountState::Invited => match &facts.invitation {
            Some(invitation) if invitation.expires_at > now => UserStatus::Invited,
            _ => UserStatus::InvitationExpired,
        },
        _ if facts.two_step == Some(true) => UserStatus::Active,
        _ => UserStatus::TwoStepPending,
    }
}

/// Where an invited employee is on the way in (the onboarding overview), in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnboardingStep {
    /// The invitation mail waits in the outbox.
    MailQueued,
    /// The SMTP server refused it (its answer); it is tried again.
    MailFailing(String),
    /// The mail was handed to the SMTP server; the link is not used yet.
    MailSent,
    /// The link expired unused: a new invitation is needed.
    LinkExpired,
    /// The password is set; the authenticator app is not confirmed yet.
    PasswordSet,
    /// Done: password and authenticator app.
    TwoStepSetUp,
}

impl OnboardingStep {
    pub fn as_str(&self) -> &'static str {
        match self {
            OnboardingStep::MailQueued => "mail_queued",
            OnboardingStep::MailFailing(_) => "mail_failing",
            OnboardingStep::MailSent => "mail_sent",
            OnboardingStep::LinkExpired => "link_expired",
            OnboardingStep::PasswordSet => "password_set",
            OnboardingStep::TwoStepSetUp => "two_step_set_up",
        }
    }

    /// Whether HR should act: a resend helps a failing mail or an expired link.
    pub fn is_stuck(&self) -> bool {
        matches!(
            self,
            OnboardingStep::MailFailing(_) | OnboardingStep::LinkExpired
        )
    }
}

/// The onboarding step of a user with `facts` at `now` (disabled users have none).
pub fn onboarding_step(facts: &UserFacts, now: i64) -> Option<OnboardingStep> {
    match facts.state {
        AccountState::Disabled => None,
        AccountState::Active if facts.two_step == Some(true) => Some(OnboardingStep::TwoStepSetUp),
        AccountState::Active => Some(OnboardingStep::PasswordSet),
        AccountState::Invited => Some(match &facts.invitation {
            Some(invitation) if invitation.expires_at > now => {
                match (&invitation.mail_sent_at, &invitation.mail_error) {
                    (Some(_), _) => OnboardingStep::MailSent,
                    (None, Some(error)) => OnboardingStep::MailFailing(error.clone()),
                    (None, None) => OnboardingStep::MailQueued,
                }
            }
            _ => OnboardingStep::LinkExpired,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    fn invited(expires_at: i64, sent: Option<i64>, error: Option<&str>) -> UserFacts {
        UserFacts {
            state: AccountState::Invited,
            invitation: Some(InvitationFacts {
                created_at: NOW - 100,
                expires_at,
                mail_sent_at: sent,
                mail_error: error.map(str::to_owned),
            }),
            two_step: None,
            blocked_until: 0,
        }
    }

    fn active(two_step: Option<bool>) -> UserFacts {
        UserFacts {
            state: AccountState::Active,
            invitation: None,
            two_step,
            blocked_until: 0,
        }
    }

    #[test]
    fn statuses_follow_the_account_the_link_and_the_app() {
        assert_eq!(
            status(&invited(NOW + 1, None, None), NOW),
            UserStatus::Invited
        );
        assert_eq!(
            status(&invited(NOW, None, None), NOW),
            UserStatus::InvitationExpired
        );
        assert_eq!(status(&active(None), NOW), UserStatus::TwoStepPending);
        assert_eq!(
            status(&active(Some(false)), NOW),
            UserStatus::TwoStepPending
        );
        assert_eq!(status(&active(Some(true)), NOW), UserStatus::Active);
    }

    #[test]
    fn disabled_wins_over_locked_and_locked_over_the_rest() {
        let mut facts = active(Some(true));
        facts.blocked_until = NOW + 60;
        assert_eq!(status(&facts, NOW), UserStatus::Locked);
        facts.state = AccountState::Disabled;
        assert_eq!(status(&facts, NOW), UserStatus::Disabled);
        facts.state = AccountState::Active;
        facts.blocked_until = NOW;
        assert_eq!(status(&facts, NOW), UserStatus::Active);
    }

    #[test]
    fn onboarding_tells_queued_failing_sent_and_expired_apart() {
        let step = |f: &UserFacts| onboarding_step(f, NOW);
        assert_eq!(
            step(&invited(NOW + 1, None, None)),
            Some(OnboardingStep::MailQueued)
        );
        assert_eq!(
            step(&invited(NOW + 1, None, Some("550 no such user"))),
            Some(OnboardingStep::MailFailing("550 no such user".into()))
        );
        assert_eq!(
            step(&invited(NOW + 1, Some(NOW - 5), Some("421 busy"))),
            Some(OnboardingStep::MailSent)
        );
        assert_eq!(
            step(&invited(NOW - 1, Some(NOW - 5), None)),
            Some(OnboardingStep::LinkExpired)
        );
        assert_eq!(
            step(&active(Some(false))),
            Some(OnboardingStep::PasswordSet)
        );
        assert_eq!(
            step(&active(Some(true))),
            Some(OnboardingStep::TwoStepSetUp)
        );
        assert!(step(&invited(NOW - 1, None, None)).unwrap().is_stuck());
        assert!(!step(&active(None)).unwrap().is_stuck());
    }

    #[test]
    fn statuses_parse_back() {
        for s in UserStatus::ALL {
            assert_eq!(UserStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(UserStatus::parse("deleted"), None);
    }
}
