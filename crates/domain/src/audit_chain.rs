//! The audit log as a hash chain: each sealed record's hash covers its own fields, its place
//! in the chain and the hash of the record before it, so that changing, removing or putting
//! in a record breaks every hash after it. Signed checkpoints of the chain's head make a
//! rewritten chain (every hash computed again) visible too: nobody without the server's
//! signing key can sign the new head.
//!
//! Hand-written because it is the heart of the promise and small: SHA-256 over a fixed,
//! length-prefixed encoding (so that no two different records encode alike), and a walk
//! that names the first record that does not fit.

use sha2::{Digest, Sha256};

/// A record's hash in the chain.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainHash(pub [u8; 32]);

impl ChainHash {
    /// Before the first record.
    pub const GENESIS: ChainHash = ChainHash([0; 32]);

    pub fn from_slice(bytes: &[u8]) -> Option<ChainHash> {
        Some(ChainHash(bytes.try_into().ok()?))
    }

    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(text: &str) -> Option<ChainHash> {
        if text.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(ChainHash(bytes))
    }
}

impl std::fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChainHash({})", &self.hex()[..16])
    }
}

/// The fields of an audit record that its hash covers: all of them but the database's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chained<'a> {
    pub at: i64,
    pub event: &'a str,
    pub outcome: &'a str,
    pub org_id: Option<i64>,
    pub user_id: Option<i64>,
    pub username: Option<&'a str>,
    pub client: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// The hash of the record at `seq` whose predecessor's hash is `previous`.
pub fn link(previous: &ChainHash, seq: i64, record: &Chained<'_>) -> ChainHash {
    let mut hash = Sha256::new();
    hash.update(b"poortwachter audit v1\0");
    hash.update(previous.0);
    hash.update(seq.to_be_bytes());
    hash.update(record.at.to_be_bytes());
    for text in [Some(record.event), Some(record.outcome)] {
        text_field(&mut hash, text);
    }
    for number in [record.org_id, record.user_id] {
        match number {
            Some(n) => {
                hash.update([1]);
                hash.update(n.to_be_bytes());
            }
            None => hash.update([0]),
        }
    }
    for text in [record.username, record.client, record.detail] {
        text_field(&mut hash, text);
    }
    ChainHash(hash.finalize().into())
}

/// A text as absent, or present with its length first: `("ab", "c")` and `("a", "bc")`
/// encode differently.
fn text_field(hash: &mut Sha256, text: Option<&str>) {
    match text {
        Some(text) => {
            hash.update([1]);
            hash.update((text.len() as u64).to_be_bytes());
            hash.update(text.as_bytes());
        }
        None => hash.update([0]),
    }
}

/// Where a walk of the chain starts: before the first record, or at a checkpoint whose
/// records before it were pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: ChainHash,
}

impl Anchor {
    pub const GENESIS: Anchor = Anchor {
        seq: 0,
        hash: ChainHash::GENESIS,
    };
}

/// The first thing a walk found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The record at `seq` is not what was sealed there: changed, or put in with a made-up
    /// hash.
    Altered { seq: i64, id: i64 },
    /// The chain jumps from `after` to `found`: the records between are gone.
    Missing { after: i64, found: i64 },
    /// A signed checkpoint says the chain's hash at `seq` was something else: the chain was
    /// rewritten (or that record removed with everything after it recomputed).
    Checkpoint { seq: i64 },
    /// A checkpoint whose signature does not check (made or changed without the key).
    Forged { seq: i64 },
    /// A checkpoint at `seq` while the chain ends before it: records at the end are gone.
    Truncated { seq: i64, head: i64 },
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Altered { seq, id } => write!(
                f,
                "record {seq} (row {id}) does not match its hash: changed, or put in afterwards"
            ),
            Break::Missing { after, found } => write!(
                f,
                "records {} to {} are missing (the chain goes from {after} to {found})",
                after + 1,
                found - 1
            ),
            Break::Checkpoint { seq } => write!(
                f,
                "the signed checkpoint at record {seq} does not match the chain: it was rewritten"
            ),
            Break::Forged { seq } => write!(
                f,
                "the checkpoint at record {seq} has no valid signature of this server"
            ),
            Break::Truncated { seq, head } => write!(
                f,
                "a checkpoint names record {seq} but the chain ends at {head}: records were removed"
            ),
        }
    }
}

/// Walks the chain one record at a time, in `seq` order.
#[derive(Debug, Clone)]
pub struct Walk {
    last: Anchor,
    checked: u64,
}

impl Walk {
    pub fn from(anchor: Anchor) -> Walk {
        Walk {
            last: anchor,
            checked: 0,
        }
    }

    /// The next stored record: its place, row id, stored hash and fields.
    pub fn next(
        &mut self,
        seq: i64,
        id: i64,
        stored: &ChainHash,
        record: &Chained<'_>,
    ) -> Result<(), Break> {
        if seq != self.last.seq + 1 {
            return Err(if seq > self.last.seq + 1 {
                Break::Missing {
                    after: self.last.seq,
                    found: seq,
                }
            } else {
                Break::Altered { seq, id }
            });
        }
        let expected = link(&self.last.hash, seq, record);
        if expected != *stored {
            return Err(Break::Altered { seq, id });
        }
        self.last = Anchor {
            seq,
            hash: expected,
        };
        self.checked += 1;
        Ok(())
    }

    /// The last record checked (or the anchor).
    pub fn head(&self) -> Anchor {
        self.last
    }

    pub fn checked(&self) -> u64 {
        self.checked
    }
}

/// What a checkpoint signs: the chain's head at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: ChainHash,
    pub at: i64,
}

impl Checkpoint {
    /// The claims of the signed checkpoint (a JWS the server signs like its tokens).
    pub fn claims(&self) -> serde_json::Value {
        serde_json::json!({ "seq": self.seq, "hash": self.hash.hex(), "iat": self.at })
    }

    /// The checkpoint a signature's claims state (`None` if they are not one).
    pub fn from_claims(claims: &serde_json::Value) -> Option<Checkpoint> {
        Some(Checkpoint {
            seq: claims.get("seq")?.as_i64()?,
            hash: ChainHash::from_hex(claims.get("hash")?.as_str()?)?,
            at: claims.get("iat")?.as_i64()?,
        })
    }
}

/// Where pruning may cut: the records it removes are older than `keep_since`, and the cut is
/// at a checkpoint, so that the walk can start there. `records` are `(seq, at)` of the oldest
/// sealed records, in order; the answer is the last `seq` that may go.
pub fn prune_cut(records: &[(i64, i64)], keep_since: i64) -> Option<i64> {
    records
        .iter()
        .take_while(|(_, at)| *at < keep_since)
        .last()
        .map(|(seq, _)| *seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(at: i64, detail: Option<&str>) -> Chained<'_> {
        Chained {
            at,
            event: "login_code",
            outcome: "success",
            org_id: Some(1),
            user_id: Some(7),
            username: Some("jan"),
            client: Some("127.0.0.1"),
            detail,
        }
    }

    fn chain(n: i64) -> Vec<(i64, ChainHash)> {
        let mut previous = ChainHash::GENESIS;
        (1..=n)
            .map(|seq| {
                previous = link(&previous, seq, &record(1000 + seq, None));
                (seq, previous)
            })
            .collect()
    }

    #[test]
    fn every_field_and_the_place_change_the_hash() {
        let base = record(1, Some("x"));
        let h = link(&ChainHash::GENESIS, 1, &base);
        let variants = [
            Chained { at: 2, ..base },
            Chained {
                event: "login_password",
                ..base
            },
            Chained {
                outcome: "failure",
                ..base
            },
            Chained {
                org_id: None,
                ..base
            },
            Chained {
                user_id: Some(8),
                ..base
            },
            Chained {
                username: Some("jaN"),
                ..base
            },
            Chained {
                client: None,
                ..base
            },
            Chained {
                detail: Some("y"),
                ..base
            },
            Chained {
                detail: None,
                ..base
            },
        ];
        for variant in variants {
            assert_ne!(link(&ChainHash::GENESIS, 1, &variant), h, "{variant:?}");
        }
        assert_ne!(link(&ChainHash::GENESIS, 2, &base), h);
        assert_ne!(link(&h, 1, &base), h);
        // Moving text from one field to the next is a different record.
        let a = Chained {
            username: Some("ab"),
            client: Some("c"),
            ..base
        };
        let b = Chained {
            username: Some("a"),
            client: Some("bc"),
            ..base
        };
        assert_ne!(
            link(&ChainHash::GENESIS, 1, &a),
            link(&ChainHash::GENESIS, 1, &b)
        );
    }

    #[test]
    fn a_walk_accepts_the_chain_and_names_the_first_break() {
        let stored = chain(5);
        let mut walk = Walk::from(Anchor::GENESIS);
        for (seq, hash) in &stored {
            walk.next(*seq, *seq, hash, &record(1000 + seq, None))
                .unwrap();
        }
        assert_eq!(walk.checked(), 5);
        assert_eq!(walk.head().hash, stored[4].1);

        // A changed field.
        let mut walk = Walk::from(Anchor::GENESIS);
        walk.next(1, 1, &stored[0].1, &record(1001, None)).unwrap();
        assert_eq!(
            walk.next(2, 2, &stored[1].1, &record(1002, Some("changed"))),
            Err(Break::Altered { seq: 2, id: 2 })
        );

        // A record gone.
        let mut walk = Walk::from(Anchor::GENESIS);
        walk.next(1, 1, &stored[0].1, &record(1001, None)).unwrap();
        assert_eq!(
            walk.next(3, 3, &stored[2].1, &record(1003, None)),
            Err(Break::Missing { after: 1, found: 3 })
        );

        // A record put in at a place already taken.
        let mut walk = Walk::from(Anchor::GENESIS);
        walk.next(1, 1, &stored[0].1, &record(1001, None)).unwrap();
        assert_eq!(
            walk.next(1, 9, &stored[0].1, &record(1001, None)),
            Err(Break::Altered { seq: 1, id: 9 })
        );
    }

    #[test]
    fn a_walk_starts_at_an_anchor_after_pruning() {
        let stored = chain(5);
        let mut walk = Walk::from(Anchor {
            seq: 3,
            hash: stored[2].1,
        });
        walk.next(4, 4, &stored[3].1, &record(1004, None)).unwrap();
        walk.next(5, 5, &stored[4].1, &record(1005, None)).unwrap();
        // From a wrong anchor, the first record does not fit.
        let mut wrong = Walk::from(Anchor {
            seq: 3,
            hash: stored[1].1,
        });
        assert!(wrong.next(4, 4, &stored[3].1, &record(1004, None)).is_err());
    }

    #[test]
    fn checkpoint_claims_round_trip_and_hex_is_strict() {
        let checkpoint = Checkpoint {
            seq: 42,
            hash: chain(1)[0].1,
            at: 1_800_000_000,
        };
        assert_eq!(
            Checkpoint::from_claims(&checkpoint.claims()),
            Some(checkpoint)
        );
        assert_eq!(ChainHash::from_hex("00"), None);
        assert_eq!(ChainHash::from_hex(&"zz".repeat(32)), None);
    }

    #[test]
    fn pruning_cuts_only_before_the_retention_boundary() {
        let records = [(1, 10), (2, 20), (3, 30), (4, 40)];
        assert_eq!(prune_cut(&records, 5), None);
        assert_eq!(prune_cut(&records, 21), Some(2));
        assert_eq!(prune_cut(&records, 100), Some(4));
    }
}
