//! Rules of the second login step that are not TOTP itself: how often a set-up e-mail may be
//! requested, how many wrong codes a session may type, how long a pending secret lives.

/// A session that typed this many wrong codes must enter the password again
/// (RFC 4226 §7.3: throttle guessing; the password step is the expensive part to repeat).
pub const MAX_WRONG_CODES: i64 = 5;

/// Set-up e-mails ("Nieuwe code", and the first one): one per `interval_seconds` and
/// `per_hour` per hour (defaults 60 and 5).
pub fn setup_mail_limits(interval_seconds: u32, per_hour: u32) -> [RateWindow; 2] {
    [
        RateWindow {
            seconds: i64::from(interval_seconds),
            count: 1,
        },
        RateWindow {
            seconds: 3600,
            count: i64::from(per_hour),
        },
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateWindow {
    pub seconds: i64,
    pub count: i64,
}

/// When the next set-up e-mail may be sent, given when the earlier ones were (any order);
/// `None` when it may be sent now.
pub fn next_allowed_at(sent: &[i64], now: i64, limits: &[RateWindow]) -> Option<i64> {
    let mut newest_first: Vec<i64> = sent.to_vec();
    newest_first.sort_unstable_by(|a, b| b.cmp(a));
    limits
        .iter()
        .filter_map(|window| {
            let in_window: Vec<i64> = newest_first
                .iter()
                .copied()
                .filter(|t| *t > now - window.seconds)
                .collect();
            // The window frees up when its oldest counted send leaves it.
            (in_window.len() as i64 >= window.count)
                .then(|| in_window[window.count as usize - 1] + window.seconds)
        })
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETUP_MAIL_LIMITS: [RateWindow; 2] = [
        RateWindow {
            seconds: 60,
            count: 1,
        },
        RateWindow {
            seconds: 3600,
            count: 5,
        },
    ];

    #[test]
    fn limits_come_from_the_settings() {
        assert_eq!(setup_mail_limits(60, 5), SETUP_MAIL_LIMITS);
    }

    #[test]
    fn one_a_minute() {
        assert_eq!(next_allowed_at(&[], 1000, &SETUP_MAIL_LIMITS), None);
        assert_eq!(
            next_allowed_at(&[990], 1000, &SETUP_MAIL_LIMITS),
            Some(1050)
        );
        assert_eq!(next_allowed_at(&[940], 1000, &SETUP_MAIL_LIMITS), None);
    }

    #[test]
    fn five_an_hour() {
        let sent = [100, 200, 300, 400, 500];
        assert_eq!(next_allowed_at(&sent, 1000, &SETUP_MAIL_LIMITS), Some(3700));
        assert_eq!(next_allowed_at(&sent, 3700, &SETUP_MAIL_LIMITS), None);
        assert_eq!(next_allowed_at(&sent[1..], 1000, &SETUP_MAIL_LIMITS), None);
    }
}
