-- The admin API and the HR console: machine clients (client credentials), idempotent
-- requests, the beheerder role, and what the onboarding overview shows of each invitation's
-- mail. The same tables as migrations/sqlite, in PostgreSQL's types.

-- How a client gets tokens: a user's login (authorization_code, refresh_token) or its own
-- credentials for the admin API (client_credentials, RFC 6749 §4.4). Never both.
ALTER TABLE oidc_clients ADD COLUMN grant_type TEXT NOT NULL DEFAULT 'authorization_code'
    CHECK (grant_type IN ('authorization_code', 'client_credentials'));

-- A request made with an Idempotency-Key and its answer, kept a day: the same key again
-- gets the same answer and does nothing (a retried invitation never sends two mails).
CREATE TABLE api_idempotency (
    client_id       TEXT    NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    idempotency_key TEXT    NOT NULL,
    -- SHA-256 of the method, path and body: the same key with another request is refused.
    fingerprint     BYTEA   NOT NULL,
    status          INTEGER NOT NULL,
    body            TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    PRIMARY KEY (client_id, idempotency_key)
);
CREATE INDEX api_idempotency_age ON api_idempotency (created_at);

-- Roles a user has in their own organization ('beheerder': may use the console).
CREATE TABLE user_roles (
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL CHECK (role IN ('beheerder')),
    granted_at BIGINT  NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- The invitation mail in the outbox (its row goes when it is sent), when it was sent, and
-- the SMTP server's last refusal: the onboarding overview shows where each invitation is.
ALTER TABLE invitations ADD COLUMN mail_id BIGINT;
ALTER TABLE invitations ADD COLUMN mail_sent_at BIGINT;
ALTER TABLE invitations ADD COLUMN mail_error TEXT;
CREATE INDEX invitations_mail ON invitations (mail_id);

-- When the session's user last confirmed with their app's code (the console asks again
-- before a destructive action when the login is older than ten minutes).
ALTER TABLE sessions ADD COLUMN confirmed_at BIGINT;
