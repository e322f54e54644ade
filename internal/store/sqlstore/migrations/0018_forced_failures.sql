-- Errors the test-control API asked the authorization endpoint to answer.
CREATE TABLE forced_failures (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    error       TEXT NOT NULL,
    description TEXT NOT NULL,
    remaining   INTEGER NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX forced_failures_order ON forced_failures (created_at, id);
