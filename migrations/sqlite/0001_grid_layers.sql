-- Grid layer versions: immutable once written; exactly one is published at a time (the one
-- of the latest publish event).
CREATE TABLE layer (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,             -- RFC 3339, UTC
    created_by  TEXT    NOT NULL,
    grid_count  INTEGER NOT NULL,
    seamless    INTEGER NOT NULL CHECK (seamless IN (0, 1)),
    report      TEXT    NOT NULL              -- the validation report (JSON)
);

CREATE TABLE grid (
    layer_id    INTEGER NOT NULL REFERENCES layer (id),
    position    INTEGER NOT NULL,             -- order in the uploaded collection
    key         TEXT    NOT NULL,
    properties  TEXT    NOT NULL,             -- JSON object
    geometry    TEXT    NOT NULL,             -- GeoJSON MultiPolygon, WGS84
    min_lon     REAL    NOT NULL,
    min_lat     REAL    NOT NULL,
    max_lon     REAL    NOT NULL,
    max_lat     REAL    NOT NULL,
    PRIMARY KEY (layer_id, key)
);
CREATE INDEX grid_bbox ON grid (layer_id, min_lon, max_lon, min_lat, max_lat);

CREATE TABLE publish_event (
    id           INTEGER PRIMARY KEY,
    layer_id     INTEGER NOT NULL REFERENCES layer (id),
    published_at TEXT    NOT NULL,
    published_by TEXT    NOT NULL,
    forced       INTEGER NOT NULL CHECK (forced IN (0, 1)),
    reason       TEXT
);

-- Reference data of the district: streets, communities (with geometry), workers,
-- departments, categories (JSON documents keyed by their code).
CREATE TABLE reference_item (
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL,
    position    INTEGER NOT NULL,
    properties  TEXT NOT NULL,
    geometry    TEXT,
    PRIMARY KEY (kind, key)
);
