-- Staff accounts, their sessions, API keys for integrations, and the log of reads of
-- citizens' full contact details. Secrets are stored only as hashes: passwords as argon2id
-- PHC strings, session tokens and API keys as SHA-256 hex.
CREATE TABLE account (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL,
    scope_kind    TEXT    NOT NULL,
    scope_code    TEXT,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE session (
    token_hash TEXT    PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES account (id),
    csrf_token TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX session_expires ON session (expires_at);

CREATE TABLE api_key (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    key_hash   TEXT    NOT NULL UNIQUE,
    role       TEXT    NOT NULL,
    scope_kind TEXT    NOT NULL,
    scope_code TEXT,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE contact_read (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    role    TEXT    NOT NULL,
    case_id INTEGER NOT NULL REFERENCES case_record (id)
);
CREATE INDEX contact_read_case ON contact_read (case_id);
