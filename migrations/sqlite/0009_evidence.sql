-- Events out and evidence kept (issue 26): the audit log as a hash chain with signed
-- checkpoints, and webhook subscriptions with their delivery outbox. The same tables as
-- migrations/postgres, in SQLite's types.

-- A record's place in the chain and its hash; NULL until the sealer (src/evidence) links
-- it, a moment after it was written.
ALTER TABLE audit_log ADD COLUMN seq INTEGER;
ALTER TABLE audit_log ADD COLUMN hash BLOB;
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);
CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE seq IS NULL;

-- The chain's one head row: the sealer locks it, so that only one instance links at a time
-- (no forks). `anchor_*` is where a walk starts: the genesis, or the checkpoint pruning cut at.
CREATE TABLE audit_chain (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    head_seq    INTEGER NOT NULL,
    head_hash   BLOB    NOT NULL,
    anchor_seq  INTEGER NOT NULL,
    anchor_hash BLOB    NOT NULL
);
INSERT INTO audit_chain (id, head_seq, head_hash, anchor_seq, anchor_hash)
    VALUES (1, 0, zeroblob(32), 0, zeroblob(32));

-- The chain's head at a moment, signed with the server's token-signing key (a JWS).
CREATE TABLE audit_checkpoints (
    seq   INTEGER PRIMARY KEY,
    hash  BLOB    NOT NULL,
    at    INTEGER NOT NULL,
    token TEXT    NOT NULL
);

-- Who hears of what: per organization, or (org_id NULL) for every organization.
CREATE TABLE webhook_subscriptions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id       TEXT    NOT NULL UNIQUE,
    org_id          INTEGER REFERENCES organizations (id) ON DELETE CASCADE,
    url             TEXT    NOT NULL,
    -- `*` (every event but logins) or event names separated by commas.
    events          TEXT    NOT NULL,
    description     TEXT    NOT NULL DEFAULT '',
    -- The signing secret, sealed with the keyring; during a rotation the one before it
    -- signs too, until `previous_until`.
    secret_version  INTEGER NOT NULL,
    secret          BLOB    NOT NULL,
    previous_version INTEGER,
    previous_secret BLOB,
    previous_until  INTEGER,
    created_at      INTEGER NOT NULL,
    -- Set when a delivery was given up on (after more than a day of retries); cleared by
    -- the next delivery that succeeds.
    failing_since   INTEGER,
    last_attempt_at INTEGER,
    -- The receiver's last answer: `HTTP 200`, `HTTP 503`, `timed out` …
    last_answer     TEXT
);

-- One row per event and subscription: the outbox of webhooks, claimed with a lease like mail.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id INTEGER NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    -- The audit record's place in the chain: one delivery per event and subscription.
    seq             INTEGER NOT NULL,
    -- Deliveries with the same key (one user) go out in order.
    ordering_key    TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    lease_until     INTEGER,
    delivered_at    INTEGER,
    given_up_at     INTEGER,
    last_answer     TEXT,
    UNIQUE (subscription_id, seq)
);
CREATE INDEX webhook_deliveries_open ON webhook_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND given_up_at IS NULL;
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (subscription_id, ordering_key, seq)
    WHERE delivered_at IS NULL AND given_up_at IS NULL;
