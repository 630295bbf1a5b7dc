-- Events out and evidence kept (issue 26): the audit log as a hash chain with signed
-- checkpoints, and webhook subscriptions with their delivery outbox. The same tables as
-- migrations/sqlite, in PostgreSQL's types.

-- A record's place in the chain and its hash; NULL until the sealer (src/evidence) links
-- it, a moment after it was written.
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN hash BYTEA;
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);
CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE seq IS NULL;

-- The chain's one head row: the sealer locks it, so that only one instance links at a time
-- (no forks). `anchor_*` is where a walk starts: the genesis, or the checkpoint pruning cut at.
CREATE TABLE audit_chain (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    head_seq    BIGINT NOT NULL,
    head_hash   BYTEA    NOT NULL,
    anchor_seq  BIGINT NOT NULL,
    anchor_hash BYTEA    NOT NULL
);
INSERT INTO audit_chain (id, head_seq, head_hash, anchor_seq, anchor_hash)
    VALUES (1, 0, decode(repeat('00', 32), 'hex'), 0, decode(repeat('00', 32), 'hex'));

-- The chain's head at a moment, signed with the server's token-signing key (a JWS).
CREATE TABLE audit_checkpoints (
    seq   BIGINT PRIMARY KEY,
    hash  BYTEA    NOT NULL,
    at    BIGINT NOT NULL,
    token TEXT    NOT NULL
);

-- Who hears of what: per organization, or (org_id NULL) for every organization.
CREATE TABLE webhook_subscriptions (
    id              BIGSERIAL PRIMARY KEY,
    public_id       TEXT    NOT NULL UNIQUE,
    org_id          BIGINT REFERENCES organizations (id) ON DELETE CASCADE,
    url             TEXT    NOT NULL,
    -- `*` (every event but logins) or event names separated by commas.
    events          TEXT    NOT NULL,
    description     TEXT    NOT NULL DEFAULT '',
    -- The signing secret, sealed with the keyring; during a rotation the one before it
    -- signs too, until `previous_until`.
    secret_version  BIGINT NOT NULL,
    secret          BYTEA    NOT NULL,
    previous_version BIGINT,
    previous_secret BYTEA,
    previous_until  BIGINT,
    created_at      BIGINT NOT NULL,
    -- Set when a delivery was given up on (after more than a day of retries); cleared by
    -- the next delivery that succeeds.
    failing_since   BIGINT,
    last_attempt_at BIGINT,
    -- The receiver's last answer: `HTTP 200`, `HTTP 503`, `timed out` …
    last_answer     TEXT
);

-- One row per event and subscription: the outbox of webhooks, claimed with a lease like mail.
CREATE TABLE webhook_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    subscription_id BIGINT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    -- The audit record's place in the chain: one delivery per event and subscription.
    seq             BIGINT NOT NULL,
    -- Deliveries with the same key (one user) go out in order.
    ordering_key    TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    lease_until     BIGINT,
    delivered_at    BIGINT,
    given_up_at     BIGINT,
    last_answer     TEXT,
    UNIQUE (subscription_id, seq)
);
CREATE INDEX webhook_deliveries_open ON webhook_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND given_up_at IS NULL;
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (subscription_id, ordering_key, seq)
    WHERE delivered_at IS NULL AND given_up_at IS NULL;
