-- Toegang op orde: the logins an application expects of a user (a deadline that needs one),
-- and whether the look-ahead mail for each went out. No health data: a date, the
-- application's own key and an optional label. The same table as migrations/postgres, in
-- SQLite's types.

CREATE TABLE expected_logins (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The application's key for this expected login (idempotent per user and key).
    login_key   TEXT    NOT NULL,
    due_at      INTEGER NOT NULL,
    label       TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    -- When the look-ahead mail went out; NULL again when the date changes.
    reminded_at INTEGER,
    PRIMARY KEY (user_id, login_key)
);
CREATE INDEX expected_logins_due ON expected_logins (due_at);
