//! A login the application expects of a user, and who fixes what stands in its way: the
//! rules for what an application may register (a key, a date, a label — never health data)
//! and, for each readiness reason, the one thing the employee or HR can do about it.

use crate::readiness::{Readiness, Reason};

const DAY: i64 = 24 * 3600;

/// How far ahead a login may be expected: the WIA application comes around week 91 of
/// sick leave (21 months), the longest deadline of the Wet verbetering poortwachter.
pub const MAX_DAYS_AHEAD: i64 = 3 * 366;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpectationError {
    #[error("key: 1 to 64 characters, letters, digits and . _ : -")]
    Key,
    #[error("label: at most 100 characters, no control characters")]
    Label,
    #[error("due_at: the expected login is in the past")]
    Past,
    #[error("due_at: at most {MAX_DAYS_AHEAD} days ahead")]
    TooFar,
}

/// The application's key, its own name for this expected login (`plan_van_aanpak-2027`):
/// registering the same key again changes it.
pub fn parse_key(raw: &str) -> Result<String, ExpectationError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._:-".contains(c);
    if (1..=64).contains(&raw.len()) && raw.chars().all(allowed) {
        Ok(raw.to_owned())
    } else {
        Err(ExpectationError::Key)
    }
}

/// An optional label (the kind of deadline, for HR's overview). Empty means none.
pub fn parse_label(raw: Option<&str>) -> Result<Option<String>, ExpectationError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(label) if label.chars().count() <= 100 && !label.chars().any(char::is_control) => {
            Ok(Some(label.to_owned()))
        }
        Some(_) => Err(ExpectationError::Label),
    }
}

/// Whether a login may be expected at `due_at` (registered at `now`).
pub fn check_due(due_at: i64, now: i64) -> Result<(), ExpectationError> {
    if due_at <= now {
        Err(ExpectationError::Past)
    } else if due_at - now > MAX_DAYS_AHEAD * DAY {
        Err(ExpectationError::TooFar)
    } else {
        Ok(())
    }
}

/// What the employee can do about a reason themselves once logged in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserFix {
    NewRecoveryCodes,
    SaveRecoveryCodes,
    NewPhone,
}

pub fn user_fix(reason: Reason) -> Option<UserFix> {
    match reason {
        Reason::NoRecoveryCodes | Reason::FewRecoveryCodes => Some(UserFix::NewRecoveryCodes),
        Reason::RecoveryCodesNotSaved => Some(UserFix::SaveRecoveryCodes),
        Reason::RecoveryCodeUsedLast | Reason::SecondStepLongAgo => Some(UserFix::NewPhone),
        _ => None,
    }
}

/// The one action HR takes for a user who is not ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HrAction {
    Enable,
    Unlock,
    ResendInvitation,
    /// The phone may be gone (the last login used a herstelcode): a reset lets the next
    /// login set up the app again, by mail.
    ResetTwoStep,
    /// The mail does not arrive: the address needs checking with the employee.
    CheckEmail,
}

impl HrAction {
    pub fn code(self) -> &'static str {
        match self {
            HrAction::Enable => "enable",
            HrAction::Unlock => "unlock",
            HrAction::ResendInvitation => "resend_invitation",
            HrAction::ResetTwoStep => "reset_two_step",
            HrAction::CheckEmail => "check_email",
        }
    }
}

/// The action for the first reason HR can act on (the blocking reasons come first). `None`:
/// the employee fixes it (the look-ahead mail asks them), or nothing is wrong.
pub fn hr_action(readiness: &Readiness) -> Option<HrAction> {
    readiness.reasons().iter().find_map(|reason| match reason {
        Reason::Disabled => Some(HrAction::Enable),
        Reason::Locked => Some(HrAction::Unlock),
        Reason::InvitationExpired | Reason::NotActivated => Some(HrAction::ResendInvitation),
        Reason::MailFailing => Some(HrAction::CheckEmail),
        Reason::RecoveryCodeUsedLast => Some(HrAction::ResetTwoStep),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_plain_names() {
        assert_eq!(
            parse_key("plan_van_aanpak-2027").unwrap(),
            "plan_van_aanpak-2027"
        );
        assert_eq!(parse_key("wia:91"), Ok("wia:91".into()));
        for bad in ["", "met spatie", "ø", &"x".repeat(65), "a/b"] {
            assert_eq!(parse_key(bad), Err(ExpectationError::Key), "{bad:?}");
        }
    }

    #[test]
    fn labels_are_optional_and_short() {
        assert_eq!(parse_label(None), Ok(None));
        assert_eq!(parse_label(Some("  ")), Ok(None));
        assert_eq!(
            parse_label(Some(" Plan van aanpak ")),
            Ok(Some("Plan van aanpak".into()))
        );
        assert_eq!(parse_label(Some("a\nb")), Err(ExpectationError::Label));
        assert_eq!(
            parse_label(Some(&"é".repeat(101))),
            Err(ExpectationError::Label)
        );
    }

    #[test]
    fn a_login_is_expected_after_now_and_within_three_years() {
        let now = 1_800_000_000;
        assert_eq!(check_due(now, now), Err(ExpectationError::Past));
        assert_eq!(check_due(now + 1, now), Ok(()));
        assert_eq!(check_due(now + MAX_DAYS_AHEAD * DAY, now), Ok(()));
        assert_eq!(
            check_due(now + MAX_DAYS_AHEAD * DAY + 1, now),
            Err(ExpectationError::TooFar)
        );
    }

    #[test]
    fn hr_acts_on_the_first_reason_it_can_fix() {
        use Reason::*;
        let cases = [
            (Readiness::Ready, None),
            (Readiness::Blocked(vec![Disabled]), Some(HrAction::Enable)),
            (
                Readiness::Blocked(vec![InvitationExpired, MailFailing]),
                Some(HrAction::ResendInvitation),
            ),
            (
                Readiness::Blocked(vec![MailFailing, TwoStepNotSetUp]),
                Some(HrAction::CheckEmail),
            ),
            (Readiness::Blocked(vec![Locked]), Some(HrAction::Unlock)),
            (
                Readiness::AtRisk(vec![FewRecoveryCodes, RecoveryCodeUsedLast]),
                Some(HrAction::ResetTwoStep),
            ),
            // The employee makes new codes themselves: the mail asks them.
            (Readiness::AtRisk(vec![NoRecoveryCodes]), None),
            (Readiness::AtRisk(vec![SecondStepLongAgo]), None),
        ];
        for (readiness, action) in cases {
            assert_eq!(hr_action(&readiness), action, "{readiness:?}");
        }
    }

    #[test]
    fn the_employee_fixes_the_herstelcodes_and_the_phone() {
        assert_eq!(
            user_fix(Reason::FewRecoveryCodes),
            Some(UserFix::NewRecoveryCodes)
        );
        assert_eq!(
            user_fix(Reason::RecoveryCodeUsedLast),
            Some(UserFix::NewPhone)
        );
        assert_eq!(user_fix(Reason::Disabled), None);
        assert_eq!(user_fix(Reason::MailFailing), None);
    }
}
