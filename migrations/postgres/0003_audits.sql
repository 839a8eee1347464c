-- Sampling audits: the sample drawn (with its seed, so it can be drawn again) and each review
-- visit's result, appended.
CREATE TABLE audit (
    id          BIGSERIAL PRIMARY KEY,
    created_at  BIGINT  NOT NULL,
    created_by  TEXT    NOT NULL,
    period_from BIGINT  NOT NULL,
    period_to   BIGINT  NOT NULL,
    rate        DOUBLE PRECISION NOT NULL,
    seed        BIGINT  NOT NULL,
    sample      JSONB   NOT NULL
);
CREATE TABLE audit_result (
    audit_id BIGINT NOT NULL REFERENCES audit (id),
    case_id  BIGINT NOT NULL,
    at       BIGINT NOT NULL,
    by       TEXT   NOT NULL,
    outcome  TEXT   NOT NULL,
    note     TEXT
);
