//! Request budgets per minute: the admin API's per machine client, and the passkey
//! ceremonies that a page without a login starts (per address, and for all addresses).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Requests per minute per client, counted in fixed one-minute windows. Kept in each
/// instance's memory: behind a load balancer of N instances a client may make up to N times
/// as many; the limit is a guard against a runaway integration, not an accounting.
///
/// Hand-written rather than `governor`: that crate brings a second `hashbrown` (through
/// `dashmap`), which the supply-chain policy (deny.toml) refuses, and a window per client is
/// a map and a counter.
pub struct ApiLimiter {
    per_minute: u32,
    /// Client id → (the window's minute, requests in it).
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

impl ApiLimiter {
    pub fn new(per_minute: u32) -> Arc<ApiLimiter> {
        Arc::new(ApiLimiter {
            per_minute: per_minute.max(1),
            windows: Mutex::new(HashMap::new()),
        })
    }

    /// Counts a request of `client_id` at `now`: `None` if it may go on, otherwise the
    /// seconds until the next window.
    pub fn wait(&self, client_id: &str, now: i64) -> Option<u64> {
        let minute = now.div_euclid(60);
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        // Forget the windows that have passed, so the map holds only active clients.
        if windows.len() > 1024 {
            windows.retain(|_, (m, _)| *m == minute);
        }
        let window = windows.entry(client_id.to_owned()).or_insert((minute, 0));
        if window.0 != minute {
            *window = (minute, 0);
        }
        if window.1 >= self.per_minute {
            return Some((60 - now.rem_euclid(60)).max(1) as u64);
        }
        window.1 += 1;
        None
    }
}

/// Passkey login ceremonies one address may start per minute: a person reloading the page
/// stays far below it; a flood stops there, before it loads the database's writer.
pub const CEREMONIES_PER_ADDRESS: u32 = 20;
/// ... and all addresses together: the cap on what a distributed flood can write (about 100
/// ceremonies a second), which also bounds the per-address map to that many entries a minute.
pub const CEREMONIES_IN_ALL: u32 = 6_000;

/// The budget of passkey ceremonies started without a login.
pub struct CeremonyBudget {
    in_all: Arc<ApiLimiter>,
    per_address: Arc<ApiLimiter>,
}

impl CeremonyBudget {
    pub fn new() -> Arc<CeremonyBudget> {
        Arc::new(CeremonyBudget {
            in_all: ApiLimiter::new(CEREMONIES_IN_ALL),
            per_address: ApiLimiter::new(CEREMONIES_PER_ADDRESS),
        })
    }

    /// Counts a ceremony for `address` at `now`: `None` if it may be started, otherwise the
    /// seconds until one may.
    pub fn wait(&self, address: &str, now: i64) -> Option<u64> {
        self.in_all
            .wait("*", now)
            .or_else(|| self.per_address.wait(address, now))
    }
}

#[cfg(test)]
mod tests {
    use super::ApiLimiter;

    #[test]
    fn each_client_has_its_budget_per_minute() {
        let limiter = ApiLimiter::new(2);
        let start = 6_000; // the start of a minute
        assert_eq!(limiter.wait("a", start), None);
        assert_eq!(limiter.wait("a", start + 10), None);
        assert_eq!(limiter.wait("a", start + 15), Some(45));
        assert_eq!(limiter.wait("b", start + 15), None, "another client");
        assert_eq!(limiter.wait("a", start + 60), None, "a new minute");
    }

    #[test]
    fn ceremonies_are_limited_per_address_and_in_all() {
        let budget = super::CeremonyBudget::new();
        let start = 6_000;
        for _ in 0..super::CEREMONIES_PER_ADDRESS {
            assert_eq!(budget.wait("10.0.0.1", start), None);
        }
        assert!(
            budget.wait("10.0.0.1", start).is_some(),
            "one address's flood stops"
        );
        let mut others = 0;
        while budget
            .wait(&format!("10.1.{}.{}", others / 250, others % 250), start)
            .is_none()
        {
            others += 1;
        }
        assert!(
            others < super::CEREMONIES_IN_ALL,
            "every address together is capped too"
        );
        assert_eq!(budget.wait("10.0.0.1", start + 60), None, "a new minute");
    }
}
