//! Refresh-token rotations that wait for SQLite's one writer at the same time are committed
//! together: one transaction, one call to the writer's thread, for all of them.
//!
//! Why: every rotation is a write, and SQLite writes one at a time. Measured on the 2-core
//! machine (docs/performance.md), a rotation held the writer mostly for the hand-overs around
//! it — two pool acquires, a wake of the connection's thread, a wake of the waiting task —
//! not for SQLite's own work, so 32 clients refreshing at once queued for 13 ms on average.
//! Here the first waiting rotation to get the writer takes every rotation queued behind it
//! (up to [`MOST_AT_ONCE`]) and runs them as one multi-statement query between BEGIN and
//! COMMIT; each rotation's statements are the same as alone and only see its own rows, so the
//! outcome of each is the one it would have had in turn (a token presented twice in one
//! group is used by the first and counts as a reuse for the second, as in any order).
//!
//! A group fails or commits as a whole: a failing statement (a full disk, say) fails every
//! rotation in it, nothing of any of them is kept, and each client may present its token
//! again. A rotation whose request has gone (the client hung up while waiting) is left out,
//! so that no token is spent that nobody receives.
//!
//! The queue is plain data and a lock; the store's SQL (`grants.rs`) runs the groups.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::domain::audit::AuditRecord;
use crate::domain::token::TokenHash;
use crate::store::oidc::Liveness;

/// The largest group. Groups come in the powers of two up to it (1, 2, 4 … 32): each size is
/// a query the writer's connection keeps prepared, five statements a rotation, and every
/// size from 1 to 32 would be 2,640 statements kept (measured: 27 MiB more at the peak);
/// the six powers of two are 315.
pub const MOST_AT_ONCE: usize = 32;

/// The group sizes, as the index of each in the queries kept: size `1 << index`.
pub const SIZES: usize = MOST_AT_ONCE.trailing_zeros() as usize + 1;

/// One rotation as the group's query binds it.
pub struct Rotation {
    pub old: TokenHash,
    pub next: TokenHash,
    pub client_id: String,
    pub live: Liveness,
    pub audit: AuditRecord,
}

/// What a rotation's requester receives: the row of its grant (none for an unknown token or
/// another client's), or the group's failure.
pub type Answer<R> = Result<Option<R>, Arc<sqlx::Error>>;

pub struct Waiting<R> {
    pub rotation: Rotation,
    /// The place in the queue, to tell whether a group took this rotation.
    pub number: u64,
    pub reply: oneshot::Sender<Answer<R>>,
}

/// The rotations waiting for the writer.
pub struct RotationQueue<R> {
    waiting: Mutex<(u64, VecDeque<Waiting<R>>)>,
}

impl<R> Default for RotationQueue<R> {
    fn default() -> Self {
        RotationQueue {
            waiting: Mutex::new((0, VecDeque::new())),
        }
    }
}

impl<R> RotationQueue<R> {
    /// Queues `rotation`: its number and where its answer will arrive.
    pub fn push(&self, rotation: Rotation) -> (u64, oneshot::Receiver<Answer<R>>) {
        let (reply, answer) = oneshot::channel();
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let number = waiting.0;
        waiting.0 += 1;
        waiting.1.push_back(Waiting {
            rotation,
            number,
            reply,
        });
        (number, answer)
    }

    /// The next group: the oldest waiting rotations, as many as the largest power of two
    /// that is at most their number and [`MOST_AT_ONCE`], leaving out those whose requester
    /// is no longer waiting. The rest waits for the next group.
    pub fn next_group(&self) -> Vec<Waiting<R>> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        waiting.1.retain(|next| !next.reply.is_closed());
        let size = match waiting.1.len().min(MOST_AT_ONCE) {
            0 => 0,
            n => 1 << n.ilog2(),
        };
        waiting.1.drain(..size).collect()
    }
}

/// The statements of a group of `size` rotations as one query: BEGIN IMMEDIATE, each
/// rotation's statements (`rotation` gives them for its place, the `slot` of its row), COMMIT.
pub fn group_query(size: usize, rotation: impl Fn(usize) -> String) -> String {
    let mut sql = String::from("BEGIN IMMEDIATE; ");
    for slot in 0..size {
        sql.push_str(&rotation(slot));
    }
    sql.push_str("COMMIT");
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit::{AuditEvent, Outcome};

    fn rotation(n: u8) -> Rotation {
        Rotation {
            old: TokenHash([n; 32]),
            next: TokenHash([n + 100; 32]),
            client_id: "c".into(),
            live: Liveness {
                now: 0,
                idle_cutoff: 0,
            },
            audit: AuditRecord::new(0, AuditEvent::TokensIssued, Outcome::Success),
        }
    }

    #[test]
    fn a_group_takes_the_oldest_waiting_and_leaves_out_who_left() {
        let queue = RotationQueue::<()>::default();
        let (first, _a) = queue.push(rotation(1));
        let (_, gone) = queue.push(rotation(2));
        drop(gone);
        let (third, _c) = queue.push(rotation(3));
        let group = queue.next_group();
        let numbers: Vec<u64> = group.iter().map(|w| w.number).collect();
        assert_eq!(numbers, [first, third]);
        assert!(queue.next_group().is_empty());
    }

    #[test]
    fn a_group_is_a_power_of_two_at_most_so_large_and_the_rest_waits_for_the_next() {
        let queue = RotationQueue::<()>::default();
        let answers: Vec<_> = (0..MOST_AT_ONCE + 3)
            .map(|n| queue.push(rotation(n as u8)).1)
            .collect();
        assert_eq!(queue.next_group().len(), MOST_AT_ONCE);
        assert_eq!(queue.next_group().len(), 2, "of three, a group of two");
        assert_eq!(queue.next_group().len(), 1);
        assert!(queue.next_group().is_empty());
        drop(answers);
    }

    #[test]
    fn a_group_query_holds_every_rotation_between_begin_and_commit() {
        let sql = group_query(3, |slot| format!("SELECT {slot}; "));
        assert_eq!(sql, "BEGIN IMMEDIATE; SELECT 0; SELECT 1; SELECT 2; COMMIT");
    }
}
