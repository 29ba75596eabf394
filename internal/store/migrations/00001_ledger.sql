-- The sync ledger: every workout seen at a source, each (workout, sink)
-- pair's delivery state, which time windows of each source were listed
-- completely, and small key/value state.
--
-- Conventions: instants are Unix milliseconds UTC (INTEGER, suffix _ms);
-- durations are milliseconds; a summary value the source did not report is
-- NULL, never 0.

-- +goose Up
CREATE TABLE workouts (
    id            INTEGER PRIMARY KEY,
    source        TEXT    NOT NULL,
    source_id     TEXT    NOT NULL,
    key           TEXT    NOT NULL,  -- workout.Origin.Key(): the sinks' idempotency key
    fingerprint   TEXT    NOT NULL,
    start_ms      INTEGER NOT NULL,
    zone_offset_s INTEGER,           -- seconds east of UTC; NULL when unknown
    sport         TEXT    NOT NULL,  -- workout.Sport.String()
    distance_m    REAL,
    elapsed_ms    INTEGER,
    moving_ms     INTEGER,
    calories_kcal REAL,
    ascent_m      REAL,
    avg_hr        INTEGER,
    max_hr        INTEGER,
    steps         INTEGER,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms  INTEGER NOT NULL,
    UNIQUE (source, source_id),
    UNIQUE (key)
) STRICT;

CREATE INDEX workouts_by_start ON workouts (start_ms, id);

CREATE TABLE deliveries (
    workout_id         INTEGER NOT NULL REFERENCES workouts (id) ON DELETE CASCADE,
    sink               TEXT    NOT NULL,
    state              TEXT    NOT NULL
        CHECK (state IN ('pending', 'uploading', 'done', 'duplicate', 'skipped', 'failed')),
    idem_key           TEXT,     -- the key the last upload was sent under
    upload_id          TEXT,     -- the sink's ID for an accepted upload
    uploading_since_ms INTEGER,
    activity_id        TEXT,
    matched_by         TEXT,     -- duplicate: how the existing activity was recognised
    skip_reason        TEXT,
    fail_class         TEXT,     -- errclass.Class.String()
    fail_message       TEXT,
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_retry_ms      INTEGER,  -- failed: when it may be tried again; NULL = not until the source changes
    delivered_fingerprint TEXT,  -- the workout's fingerprint when it was sent or matched
    updated_ms         INTEGER NOT NULL,
    PRIMARY KEY (workout_id, sink),
    CHECK (state <> 'uploading' OR (idem_key IS NOT NULL AND uploading_since_ms IS NOT NULL)),
    CHECK (state NOT IN ('done', 'duplicate') OR activity_id IS NOT NULL),
    CHECK (state <> 'failed' OR fail_class IS NOT NULL)
) STRICT, WITHOUT ROWID;

CREATE INDEX deliveries_by_state ON deliveries (sink, state, next_retry_ms);

CREATE TABLE coverage (
    source  TEXT    NOT NULL,
    from_ms INTEGER NOT NULL,
    to_ms   INTEGER NOT NULL,
    PRIMARY KEY (source, from_ms),
    CHECK (to_ms > from_ms)
) STRICT, WITHOUT ROWID;

CREATE TABLE meta (
    key        TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE meta;
DROP TABLE coverage;
DROP TABLE deliveries;
DROP TABLE workouts;
