//! Toegang op orde: whether a user will be able to log in on the day they must (a login the
//! application expects, before a deadline of the Wet verbetering poortwachter), judged ahead
//! from what Poortwachter already knows of the account. Plain rules over facts the store
//! reads; the look-ahead mail and the HR overview are built on them.
//!
//! `Blocked`: the user cannot log in without someone's help or a fix first (a disabled
//! account, an invitation that can no longer be used, a mail that does not arrive where the
//! next step needs one). `AtRisk`: the login will probably work, but one lost phone or one
//! more used herstelcode stands between the user and the helpdesk.
//!
//! A password's age is not among the reasons: no organization's policy here lets passwords
//! expire (NIST SP 800-63B §5.1.1.2 advises against it), so an old password is not a risk.

use crate::account::AccountState;
use crate::onboarding::InvitationFacts;

/// Herstelcodes left at or below which a user is at risk (one lost phone, two logins).
pub const FEW_RECOVERY_CODES: u32 = 2;

/// A second step this long ago: the phone it was made with may be gone.
pub const LONG_AGO_SECONDS: i64 = 180 * 24 * 3600;

/// How a login's second step was last passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondStepUsed {
    App,
    Passkey,
    RecoveryCode,
    RememberedDevice,
}

/// What the judgement is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessFacts {
    pub state: AccountState,
    /// Until when the account waits after failed attempts (0: it does not).
    pub blocked_until: i64,
    /// The open invitation of an invited user.
    pub invitation: Option<InvitationFacts>,
    /// `None`: no authenticator app; `Some(false)`: set-up pending; `Some(true)`: active.
    pub app: Option<bool>,
    pub passkeys: u32,
    pub recovery_codes_left: u32,
    /// The herstelcodes are still shown until the user confirms having saved them.
    pub recovery_codes_unsaved: bool,
    /// An administrator reset two-step verification: the next login sets it up again.
    pub two_step_reset_pending: bool,
    /// The last second step passed: when, and with what.
    pub last_second_step: Option<(i64, SecondStepUsed)>,
    /// The last mail to the user (an invitation, a set-up code) is failing or bounced.
    pub mail_failing: bool,
}

/// Why a user is not ready. The codes are stable (API, webhooks); the words are in `texts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Disabled,
    /// Still waiting after failed attempts on the expected day.
    Locked,
    InvitationExpired,
    /// Invited, the invitation still usable, the account not yet activated.
    NotActivated,
    /// The mail the next step needs (invitation, set-up code) does not arrive.
    MailFailing,
    /// Activated, but no authenticator app or passkey set up yet.
    TwoStepNotSetUp,
    TwoStepResetPending,
    /// Only the app: a lost phone and nothing left to log in with.
    NoRecoveryCodes,
    FewRecoveryCodes,
    /// The set-up's herstelcodes were shown but their saving never confirmed.
    RecoveryCodesNotSaved,
    /// The last login used a herstelcode: the phone may be lost or replaced.
    RecoveryCodeUsedLast,
    /// The last second step is more than half a year ago.
    SecondStepLongAgo,
}

impl Reason {
    pub const ALL: [Reason; 12] = [
        Reason::Disabled,
        Reason::Locked,
        Reason::InvitationExpired,
        Reason::NotActivated,
        Reason::MailFailing,
        Reason::TwoStepNotSetUp,
        Reason::TwoStepResetPending,
        Reason::NoRecoveryCodes,
        Reason::FewRecoveryCodes,
        Reason::RecoveryCodesNotSaved,
        Reason::RecoveryCodeUsedLast,
        Reason::SecondStepLongAgo,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Reason::Disabled => "disabled",
            Reason::Locked => "locked",
            Reason::InvitationExpired => "invitation_expired",
            Reason::NotActivated => "not_activated",
            Reason::MailFailing => "mail_failing",
            Reason::TwoStepNotSetUp => "two_step_not_set_up",
            Reason::TwoStepResetPending => "two_step_reset_pending",
            Reason::NoRecoveryCodes => "no_recovery_codes",
            Reason::FewRecoveryCodes => "few_recovery_codes",
            Reason::RecoveryCodesNotSaved => "recovery_codes_not_saved",
            Reason::RecoveryCodeUsedLast => "recovery_code_used_last",
            Reason::SecondStepLongAgo => "second_step_long_ago",
        }
    }

    pub fn parse(code: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    AtRisk(Vec<Reason>),
    Blocked(Vec<Reason>),
}

impl Readiness {
    pub fn as_str(&self) -> &'static str {
        match self {
            Readiness::Ready => "ready",
            Readiness::AtRisk(_) => "at_risk",
            Readiness::Blocked(_) => "blocked",
        }
    }

    pub fn reasons(&self) -> &[Reason] {
        match self {
            Readiness::Ready => &[],
            Readiness::AtRisk(reasons) | Readiness::Blocked(reasons) => reasons,
        }
    }
}

/// The readiness at `now` of a user with `facts` for a login expected at `expected_at`.
pub fn judge(facts: &AccessFacts, now: i64, expected_at: i64) -> Readiness {
    let mut blocked = Vec::new();
    let mut at_risk = Vec::new();
    if facts.state == AccountState::Disabled {
        return Readiness::Blocked(vec![Reason::Disabled]);
    }
    if facts.blocked_until > expected_at {
        blocked.push(Reason::Locked);
    } else if facts.blocked_until > now {
        at_risk.push(Reason::Locked);
    }
    // What the next login still has to set up, and whether it needs a mail for it.
    let needs_mail = match facts.state {
        AccountState::Invited => {
            match &facts.invitation {
                Some(invitation) if invitation.expires_at > now => {
                    at_risk.push(Reason::NotActivated)
                }
                _ => blocked.push(Reason::InvitationExpired),
            }
            true
        }
        _ if facts.two_step_reset_pending => {
            at_risk.push(Reason::TwoStepResetPending);
            true
        }
        _ if facts.app != Some(true) && facts.passkeys == 0 => {
            at_risk.push(Reason::TwoStepNotSetUp);
            true
        }
        _ => {
            second_step_risks(facts, now, &mut at_risk);
            false
        }
    };
    if facts.mail_failing {
        if needs_mail {
            blocked.push(Reason::MailFailing);
        } else {
            at_risk.push(Reason::MailFailing);
        }
    }
    match (blocked.is_empty(), at_risk.is_empty()) {
        (true, true) => Readiness::Ready,
        (true, false) => Readiness::AtRisk(at_risk),
        (false, _) => {
            blocked.extend(at_risk);
            Readiness::Blocked(blocked)
        }
    }
}

/// The risks of a user whose second step is set up: herstelcodes running out (a passkey is a
/// way in without the phone), a phone that may be gone.
fn second_step_risks(facts: &AccessFacts, now: i64, at_risk: &mut Vec<Reason>) {
    if facts.passkeys == 0 {
        match facts.recovery_codes_left {
            0 => at_risk.push(Reason::NoRecoveryCodes),
            n if n <= FEW_RECOVERY_CODES => at_risk.push(Reason::FewRecoveryCodes),
            _ if facts.recovery_codes_unsaved => at_risk.push(Reason::RecoveryCodesNotSaved),
            _ => {}
        }
    }
    match facts.last_second_step {
        Some((_, SecondStepUsed::RecoveryCode)) => at_risk.push(Reason::RecoveryCodeUsedLast),
        Some((at, _)) if now - at > LONG_AGO_SECONDS => at_risk.push(Reason::SecondStepLongAgo),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;
    const DAY: i64 = 24 * 3600;
    const EXPECTED: i64 = NOW + 7 * DAY;

    /// An employee who set up the app, saved ten herstelcodes and logged in last week.
    fn ready() -> AccessFacts {
        AccessFacts {
            state: AccountState::Active,
            blocked_until: 0,
            invitation: None,
            app: Some(true),
            passkeys: 0,
            recovery_codes_left: 10,
            recovery_codes_unsaved: false,
            two_step_reset_pending: false,
            last_second_step: Some((NOW - 7 * DAY, SecondStepUsed::App)),
            mail_failing: false,
        }
    }

    /// Invited yesterday, the invitation usable until `expires_at`, nothing set up.
    fn invited(expires_at: i64) -> AccessFacts {
        AccessFacts {
            state: AccountState::Invited,
            invitation: Some(InvitationFacts {
                created_at: NOW - DAY,
                expires_at,
                mail_sent_at: Some(NOW - DAY),
                mail_error: None,
            }),
            app: None,
            recovery_codes_left: 0,
            last_second_step: None,
            ..ready()
        }
    }

    #[test]
    fn the_table_of_cases() {
        use Reason::*;
        let cases: Vec<(&str, AccessFacts, Readiness)> = vec![
            ("all in order", ready(), Readiness::Ready),
            (
                "disabled, whatever else",
                AccessFacts {
                    state: AccountState::Disabled,
                    mail_failing: true,
                    ..ready()
                },
                Readiness::Blocked(vec![Disabled]),
            ),
            (
                "locked past the expected day",
                AccessFacts {
                    blocked_until: EXPECTED + 1,
                    ..ready()
                },
                Readiness::Blocked(vec![Locked]),
            ),
            (
                "locked now, free again before the day",
                AccessFacts {
                    blocked_until: NOW + 60,
                    ..ready()
                },
                Readiness::AtRisk(vec![Locked]),
            ),
            (
                "a lock that has ended",
                AccessFacts {
                    blocked_until: NOW - 60,
                    ..ready()
                },
                Readiness::Ready,
            ),
            (
                "invited, the link still usable",
                invited(NOW + DAY),
                Readiness::AtRisk(vec![NotActivated]),
            ),
            (
                "invited, the link expired",
                invited(NOW - 1),
                Readiness::Blocked(vec![InvitationExpired]),
            ),
            (
                "invited, the invitation mail bounces",
                AccessFacts {
                    mail_failing: true,
                    ..invited(NOW + DAY)
                },
                Readiness::Blocked(vec![MailFailing, NotActivated]),
            ),
            (
                "activated, no app yet",
                AccessFacts {
                    app: None,
                    recovery_codes_left: 0,
                    last_second_step: None,
                    ..ready()
                },
                Readiness::AtRisk(vec![TwoStepNotSetUp]),
            ),
            (
                "set-up pending and its mail failing",
                AccessFacts {
                    app: Some(false),
                    recovery_codes_left: 0,
                    last_second_step: None,
                    mail_failing: true,
                    ..ready()
                },
                Readiness::Blocked(vec![MailFailing, TwoStepNotSetUp]),
            ),
            (
                "a passkey instead of the app",
                AccessFacts {
                    app: None,
                    passkeys: 1,
                    recovery_codes_left: 0,
                    last_second_step: Some((NOW - DAY, SecondStepUsed::Passkey)),
                    ..ready()
                },
                Readiness::Ready,
            ),
            (
                "two-step verification reset by an administrator",
                AccessFacts {
                    two_step_reset_pending: true,
                    ..ready()
                },
                Readiness::AtRisk(vec![TwoStepResetPending]),
            ),
            (
                "no herstelcodes left",
                AccessFacts {
                    recovery_codes_left: 0,
                    ..ready()
                },
                Readiness::AtRisk(vec![NoRecoveryCodes]),
            ),
            (
                "two herstelcodes left",
                AccessFacts {
                    recovery_codes_left: 2,
                    ..ready()
                },
                Readiness::AtRisk(vec![FewRecoveryCodes]),
            ),
            (
                "three herstelcodes left",
                AccessFacts {
                    recovery_codes_left: 3,
                    ..ready()
                },
                Readiness::Ready,
            ),
            (
                "herstelcodes shown, their saving never confirmed",
                AccessFacts {
                    recovery_codes_unsaved: true,
                    ..ready()
                },
                Readiness::AtRisk(vec![RecoveryCodesNotSaved]),
            ),
            (
                "unconfirmed herstelcodes beside a passkey",
                AccessFacts {
                    recovery_codes_unsaved: true,
                    passkeys: 1,
                    ..ready()
                },
                Readiness::Ready,
            ),
            (
                "the last login with a herstelcode",
                AccessFacts {
                    last_second_step: Some((NOW - DAY, SecondStepUsed::RecoveryCode)),
                    recovery_codes_left: 9,
                    ..ready()
                },
                Readiness::AtRisk(vec![RecoveryCodeUsedLast]),
            ),
            (
                "the last second step over half a year ago",
                AccessFacts {
                    last_second_step: Some((NOW - 200 * DAY, SecondStepUsed::App)),
                    ..ready()
                },
                Readiness::AtRisk(vec![SecondStepLongAgo]),
            ),
            (
                "a remembered browser last week",
                AccessFacts {
                    last_second_step: Some((NOW - 7 * DAY, SecondStepUsed::RememberedDevice)),
                    ..ready()
                },
                Readiness::Ready,
            ),
            (
                "set up, but mail to the user bounces (a reset would not arrive)",
                AccessFacts {
                    mail_failing: true,
                    ..ready()
                },
                Readiness::AtRisk(vec![MailFailing]),
            ),
            (
                "blocked reasons first, then the risks",
                AccessFacts {
                    blocked_until: EXPECTED + 1,
                    recovery_codes_left: 1,
                    ..ready()
                },
                Readiness::Blocked(vec![Locked, FewRecoveryCodes]),
            ),
        ];
        for (name, facts, expected) in cases {
            assert_eq!(judge(&facts, NOW, EXPECTED), expected, "{name}");
        }
    }

    #[test]
    fn every_reason_has_its_own_stable_code() {
        for reason in Reason::ALL {
            assert_eq!(Reason::parse(reason.code()), Some(reason));
        }
        let mut codes: Vec<_> = Reason::ALL.iter().map(|r| r.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), Reason::ALL.len());
        assert_eq!(Readiness::Ready.as_str(), "ready");
        assert_eq!(Readiness::AtRisk(vec![]).as_str(), "at_risk");
        assert_eq!(Readiness::Blocked(vec![]).as_str(), "blocked");
    }
}
