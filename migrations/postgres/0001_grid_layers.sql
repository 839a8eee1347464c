-- PostgreSQL + PostGIS schema. Grid layer versions are immutable once written; the published
-- layer is the layer of the latest publish event.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE layer (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,             -- RFC 3339, UTC
    created_by  TEXT    NOT NULL,
    grid_count  BIGINT  NOT NULL,
    seamless    BOOLEAN NOT NULL,
    report      JSONB   NOT NULL              -- the validation report
);

CREATE TABLE grid (
    layer_id    BIGINT  NOT NULL REFERENCES layer (id),
    position    BIGINT  NOT NULL,             -- order in the uploaded collection
    key         TEXT    NOT NULL,
    properties  JSONB   NOT NULL,
    geometry    geometry(MultiPolygon, 4326) NOT NULL,
    PRIMARY KEY (layer_id, key)
);
CREATE INDEX grid_geometry_gist ON grid USING GIST (geometry);

CREATE TABLE publish_event (
    id           BIGSERIAL PRIMARY KEY,
    layer_id     BIGINT  NOT NULL REFERENCES layer (id),
    published_at TEXT    NOT NULL,
    published_by TEXT    NOT NULL,
    forced       BOOLEAN NOT NULL,
    reason       TEXT
);

CREATE TABLE reference_item (
    kind        TEXT   NOT NULL,
    key         TEXT   NOT NULL,
    position    BIGINT NOT NULL,
    properties  JSONB  NOT NULL,
    geometry    geometry(Geometry, 4326),
    PRIMARY KEY (kind, key)
);
CREATE INDEX reference_item_geometry_gist ON reference_item USING GIST (geometry);
