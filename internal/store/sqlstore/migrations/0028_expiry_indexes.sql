-- Pruning deletes expired sessions and authorization codes in batches (DeleteExpired), each
-- found by its expiry instead of by reading the whole table once per batch.
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX auth_codes_expiry ON auth_codes (expires_at);
