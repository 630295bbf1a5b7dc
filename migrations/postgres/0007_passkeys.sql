-- Passkeys (WebAuthn): the credentials users register, the ceremonies in progress, how each
-- session's login was made (for `amr`/`acr`), and what an organization allows or requires.
-- The same tables as migrations/sqlite, in PostgreSQL's types.

-- The WebAuthn user handle: random, never the id or a name (it is stored in the
-- authenticator and sent back by a passkey login, which looks the user up by it).
ALTER TABLE users ADD COLUMN passkey_handle BYTEA;
CREATE UNIQUE INDEX users_passkey_handle ON users (passkey_handle);

CREATE TABLE passkeys (
    id              BIGSERIAL PRIMARY KEY,
    user_id         BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The authenticator's credential id: one credential, one user (WebAuthn §7.1 step 22).
    credential_id   BYTEA   NOT NULL UNIQUE,
    name            TEXT    NOT NULL,
    -- The public key, signature counter and flags as webauthn-rs keeps them (JSON).
    credential      TEXT    NOT NULL,
    -- The signature counter again, so that a use is stored only over the counter it was
    -- checked against (two uses at once: one wins).
    counter         BIGINT  NOT NULL,
    backup_eligible BOOLEAN NOT NULL,
    backup_state    BOOLEAN NOT NULL,
    created_at      BIGINT  NOT NULL,
    last_used_at    BIGINT
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- A registration or authentication in progress: its challenge and state, used once, for
-- five minutes, on whichever instance the answer reaches.
CREATE TABLE passkey_ceremonies (
    id_hash    BYTEA   PRIMARY KEY,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('register', 'second_step', 'login')),
    user_id    BIGINT  REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX passkey_ceremonies_expiry ON passkey_ceremonies (expires_at);

-- How the session's login was made (`pwd_otp`, `passkey_swk` …; see domain::login_method).
ALTER TABLE sessions ADD COLUMN method TEXT;

-- "Inloggen met een passkey" allowed (default), and from when passkeys are required.
ALTER TABLE organizations ADD COLUMN passkey_login BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE organizations ADD COLUMN passkey_required_from BIGINT;
