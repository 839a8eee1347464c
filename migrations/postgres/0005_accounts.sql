-- Staff accounts, their sessions, API keys for integrations, and the log of reads of
-- citizens' full contact details. Secrets are stored only as hashes: passwords as argon2id
-- PHC strings, session tokens and API keys as SHA-256 hex.
CREATE TABLE account (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL,
    scope_kind    TEXT    NOT NULL,
    scope_code    TEXT,
    password_hash TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);

CREATE TABLE session (
    token_hash TEXT    PRIMARY KEY,
    account_id BIGINT  NOT NULL REFERENCES account (id),
    csrf_token TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX session_expires ON session (expires_at);

CREATE TABLE api_key (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT    NOT NULL,
    key_hash   TEXT    NOT NULL UNIQUE,
    role       TEXT    NOT NULL,
    scope_kind TEXT    NOT NULL,
    scope_code TEXT,
    created_at BIGINT  NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE contact_read (
    id      BIGSERIAL PRIMARY KEY,
    at      BIGINT  NOT NULL,
    actor   TEXT    NOT NULL,
    role    TEXT    NOT NULL,
    case_id BIGINT  NOT NULL REFERENCES case_record (id)
);
CREATE INDEX contact_read_case ON contact_read (case_id);
