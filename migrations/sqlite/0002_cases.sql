-- Cases (工单): a current-state row per case plus its append-only events. The row is derived
-- from the events and rewritten with each one; events are never updated or deleted.
CREATE TABLE case_record (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket          TEXT    NOT NULL UNIQUE,     -- ZD20261129-000123
    tracking_token  TEXT    NOT NULL UNIQUE,
    idempotency_key TEXT    UNIQUE,
    channel         TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    category        TEXT    NOT NULL,
    urgency         TEXT    NOT NULL,
    grid            TEXT,
    lon             REAL,
    lat             REAL,
    submitted_at    INTEGER NOT NULL,            -- Unix seconds
    intake          TEXT    NOT NULL,            -- JSON: what was reported, and the route
    facts           TEXT    NOT NULL             -- JSON: the fold of the events
);
CREATE INDEX case_record_state ON case_record (state);
CREATE INDEX case_record_grid ON case_record (grid);
CREATE INDEX case_record_lonlat ON case_record (lon, lat);

CREATE TABLE case_event (
    case_id INTEGER NOT NULL REFERENCES case_record (id),
    seq     INTEGER NOT NULL,                    -- 1 is the submission
    at      INTEGER NOT NULL,                    -- Unix seconds
    actor   TEXT    NOT NULL,
    action  TEXT    NOT NULL,                    -- JSON
    PRIMARY KEY (case_id, seq)
);

-- The daily sequence of ticket codes.
CREATE TABLE ticket_counter (
    day TEXT PRIMARY KEY,                        -- YYYYMMDD, Asia/Shanghai
    n   INTEGER NOT NULL
);
