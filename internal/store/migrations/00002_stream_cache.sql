-- A cache of activity streams fetched from a sink (Strava's time, distance,
-- heart-rate... arrays) for the dashboard's band-versus-Strava charts, so a
-- page view does not spend the rate-limit budget twice.

-- +goose Up
CREATE TABLE stream_cache (
    sink        TEXT    NOT NULL,
    activity_id TEXT    NOT NULL,
    fetched_ms  INTEGER NOT NULL,
    data        BLOB    NOT NULL,  -- JSON as the sink returned it
    PRIMARY KEY (sink, activity_id)
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE stream_cache;
