-- Cases (工单): a current-state row per case plus its append-only events. The row is derived
-- from the events and rewritten with each one; events are never updated or deleted.
CREATE TABLE case_record (
    id              BIGSERIAL PRIMARY KEY,
    ticket          TEXT    NOT NULL UNIQUE,
    tracking_token  TEXT    NOT NULL UNIQUE,
    idempotency_key TEXT    UNIQUE,
    channel         TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    version         BIGINT  NOT NULL,
    category        TEXT    NOT NULL,
    urgency         TEXT    NOT NULL,
    grid            TEXT,
    location        geometry(Point, 4326),
    submitted_at    BIGINT  NOT NULL,
    intake          JSONB   NOT NULL,
    facts           JSONB   NOT NULL
);
CREATE INDEX case_record_state ON case_record (state);
CREATE INDEX case_record_grid ON case_record (grid);
CREATE INDEX case_record_location ON case_record USING GIST (location);

CREATE TABLE case_event (
    case_id BIGINT NOT NULL REFERENCES case_record (id),
    seq     BIGINT NOT NULL,
    at      BIGINT NOT NULL,
    actor   TEXT   NOT NULL,
    action  JSONB  NOT NULL,
    PRIMARY KEY (case_id, seq)
);

CREATE TABLE ticket_counter (
    day TEXT PRIMARY KEY,
    n   BIGINT NOT NULL
);
