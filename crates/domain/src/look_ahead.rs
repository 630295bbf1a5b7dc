//! When the look-ahead mail "Controleer of je nog kunt inloggen" goes out for a login the
//! application expects: some days before it, once, in the daytime, and only to a user who is
//! not ready (see [`crate::readiness`]). A plain rule; the caller gives the local hour (the
//! user's time zone is the caller's business) and whether the mail was already sent.

use crate::readiness::Readiness;

const DAY: i64 = 24 * 3600;

/// The organization's (or the service's) settings for the look-ahead mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookAheadPolicy {
    /// How many days before the expected login the mail may go out (default 7).
    pub days_before: u32,
    /// The local hours in which mail is sent: from `day_starts` up to, not including,
    /// `day_ends` (default 8 to 20: none at night).
    pub day_starts: u8,
    pub day_ends: u8,
}

impl Default for LookAheadPolicy {
    fn default() -> Self {
        LookAheadPolicy {
            days_before: 7,
            day_starts: 8,
            day_ends: 20,
        }
    }
}

/// What to do about one expected login now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookAhead {
    /// Send the mail now.
    Send,
    /// Too early: look again from `from` on (the start of the window).
    NotYet { from: i64 },
    /// In the window, but night where the user lives: look again at the next day's start.
    Night,
    /// Nothing to send now. For a user who is ready, a later look may still send it (the
    /// judgement can change); once the mail went out or the expected moment has passed,
    /// never for this expected login.
    Nothing,
}

/// The decision at `now` (local hour `local_hour`, 0–23) for a login expected at
/// `expected_at`, for a user judged `readiness`, `already_sent` telling whether this expected
/// login's mail went out before.
pub fn decide(
    policy: &LookAheadPolicy,
    expected_at: i64,
    readiness: &Readiness,
    already_sent: bool,
    now: i64,
    local_hour: u8,
) -> LookAhead {
    if already_sent || now >= expected_at {
        return LookAhead::Nothing;
    }
    let from = expected_at - i64::from(policy.days_before) * DAY;
    if now < from {
        return LookAhead::NotYet { from };
    }
    // A user who is ready now may not be tomorrow: they are looked at again, not dropped.
    if *readiness == Readiness::Ready {
        return LookAhead::Nothing;
    }
    if !(policy.day_starts..policy.day_ends).contains(&local_hour) {
        return LookAhead::Night;
    }
    LookAhead::Send
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readiness::Reason;

    const EXPECTED: i64 = 1_800_000_000;

    fn at_risk() -> Readiness {
        Readiness::AtRisk(vec![Reason::FewRecoveryCodes])
    }

    #[test]
    fn the_mail_goes_out_in_the_window_in_the_daytime_to_a_user_who_is_not_ready() {
        let policy = LookAheadPolicy::default();
        let window_opens = EXPECTED - 7 * DAY;
        let cases = [
            (
                "a week and a day before",
                EXPECTED - 8 * DAY,
                10,
                at_risk(),
                false,
                LookAhead::NotYet { from: window_opens },
            ),
            (
                "the window opens",
                window_opens,
                10,
                at_risk(),
                false,
                LookAhead::Send,
            ),
            (
                "three days before, at night",
                EXPECTED - 3 * DAY,
                23,
                at_risk(),
                false,
                LookAhead::Night,
            ),
            (
                "three days before, before eight",
                EXPECTED - 3 * DAY,
                7,
                at_risk(),
                false,
                LookAhead::Night,
            ),
            (
                "three days before, at eight",
                EXPECTED - 3 * DAY,
                8,
                at_risk(),
                false,
                LookAhead::Send,
            ),
            (
                "three days before, at eight in the evening",
                EXPECTED - 3 * DAY,
                20,
                at_risk(),
                false,
                LookAhead::Night,
            ),
            (
                "blocked users are told too",
                EXPECTED - DAY,
                12,
                Readiness::Blocked(vec![Reason::MailFailing]),
                false,
                LookAhead::Send,
            ),
            (
                "a ready user gets nothing",
                EXPECTED - DAY,
                12,
                Readiness::Ready,
                false,
                LookAhead::Nothing,
            ),
            (
                "once per expected login",
                EXPECTED - DAY,
                12,
                at_risk(),
                true,
                LookAhead::Nothing,
            ),
            (
                "the moment has passed",
                EXPECTED,
                12,
                at_risk(),
                false,
                LookAhead::Nothing,
            ),
        ];
        for (name, now, hour, readiness, sent, expected) in cases {
            assert_eq!(
                decide(&policy, EXPECTED, &readiness, sent, now, hour),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn a_shorter_window_and_other_hours() {
        let policy = LookAheadPolicy {
            days_before: 2,
            day_starts: 9,
            day_ends: 17,
        };
        assert_eq!(
            decide(&policy, EXPECTED, &at_risk(), false, EXPECTED - 3 * DAY, 12),
            LookAhead::NotYet {
                from: EXPECTED - 2 * DAY
            }
        );
        assert_eq!(
            decide(&policy, EXPECTED, &at_risk(), false, EXPECTED - DAY, 17),
            LookAhead::Night
        );
        assert_eq!(
            decide(&policy, EXPECTED, &at_risk(), false, EXPECTED - DAY, 16),
            LookAhead::Send
        );
    }
}
