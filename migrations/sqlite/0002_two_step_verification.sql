-- Two-step verification with an authenticator app.

-- One TOTP credential per user: pending (set-up mail sent, not yet confirmed with a code) or
-- active. The secret is sealed with AES-256-GCM, the user id as associated data.
CREATE TABLE totp_credentials (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    key_version  INTEGER NOT NULL,
    sealed       BLOB    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('pending', 'active')),
    created_at   INTEGER NOT NULL,
    -- A pending secret stops working at this time; NULL once active.
    expires_at   INTEGER,
    -- The last accepted time step: a code is accepted only for a newer step (no replay).
    last_step    INTEGER,
    activated_at INTEGER
);

-- Set-up e-mails sent, for the "Nieuwe code" rate limit.
CREATE TABLE totp_setup_mails (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sent_at INTEGER NOT NULL
);
CREATE INDEX totp_setup_mails_user ON totp_setup_mails (user_id, sent_at);

-- Wrong codes typed in this session, counted before they are checked.
ALTER TABLE sessions ADD COLUMN failed_codes INTEGER NOT NULL DEFAULT 0;

-- Mail that is worthless after a time (a set-up mail whose secret expired) is dropped, not
-- sent late, and its secret leaves the database with it.
ALTER TABLE outbox ADD COLUMN discard_after INTEGER;
