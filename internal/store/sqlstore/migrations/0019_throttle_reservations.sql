-- Throttling reserves a credential check before it runs (store.Throttle.ReserveAttempt): a
-- row of login_failures with pending_until > 0 is a reservation in flight until then, named by
-- id (one row per throttle key it counts against); a row with pending_until = 0 is a failure
-- recorded at `at` (older rows have no id).
ALTER TABLE login_failures ADD COLUMN id TEXT;
ALTER TABLE login_failures ADD COLUMN pending_until BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX login_failures_id_key ON login_failures (id, key);
