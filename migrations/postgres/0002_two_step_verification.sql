-- Two-step verification with an authenticator app (see migrations/sqlite).

CREATE TABLE totp_credentials (
    user_id      BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    key_version  INTEGER NOT NULL,
    sealed       BYTEA   NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('pending', 'active')),
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT,
    last_step    BIGINT,
    activated_at BIGINT
);

CREATE TABLE totp_setup_mails (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sent_at BIGINT NOT NULL
);
CREATE INDEX totp_setup_mails_user ON totp_setup_mails (user_id, sent_at);

ALTER TABLE sessions ADD COLUMN failed_codes BIGINT NOT NULL DEFAULT 0;

ALTER TABLE outbox ADD COLUMN discard_after BIGINT;
