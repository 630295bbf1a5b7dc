-- Self-service recovery: password reset links, herstelcodes (recovery codes), a replacement
-- authenticator app ("Nieuwe telefoon instellen"), remembered devices, and the settings an
-- organization has for them. The same tables as migrations/postgres, in SQLite's types.

-- May users reset a forgotten password by e-mail (1) or must they ask their employer (0)?
ALTER TABLE organizations ADD COLUMN self_service_reset INTEGER NOT NULL DEFAULT 1;
-- For how many days a browser may skip the code step after a correct code; 0 = never.
ALTER TABLE organizations ADD COLUMN remember_device_days INTEGER NOT NULL DEFAULT 0;

-- Password reset links (SHA-256 digests of 256-bit tokens), single-use.
CREATE TABLE password_resets (
    token_hash    BLOB    PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- 'self' (Wachtwoord vergeten?) or 'admin' (user reset-password).
    requested_by  TEXT    NOT NULL CHECK (requested_by IN ('self', 'admin')),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER,
    superseded_at INTEGER,
    -- For a user with two-step verification: the digest of the cookie given to the browser
    -- that passed the second step for this link; only that browser may set the password.
    verified_hash BLOB
);
CREATE INDEX password_resets_user ON password_resets (user_id, created_at);

-- Herstelcodes: single-use look-up secrets, stored as salted SHA-256 digests.
CREATE TABLE recovery_codes (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (user_id, code_hash)
);

-- A new set of herstelcodes, sealed with the keyring, until the user confirms having saved
-- them (then the row goes, and no readable code is left anywhere).
CREATE TABLE recovery_code_reveals (
    user_id     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    key_version INTEGER NOT NULL,
    sealed      BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
);

-- A new phone's secret while the old app still works: it replaces the active secret when
-- its first code is accepted, or stops working at next_expires_at.
ALTER TABLE totp_credentials ADD COLUMN next_key_version INTEGER;
ALTER TABLE totp_credentials ADD COLUMN next_sealed BLOB;
ALTER TABLE totp_credentials ADD COLUMN next_expires_at INTEGER;
ALTER TABLE totp_credentials ADD COLUMN next_last_step INTEGER;

-- Browsers that may skip the code step (Dit apparaat onthouden): the digest of the random
-- cookie, and the browser as the user will recognise it.
CREATE TABLE remembered_devices (
    id_hash      BLOB    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    browser      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX remembered_devices_user ON remembered_devices (user_id);
CREATE INDEX remembered_devices_expiry ON remembered_devices (expires_at);

-- "Wachtwoord vergeten?" finds accounts by e-mail address too.
CREATE INDEX users_email ON users (lower(email));
