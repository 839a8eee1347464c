-- Sampling audits: the sample drawn (with its seed, so it can be drawn again) and each review
-- visit's result, appended.
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  INTEGER NOT NULL,
    created_by  TEXT    NOT NULL,
    period_from INTEGER NOT NULL,
    period_to   INTEGER NOT NULL,
    rate        REAL    NOT NULL,
    seed        INTEGER NOT NULL,
    sample      TEXT    NOT NULL              -- JSON array of case ids
);
CREATE TABLE audit_result (
    audit_id INTEGER NOT NULL REFERENCES audit (id),
    case_id  INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    by       TEXT    NOT NULL,
    outcome  TEXT    NOT NULL,
    note     TEXT
);
