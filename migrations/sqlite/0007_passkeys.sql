-- Passkeys (WebAuthn): the credentials users register, the ceremonies in progress, how each
-- session's login was made (for `amr`/`acr`), and what an organization allows or requires.
-- The same tables as migrations/postgres, in SQLite's types.

-- The WebAuthn user handle: random, never the id or a name (it is stored in the
-- authenticator and sent back by a passkey login, which looks the user up by it).
ALTER TABLE users ADD COLUMN passkey_handle BLOB;
CREATE UNIQUE INDEX users_passkey_handle ON users (passkey_handle);

CREATE TABLE passkeys (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The authenticator's credential id: one credential, one user (WebAuthn §7.1 step 22).
    credential_id   BLOB    NOT NULL UNIQUE,
    name            TEXT    NOT NULL,
    -- The public key, signature counter and flags as webauthn-rs keeps them (JSON).
    credential      TEXT    NOT NULL,
    -- The signature counter again, so that a use is stored only over the counter it was
    -- checked against (two uses at once: one wins).
    counter         INTEGER NOT NULL,
    backup_eligible INTEGER NOT NULL,
    backup_state    INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- A registration or authentication in progress: its challenge and state, used once, for
-- five minutes, on whichever instance the answer reaches.
CREATE TABLE passkey_ceremonies (
    id_hash    BLOB    PRIMARY KEY,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('register', 'second_step', 'login')),
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX passkey_ceremonies_expiry ON passkey_ceremonies (expires_at);

-- How the session's login was made (`pwd_otp`, `passkey_swk` …; see domain::login_method).
ALTER TABLE sessions ADD COLUMN method TEXT;

-- "Inloggen met een passkey" allowed (default), and from when passkeys are required.
ALTER TABLE organizations ADD COLUMN passkey_login INTEGER NOT NULL DEFAULT 1;
ALTER TABLE organizations ADD COLUMN passkey_required_from INTEGER;
