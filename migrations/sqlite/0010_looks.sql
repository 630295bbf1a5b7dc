-- An organization's own look (issue 25): accent colour, logo (PNG, served under its hash)
-- and the name its mails are sent under. One row per organization that has one.
CREATE TABLE org_looks (
    org_id      INTEGER PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    accent      TEXT,
    sender_name TEXT,
    logo        BLOB,
    logo_hash   TEXT UNIQUE,
    updated_at  INTEGER NOT NULL
);
