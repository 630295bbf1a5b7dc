-- Organizations, their users, invitation links, sessions, and the e-mail outbox.
-- Times are Unix seconds (UTC). Tokens and session ids are stored only as SHA-256 digests.

CREATE TABLE organizations (
    id               INTEGER PRIMARY KEY,
    slug             TEXT    NOT NULL UNIQUE,
    name             TEXT    NOT NULL,
    language         TEXT    NOT NULL CHECK (language IN ('nl', 'en')),
    min_length       INTEGER NOT NULL,
    max_length       INTEGER NOT NULL,
    require_lowercase INTEGER NOT NULL DEFAULT 0,
    require_uppercase INTEGER NOT NULL DEFAULT 0,
    require_digit    INTEGER NOT NULL DEFAULT 0,
    require_symbol   INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES organizations (id),
    username      TEXT    NOT NULL UNIQUE,
    email         TEXT    NOT NULL,
    display_name  TEXT    NOT NULL,
    password_hash TEXT,
    state         TEXT    NOT NULL CHECK (state IN ('invited', 'active')),
    created_at    INTEGER NOT NULL,
    activated_at  INTEGER
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE invitations (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash    BLOB    NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER,
    superseded_at INTEGER
);
CREATE INDEX invitations_user ON invitations (user_id);

CREATE TABLE sessions (
    id_hash      BLOB    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stage        TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Mail waiting to be delivered. A row is written in the same transaction as the change that
-- causes it and deleted once the SMTP server has accepted it; until then it is retried.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    sender          TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    message         BLOB    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at);

-- The development mailbox: delivered mail when no SMTP server is configured.
CREATE TABLE dev_mail (
    id          INTEGER PRIMARY KEY,
    recipient   TEXT    NOT NULL,
    message     BLOB    NOT NULL,
    received_at INTEGER NOT NULL
);
