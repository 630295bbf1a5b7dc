-- OpenID Connect: registered clients, signing keys, authorization codes, grants with their
-- refresh tokens, remembered consent, and the back-channel logout queue.
-- The same tables as migrations/postgres, in SQLite's types.

CREATE TABLE oidc_clients (
    id                        TEXT    PRIMARY KEY,
    name                      TEXT    NOT NULL,
    -- SHA-256 of the client secret (a 256-bit random value); NULL for a public client.
    secret_hash               BLOB,
    -- One URI per line; a requested URI must equal one of them exactly.
    redirect_uris             TEXT    NOT NULL,
    post_logout_redirect_uris TEXT    NOT NULL,
    backchannel_logout_uri    TEXT,
    first_party               INTEGER NOT NULL,
    id_token_alg              TEXT    NOT NULL CHECK (id_token_alg IN ('ES256', 'RS256')),
    created_at                INTEGER  NOT NULL
);

-- A client limited to some organizations; a client with no rows here serves all.
CREATE TABLE oidc_client_orgs (
    client_id TEXT   NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    org_id    INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    PRIMARY KEY (client_id, org_id)
);

-- The stable, opaque `sub` of a user, made at the user's first OpenID Connect login.
CREATE TABLE oidc_subjects (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    subject TEXT   NOT NULL UNIQUE
);

-- Token-signing keys, sealed with the keyring (the key id as associated data). A key signs
-- from `signs_from` until a newer key's `signs_from`; it is published in the JWKS until
-- `published_until` (NULL: as long as it signs).
CREATE TABLE oidc_signing_keys (
    kid             TEXT     PRIMARY KEY,
    alg             TEXT     NOT NULL CHECK (alg IN ('ES256', 'RS256')),
    key_version     INTEGER  NOT NULL,
    sealed          BLOB    NOT NULL,
    public_jwk      TEXT     NOT NULL,
    created_at      INTEGER   NOT NULL,
    signs_from      INTEGER   NOT NULL,
    published_until INTEGER
);

-- Authorization codes (SHA-256 digests), single-use: redeemed by one conditional UPDATE.
CREATE TABLE oidc_codes (
    code_hash      BLOB  PRIMARY KEY,
    client_id      TEXT   NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_hash   BLOB  NOT NULL,
    redirect_uri   TEXT   NOT NULL,
    scope          TEXT   NOT NULL,
    nonce          TEXT,
    code_challenge TEXT   NOT NULL,
    auth_time      INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    -- The grant the redemption started: revoked when the code is presented again.
    grant_id       TEXT
);
CREATE INDEX oidc_codes_expiry ON oidc_codes (expires_at);

-- What one code redemption started: its refresh tokens (one family), tied to the login
-- session. Revoked on reuse of a refresh token or code, on revocation, or when the session
-- ends (`ended_at`, which also queues the back-channel logout).
CREATE TABLE oidc_grants (
    id           TEXT   PRIMARY KEY,
    client_id    TEXT   NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_hash BLOB  NOT NULL,
    scope        TEXT   NOT NULL,
    auth_time    INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    ended_at     INTEGER
);
CREATE INDEX oidc_grants_session ON oidc_grants (session_hash);
CREATE INDEX oidc_grants_open ON oidc_grants (ended_at);

-- Refresh tokens (SHA-256 digests). Each is used once; a used one presented again revokes
-- its whole grant (RFC 9700 §4.14.2).
CREATE TABLE oidc_refresh_tokens (
    token_hash BLOB  PRIMARY KEY,
    grant_id   TEXT   NOT NULL REFERENCES oidc_grants (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX oidc_refresh_tokens_grant ON oidc_refresh_tokens (grant_id);

-- Consent a user gave a (not first-party) client, for these scopes.
CREATE TABLE oidc_consents (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT   NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    scope      TEXT   NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

-- Back-channel logout tokens to deliver: queued when a session with grants ends, retried
-- with back-off like mail, deleted once the client accepted it.
CREATE TABLE oidc_logouts (
    client_id       TEXT   NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    session_hash    BLOB  NOT NULL,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    last_error      TEXT,
    PRIMARY KEY (client_id, session_hash)
);
CREATE INDEX oidc_logouts_due ON oidc_logouts (next_attempt_at);
