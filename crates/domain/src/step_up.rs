//! Asking a logged-in administrator for the app's code again before a destructive action
//! (resetting someone's two-step verification, disabling an account, ending sessions,
//! revoking a role): a session left open on a desk must not be enough for those.

/// How long a login or a confirmation with the code counts as recent.
pub const RECENT_SECONDS: i64 = 10 * 60;

/// Whether a session that logged in at `auth_time` and last confirmed at `confirmed_at`
/// must confirm again at `now`.
pub fn needs_confirmation(auth_time: i64, confirmed_at: Option<i64>, now: i64) -> bool {
    let last = confirmed_at.map_or(auth_time, |c| c.max(auth_time));
    now - last >= RECENT_SECONDS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_or_a_confirmation_counts_for_ten_minutes() {
        assert!(!needs_confirmation(1000, None, 1000 + RECENT_SECONDS - 1));
        assert!(needs_confirmation(1000, None, 1000 + RECENT_SECONDS));
        assert!(!needs_confirmation(1000, Some(5000), 5000 + 60));
        assert!(needs_confirmation(1000, Some(5000), 5000 + RECENT_SECONDS));
        // A confirmation older than the login does not shorten the login's own ten minutes.
        assert!(!needs_confirmation(9000, Some(10), 9000 + 60));
    }
}
