//! How failed password and code attempts slow an attacker down: a few free failures, then
//! growing waits, then a temporary lock that grows while the failures go on but always
//! expires (an attacker must not be able to lock a user out for ever).
//!
//! Failures are counted per subject: an account (by username, whether or not it exists, so
//! the throttle answers an unknown name exactly as a real one) and a client address. The
//! count is taken *before* an attempt is checked, so parallel attempts each take a place in
//! the sequence and the waits stop them (RFC 4226 §7.3, NIST SP 800-63B §5.2.2).

use std::net::IpAddr;

/// Growing waits never exceed this: a user who mistyped a few times is slowed, not stopped.
const MAX_GROWING_WAIT_SECONDS: i64 = 60;
/// A lock that keeps doubling stops growing here, so it always ends within a day.
const MAX_ACCOUNT_LOCK_SECONDS: i64 = 24 * 60 * 60;

/// The throttling rules for one kind of subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures that cost nothing (typos).
    pub free_failures: i64,
    /// The failure that starts the lock.
    pub lock_after: i64,
    /// How long the first lock lasts.
    pub lock_seconds: i64,
    /// Longest lock; equal to `lock_seconds` for a lock that does not grow.
    pub max_lock_seconds: i64,
    /// A subject with no failure for this long after its last wait ended starts again at zero.
    pub forget_after_seconds: i64,
}

impl ThrottlePolicy {
    /// Accounts: the first half of `lock_after` failures are free (typos), then waits of 1,
    /// 2, 4 … seconds, then a lock at `lock_after` failures that doubles with each further
    /// failure (up to a day). 100 consecutive failures (NIST's upper bound) take months.
    pub fn for_accounts(lock_after: u32, lock_minutes: u32) -> ThrottlePolicy {
        let lock_after = i64::from(lock_after.max(1));
        ThrottlePolicy {
            free_failures: lock_after / 2,
            lock_after,
            lock_seconds: i64::from(lock_minutes) * 60,
            max_lock_seconds: MAX_ACCOUNT_LOCK_SECONDS.max(i64::from(lock_minutes) * 60),
            forget_after_seconds: 24 * 60 * 60,
        }
    }

    /// Client addresses: many users may share one (an office behind one router), so the
    /// lock does not grow; it only stops one address from trying password after password
    /// across many accounts.
    pub fn for_addresses(lock_after: u32, lock_minutes: u32) -> ThrottlePolicy {
        let lock_after = i64::from(lock_after.max(1));
        ThrottlePolicy {
            free_failures: lock_after / 2,
            lock_after,
            lock_seconds: i64::from(lock_minutes) * 60,
            max_lock_seconds: i64::from(lock_minutes) * 60,
            forget_after_seconds: 60 * 60,
        }
    }

    /// Seconds the subject must wait after its `failures`-th consecutive failure.
    pub fn wait_after(&self, failures: i64) -> i64 {
        if failures <= self.free_failures {
            0
        } else if failures < self.lock_after {
            let doublings = (failures - self.free_failures - 1).min(30) as u32;
            (1i64 << doublings).min(MAX_GROWING_WAIT_SECONDS)
        } else {
            let doublings = (failures - self.lock_after).min(30) as u32;
            self.lock_seconds
                .saturating_mul(1i64 << doublings)
                .min(self.max_lock_seconds)
        }
    }

    /// True when the `failures`-th failure is the one that starts the lock (its notice).
    pub fn starts_lock(&self, failures: i64) -> bool {
        failures == self.lock_after
    }

    /// The waits as steps, for a database to look up in one statement: `(from, wait)` pairs,
    /// ascending, each saying "from this failure number on, this wait" until the next pair.
    /// The list is short whatever the thresholds: waits stop changing at the cap.
    pub fn schedule(&self) -> Vec<(i64, i64)> {
        let mut steps: Vec<(i64, i64)> = vec![(1, self.wait_after(1))];
        let mut failures = 2;
        loop {
            let wait = self.wait_after(failures);
            if wait != steps.last().map_or(-1, |step| step.1) {
                steps.push((failures, wait));
            }
            if failures >= self.lock_after && wait == self.wait_after(failures + 1) {
                return steps;
            }
            // Jump over stretches where nothing changes (the free part, a capped wait).
            failures = if failures <= self.free_failures {
                self.free_failures + 1
            } else if wait == MAX_GROWING_WAIT_SECONDS && failures < self.lock_after {
                self.lock_after
            } else {
                failures + 1
            };
        }
    }
}

/// What failures are counted against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A username as typed (lower-cased), existing or not; any text that is not a valid
    /// username shares one subject, since it can never be an account.
    Account(String),
    /// A client address; IPv6 by its /64 prefix, which one host usually owns whole.
    Address(String),
}

impl Subject {
    pub fn account(username: Option<&str>) -> Subject {
        Subject::Account(username.unwrap_or("(not a username)").to_owned())
    }

    pub fn address(client: &str) -> Subject {
        let key = match client.parse::<IpAddr>() {
            Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            Ok(IpAddr::V6(v6)) => v6
                .to_ipv4_mapped()
                .map(|v4| v4.to_string())
                .unwrap_or_default(),
            Ok(IpAddr::V4(v4)) => v4.to_string(),
            Err(_) => client.chars().take(64).collect(),
        };
        Subject::Address(key)
    }

    /// The key the database stores.
    pub fn key(&self) -> String {
        match self {
            Subject::Account(name) => format!("account:{name}"),
            Subject::Address(address) => format!("address:{address}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_get_free_typos_then_growing_waits_then_a_growing_lock() {
        let p = ThrottlePolicy::for_accounts(10, 15);
        let waits: Vec<i64> = (1..=12).map(|n| p.wait_after(n)).collect();
        assert_eq!(
            waits,
            [0, 0, 0, 0, 0, 1, 2, 4, 8, 900, 1800, 3600],
            "five free failures, waits, then 15 minutes doubling"
        );
        assert_eq!(
            p.wait_after(1000),
            24 * 3600,
            "the lock always ends within a day"
        );
        assert!(p.starts_lock(10) && !p.starts_lock(11) && !p.starts_lock(9));
    }

    #[test]
    fn a_hundred_failures_take_months() {
        let p = ThrottlePolicy::for_accounts(10, 15);
        let seconds: i64 = (1..100).map(|n| p.wait_after(n)).sum();
        assert!(seconds > 60 * 24 * 3600, "{seconds} s");
    }

    #[test]
    fn addresses_have_a_fixed_lock_and_a_free_half() {
        let p = ThrottlePolicy::for_addresses(100, 15);
        assert_eq!(p.wait_after(50), 0);
        assert_eq!(p.wait_after(51), 1);
        assert_eq!(p.wait_after(99), 60, "growing waits are capped at a minute");
        assert_eq!(p.wait_after(100), 900);
        assert_eq!(p.wait_after(500), 900);
    }

    #[test]
    fn the_schedule_matches_the_waits() {
        for p in [
            ThrottlePolicy::for_accounts(10, 15),
            ThrottlePolicy::for_accounts(1, 1),
            ThrottlePolicy::for_addresses(100, 15),
            ThrottlePolicy::for_addresses(100_000, 15),
        ] {
            let steps = p.schedule();
            assert!(steps.len() < 40, "{} steps", steps.len());
            for n in 1..p.lock_after + 400 {
                let looked_up = steps.iter().rev().find(|(from, _)| *from <= n).unwrap().1;
                assert_eq!(looked_up, p.wait_after(n), "{p:?} at {n}");
            }
        }
    }

    #[test]
    fn subjects_group_ipv6_by_prefix_and_keep_ipv4_whole() {
        assert_eq!(
            Subject::address("2001:db8:1:2:aaaa::1").key(),
            Subject::address("2001:db8:1:2:bbbb::9").key()
        );
        assert_ne!(
            Subject::address("2001:db8:1:2::1").key(),
            Subject::address("2001:db8:1:3::1").key()
        );
        assert_eq!(
            Subject::address("::ffff:192.0.2.7").key(),
            "address:192.0.2.7"
        );
        assert_eq!(Subject::account(Some("jan")).key(), "account:jan");
        assert_eq!(
            Subject::account(None).key(),
            Subject::account(None).key(),
            "all invalid names share one subject"
        );
    }
}
