-- Hardening: throttling of failed attempts, disabled accounts, the audit log.

-- Failed password and code attempts, counted per subject ('account:<username>' or
-- 'address:<client address>') before they are checked. An unknown username gets a row like a
-- real one, so the throttle answers the same whether the account exists or not.
CREATE TABLE throttle (
    subject       TEXT    PRIMARY KEY,
    failures      BIGINT  NOT NULL,
    -- No attempt is checked before this time (a growing wait, or a lock).
    blocked_until BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX throttle_blocked ON throttle (blocked_until);

-- Set by an administrator: the account cannot log in or activate, its sessions are gone.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;

-- Security events. No secret is ever written here (see src/domain/audit.rs). Rows keep the
-- ids of users and organizations that may later be removed: the log outlives them.
CREATE TABLE audit_log (
    id       BIGSERIAL PRIMARY KEY,
    at       BIGINT NOT NULL,
    event    TEXT    NOT NULL,
    outcome  TEXT    NOT NULL,
    org_id   BIGINT,
    user_id  BIGINT,
    username TEXT,
    client   TEXT,
    detail   TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_user ON audit_log (user_id, at);
CREATE INDEX audit_log_org ON audit_log (org_id, at);

CREATE INDEX sessions_expiry ON sessions (expires_at);
