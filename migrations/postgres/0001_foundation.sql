-- Organizations, their users, invitation links, sessions, and the e-mail outbox.
-- Times are Unix seconds (UTC). Tokens and session ids are stored only as SHA-256 digests.
-- The same tables as migrations/sqlite, in PostgreSQL's types.

CREATE TABLE organizations (
    id                BIGSERIAL PRIMARY KEY,
    slug              TEXT    NOT NULL UNIQUE,
    name              TEXT    NOT NULL,
    language          TEXT    NOT NULL CHECK (language IN ('nl', 'en')),
    min_length        INTEGER NOT NULL,
    max_length        INTEGER NOT NULL,
    require_lowercase BOOLEAN NOT NULL DEFAULT FALSE,
    require_uppercase BOOLEAN NOT NULL DEFAULT FALSE,
    require_digit     BOOLEAN NOT NULL DEFAULT FALSE,
    require_symbol    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at        BIGINT  NOT NULL
);

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    org_id        BIGINT NOT NULL REFERENCES organizations (id),
    username      TEXT   NOT NULL UNIQUE,
    email         TEXT   NOT NULL,
    display_name  TEXT   NOT NULL,
    password_hash TEXT,
    state         TEXT   NOT NULL CHECK (state IN ('invited', 'active')),
    created_at    BIGINT NOT NULL,
    activated_at  BIGINT
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE invitations (
    id            BIGSERIAL PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash    BYTEA  NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT,
    superseded_at BIGINT
);
CREATE INDEX invitations_user ON invitations (user_id);

CREATE TABLE sessions (
    id_hash      BYTEA  PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stage        TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Mail waiting to be delivered, written in the same transaction as the change that causes
-- it, deleted once the SMTP server accepted it; claimed by one instance at a time (lease).
CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    sender          TEXT   NOT NULL,
    recipient       TEXT   NOT NULL,
    message         BYTEA  NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at);

CREATE TABLE dev_mail (
    id          BIGSERIAL PRIMARY KEY,
    recipient   TEXT   NOT NULL,
    message     BYTEA  NOT NULL,
    received_at BIGINT NOT NULL
);
