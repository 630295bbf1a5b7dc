//! The admin API's request budget per machine client.

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
}
