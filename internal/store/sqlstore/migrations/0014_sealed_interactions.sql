-- Pending interactions travel sealed in the sign-in pages' forms instead of this table; only
-- their completion is recorded (so a replayed final form is refused), until they expire.
DROP TABLE interactions;
CREATE TABLE completed_interactions (
    id         TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX completed_interactions_expiry ON completed_interactions (expires_at);
